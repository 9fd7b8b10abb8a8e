import { z } from 'zod';
import { Problem } from '@portal/contracts/api';

export interface RouteDoc {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI style, with `{id}` for parameters. */
  readonly path: string;
  readonly summary: string;
  /** Needs a bearer token (true), or takes one it then checks (`'optional'`: the reader of a paid episode). */
  readonly auth?: boolean | 'optional';
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

/**
 * What validation.ts accepts as text: no C0 control but tab, line feed and
 * carriage return, no DEL. Every request string without an enum or a format
 * of its own carries it, so the documents admit exactly what is kept.
 */
const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$';

function withTextPattern(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) withTextPattern(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  if (schema.type === 'string' && !('enum' in schema) && !('const' in schema) && !('format' in schema)) {
    // A string with a pattern of its own (`\S`: not blank) must match both.
    if ('pattern' in schema) schema.allOf = [...((schema.allOf as unknown[] | undefined) ?? []), { pattern: TEXT_PATTERN }];
    else schema.pattern = TEXT_PATTERN;
  }
  for (const value of Object.values(schema)) withTextPattern(value);
}

const json = (schema: z.ZodType, io: 'input' | 'output') => {
  const document = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  if (io === 'input') withTextPattern(document);
  return document;
};

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
  // Every error is a problem document (filter.ts), whatever schema a route names for it.
  const problemSchema = json(Problem, 'output');
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      if (Number(status) >= 400) responses[status] = problem(response.description);
      else if (response.schema) responses[status] = { description: response.description, content: { 'application/json': { schema: json(response.schema, 'output') } } };
      else responses[status] = { description: response.description };
    }
    // What the shared edge (app.ts, validation.ts, auth.ts) answers on any route of the kind.
    if (route.body || route.query || route.params || route.headers) responses['400'] ??= problem('a field is invalid: `errors` names each');
    if (route.auth) responses['401'] ??= problem(route.auth === 'optional' ? 'a bearer token was sent and is not valid' : 'no valid bearer token');
    if (route.params) responses['404'] ??= problem('no such resource');
    if (route.body) {
      responses['413'] ??= problem('the body is larger than the service accepts');
      responses['415'] ??= problem('the body is not application/json');
    }
    responses['503'] ??= problem('the instance is shutting down, or a dependency is down; Retry-After says when to try again');
    (paths[route.path] ??= {})[route.method] = {
      summary: route.summary,
      // An empty requirement beside the bearer one: either is enough (OpenAPI 3.0, 4.8.10).
      ...(route.auth === 'optional' ? { security: [{}, { bearer: [] }] } : route.auth ? { security: [{ bearer: [] }] } : {}),
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
