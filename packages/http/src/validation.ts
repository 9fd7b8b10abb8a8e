import { Injectable } from '@nestjs/common';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { badRequest } from './problem.js';

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

function outcome(result: Result, field: string): unknown {
  if (!result.issues) return result.value;
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
