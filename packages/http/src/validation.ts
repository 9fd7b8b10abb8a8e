import { Injectable } from '@nestjs/common';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { badRequest } from './problem.js';
import type { FieldError } from './problem.js';

/** A Standard Schema (zod, valibot, ...), as Nest 12 takes in `@Param(name, { schema })`. */
export type Schema = NonNullable<ArgumentMetadata['schema']>;
type Result = Awaited<ReturnType<Schema['~standard']['validate']>>;

/**
 * `value` checked against `schema`: the parsed value, or a 400 problem naming
 * each bad field below `field` (`param.id`, `body.title`). Synchronous when the
 * schema is (zod's are, unless they refine asynchronously): a promise per
 * parameter is a measurable cost on a hot read path.
 */
export function validated(schema: Schema, value: unknown, field: string): unknown {
  const result = schema['~standard'].validate(value);
  return result instanceof Promise ? result.then((r) => outcome(r, field)) : outcome(result, field);
}

// C0 controls but tab, line feed and carriage return (a multi-line body has them), DEL,
// and, with the u flag, only a surrogate that is not half of a pair. PostgreSQL
// refuses U+0000 in text (a 500 if it got that far), and a lone surrogate would
// be stored as U+FFFD: either way the client's text would not be what is kept.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uD800-\uDFFF]/u;

/** Why `text` cannot be stored as it is, or undefined when it can. */
export function notTextReason(text: string): string | undefined {
  const found = NOT_TEXT.exec(text)?.[0];
  if (found === undefined) return undefined;
  const code = `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return found >= '\uD800' ? `contains a lone surrogate (${code})` : `contains a control character (${code})`;
}

/**
 * Every string in a parsed request (at any depth) that is not storable text.
 * Checked here, once, for every body, query and path parameter of every
 * service, rather than in each schema, so no field can forget it; on what the
 * schema kept, so an unknown field (dropped) cannot fail a request. The API
 * documents say the same with a pattern on every such string (openapi.ts).
 */
function notText(value: unknown, field: string): FieldError[] {
  if (typeof value === 'string') {
    const reason = notTextReason(value);
    return reason === undefined ? [] : [{ field, message: reason }];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => notText(v, `${field}.${key}`));
}

function outcome(result: Result, field: string): unknown {
  if (!result.issues) {
    const garbled = notText(result.value, field);
    if (garbled.length > 0) throw badRequest(garbled);
    return result.value;
  }
  throw badRequest(
    result.issues.map((issue) => {
      const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p));
      return { field: [field, ...path].filter(Boolean).join('.'), message: issue.message };
    }),
  );
}

/**
 * Validates every parameter declared with `{ schema }` (Nest 12's Standard
 * Schema support), answering with a problem that names each bad field by where
 * it came from (`body.title`, `query.limit`, `param.id`).
 */
@Injectable()
export class SchemaValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const schema = metadata.schema;
    if (!schema || metadata.type === 'custom') return value;
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw badRequest([{ field: 'body', message: 'expected a JSON object' }]);
    }
    return validated(schema, value, [metadata.type, metadata.data].filter(Boolean).join('.'));
  }
}
