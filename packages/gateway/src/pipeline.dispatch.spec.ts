import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@portal/observability';
import type { Middleware } from './edge.policies.js';
import { pipelineDispatch } from './pipeline.dispatch.js';
import type { DispatchOptions, EgGatewayConfig } from './pipeline.dispatch.js';

/** Policies that say who answered, so a test sees which pipeline ran and in what order. */
const registry = {
  resolve: (name: string) => ({
    policy: (action: Record<string, unknown>): Middleware => {
      if (name === 'tag') {
        return (req, _res, next) => {
          req.headers['x-trail'] = `${req.headers['x-trail'] ?? ''}${String(action.as)},`;
          next();
        };
      }
      if (name === 'answer') {
        return (req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`${String(action.as)} ${String(req.headers['x-trail'] ?? '')}`);
        };
      }
      if (name === 'throws') return () => { throw new Error('broken policy'); };
      return (_req, _res, next) => next();
    },
  }),
};

const base = (config: EgGatewayConfig & { policies?: string[] }): DispatchOptions => ({
  config,
  egConfig: {},
  registry,
  ours: new Set(['tag', 'answer', 'throws', 'pass']),
  ownRoutes: ['/health/live'],
  otherExtensions: 0,
  logger: createLogger('test', { write: () => undefined }),
});

const pipelines = {
  api: { apiEndpoints: ['api'], policies: [{ tag: [{ action: { as: 'first' } }, { action: { as: 'second' } }] }, { answer: { action: { as: 'api' } } }] },
  rest: { apiEndpoints: ['rest'], policies: [{ answer: [{ action: { as: 'rest' } }] }] },
};
const endpoints = { api: { paths: ['/api/x', '/api/x/*'] }, rest: { paths: '*' } };

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server where the dispatch goes first and everything it leaves answers "express". */
async function serve(options: DispatchOptions): Promise<string> {
  const dispatch = pipelineDispatch(options);
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!dispatch(req, res)) res.end('express');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const text = async (url: string) => {
  const res = await fetch(url);
  return `${res.status} ${await res.text()}`;
};

describe('pipelineDispatch', () => {
  it("runs a pipeline's policies in the config's order, and matches paths as Express does", async () => {
    const url = await serve(base({ apiEndpoints: endpoints, pipelines }));
    expect(await text(`${url}/api/x/items/1?page=2`)).toBe('200 api first,second,');
    expect(await text(`${url}/API/X/`)).toBe('200 api first,second,');
    expect(await text(`${url}/api/x`)).toBe('200 api first,second,');
    // Not /api/x: the next endpoint in order, the catch-all.
    expect(await text(`${url}/api/xy`)).toBe('200 rest ');
  });

  it("leaves the plugin's own routes, undecodable paths, and pipelines with a condition or another policy to express-gateway", async () => {
    const options = base({
      apiEndpoints: endpoints,
      pipelines: { ...pipelines, api: { apiEndpoints: ['api'], policies: [{ answer: { action: { as: 'api' }, condition: { name: 'always' } } }] } },
    });
    const url = await serve(options);
    expect(await text(`${url}/health/live`)).toBe('200 express');
    expect(await text(`${url}/api/x/1`)).toBe('200 express');
    expect(await text(`${url}/anything/%E0%A4%A`)).toBe('200 express');
    expect(pipelineDispatch(options).plan).toEqual({ direct: ['rest'], express: { api: 'policy answer has a condition' } });

    const stock = pipelineDispatch(base({ apiEndpoints: endpoints, pipelines: { ...pipelines, rest: { apiEndpoints: ['rest'], policies: [{ proxy: null }] } } }));
    expect(stock.plan.express).toEqual({ rest: 'policy proxy is not ours' });
  });

  it('leaves everything to express-gateway when an endpoint is bound to a host or methods, or another plugin is loaded', () => {
    const hosts = pipelineDispatch(base({ apiEndpoints: { ...endpoints, api: { host: 'example.com', paths: '/api/x' } }, pipelines }));
    expect(hosts.plan.direct).toEqual([]);
    expect(hosts.plan.express.rest).toBe('api: bound to a host');
    const methods = pipelineDispatch(base({ apiEndpoints: { ...endpoints, rest: { paths: '*', methods: ['GET'] } }, pipelines }));
    expect(methods.plan.direct).toEqual([]);
    const other = pipelineDispatch({ ...base({ apiEndpoints: endpoints, pipelines }), otherExtensions: 1 });
    expect(other.plan.direct).toEqual([]);
    const stockPolicy = pipelineDispatch(base({ apiEndpoints: endpoints, pipelines, policies: ['tag', 'oauth2'] }));
    expect(stockPolicy.plan.express.api).toBe('policy oauth2 is not ours');
  });

  it('answers a problem document when a policy throws (500) or none answers (404)', async () => {
    const url = await serve(
      base({
        apiEndpoints: endpoints,
        pipelines: { api: { apiEndpoints: ['api'], policies: [{ throws: null }] }, rest: { apiEndpoints: ['rest'], policies: [{ pass: null }] } },
      }),
    );
    const broken = await fetch(`${url}/api/x`);
    expect(broken.status).toBe(500);
    expect(broken.headers.get('content-type')).toBe('application/problem+json');
    const unanswered = await fetch(`${url}/nowhere?q=1`);
    expect(unanswered.status).toBe(404);
    expect(await unanswered.json()).toMatchObject({ status: 404, detail: 'no route for GET /nowhere' });
  });
});
