import { Injectable } from '@nestjs/common';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { badRequest } from './problem.js';

/**
 * Validates every parameter declared with `{ schema }` (Nest 12's Standard
 * Schema support), answering with a problem that names each bad field by where
 * it came from (`body.title`, `query.limit`, `param.id`).
 */
@Injectable()
export class SchemaValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const schema = metadata.schema;
    if (!schema || metadata.type === 'custom') return value;
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw badRequest([{ field: 'body', message: 'expected a JSON object' }]);
    }
    const result = await schema['~standard'].validate(value);
    if (!result.issues) return result.value;
    const where = metadata.type === 'param' ? 'param' : metadata.type;
    throw badRequest(
      result.issues.map((issue) => {
        const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p));
        return { field: [where, metadata.data, ...path].filter(Boolean).join('.'), message: issue.message };
      }),
    );
  }
}
