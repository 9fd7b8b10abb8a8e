import { z } from 'zod';
import { Problem } from '@portal/contracts/api';

export interface RouteDoc {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI style, with `{id}` for parameters. */
  readonly path: string;
  readonly summary: string;
  /** Needs a bearer token. */
  readonly auth?: boolean;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly headers?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

const json = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;

function parameters(where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined) {
  if (!schema) return [];
  const shape = json(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(shape.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (shape.required ?? []).includes(name),
    schema: s,
  }));
}

/**
 * The OpenAPI 3 document of a service, built from the same zod schemas that
 * validate its requests, so the two cannot drift apart.
 */
export function openApiDocument(info: OpenApiInfo, routes: readonly RouteDoc[]): Record<string, unknown> {
  const problem = { description: 'problem', content: { 'application/problem+json': { schema: json(Problem, 'output') } } };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = response.schema
        ? { description: response.description, content: { 'application/json': { schema: json(response.schema, 'output') } } }
        : { description: response.description };
    }
    if (route.body || route.query || route.params || route.headers) responses['400'] ??= problem;
    if (route.auth) responses['401'] ??= problem;
    if (route.params) responses['404'] ??= problem;
    (paths[route.path] ??= {})[route.method] = {
      summary: route.summary,
      ...(route.auth ? { security: [{ bearer: [] }] } : {}),
      parameters: [...parameters('path', route.params), ...parameters('query', route.query), ...parameters('header', route.headers)],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info,
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  };
}
