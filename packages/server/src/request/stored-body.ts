import { z } from 'zod';
import { ApiError } from '../errors.js';

/**
 * A request body kept with a queued job: inline (base64, in the job row) when small, else a key of the
 * blob store, so that a large document never bloats the job table that every claim reads.
 */
export const storedBody = z.union([
  z.object({ inline: z.string() }).strict(),
  z.object({ blob: z.string().min(1) }).strict(),
]);
export type StoredBody = z.infer<typeof storedBody>;

/** Bodies up to this size are kept in the job row; larger ones in the blob store. */
export const INLINE_BODY_LIMIT = 64 * 1024;

/** Reads a queued job's stored JSON through `schema`; a row it cannot use fails the job with a clear error. */
export function readQueued<T>(stored: string, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(stored);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || 'request').join(', ');
    throw new ApiError(
      'ERR::API::INTERNAL_ERROR',
      `The queued request could not be read back (${where}); submit the ${what} again`,
    );
  }
  return parsed.data;
}
