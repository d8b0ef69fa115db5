import { ApiError } from '../errors.js';
import type { BlobStore } from '../results/blob-store.js';
import { INLINE_BODY_LIMIT, type StoredBody } from '../request/stored-body.js';

/**
 * Keeps a request body for a queued job: in the job row when small, in the blob store when large.
 * Called before the acceptance transaction (a blob is written first; one left behind by a refused
 * acceptance is swept by retention like any unreferenced blob).
 */
export async function storeBody(blobs: BlobStore, bytes: Buffer): Promise<StoredBody> {
  if (bytes.length <= INLINE_BODY_LIMIT) return { inline: bytes.toString('base64') };
  try {
    return { blob: await blobs.put(bytes) };
  } catch (error) {
    throw new ApiError(
      'ERR::API::SERVICE_UNAVAILABLE',
      `The request body could not be stored for the queued job (${blobs.kind} blob store: ${(error as Error).message}); retry in a moment`,
      { retryAfterSeconds: 5, cause: error },
    );
  }
}

/**
 * A queued job's body. A blob store that cannot be read is SERVICE_UNAVAILABLE (the job waits and runs
 * later); a body that is gone fails the job with a clear error.
 */
export async function loadBody(blobs: BlobStore, stored: StoredBody): Promise<Buffer> {
  if ('inline' in stored) return Buffer.from(stored.inline, 'base64');
  let bytes: Buffer | undefined;
  try {
    bytes = await blobs.get(stored.blob);
  } catch (error) {
    throw new ApiError(
      'ERR::API::SERVICE_UNAVAILABLE',
      `The queued request body cannot be read right now (${(error as Error).message}); the job runs again later`,
      { retryAfterSeconds: 5, cause: error },
    );
  }
  if (!bytes) {
    throw new ApiError(
      'ERR::API::INTERNAL_ERROR',
      `The queued request body is missing from the ${blobs.kind} blob store (a node-local store in a fleet? use SNAPWIRE_BLOB_STORE=s3://…); submit the request again`,
    );
  }
  return bytes;
}
