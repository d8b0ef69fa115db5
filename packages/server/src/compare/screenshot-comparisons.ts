import type { Caller } from '../accounts/projects.js';
import { ApiError } from '../errors.js';
import type { LogStore, ScreenshotLog } from '../logs/log-store.js';
import type { BlobStore } from '../results/blob-store.js';
import { compareImages, type ImageComparison } from './compare-images.js';

/**
 * Two stored screenshots of the caller's project and environment, compared (GET /screenshot/compare).
 * Every way a log can fail to be a comparable image is refused with its own reason: not found (another
 * project's or environment's log is simply not found), not a screenshot, a capture that failed or is still
 * pending, a PDF, an image swept by retention.
 */
export class ScreenshotComparisons {
  constructor(
    private readonly logs: LogStore,
    private readonly blobs: BlobStore,
  ) {}

  async compare(
    caller: Caller,
    baseUuid: string,
    headUuid: string,
    changeThreshold?: number,
  ): Promise<ImageComparison> {
    const [base, head] = await Promise.all([
      this.storedImage(caller, baseUuid, 'base'),
      this.storedImage(caller, headUuid, 'head'),
    ]);
    return compareImages(base, head, changeThreshold === undefined ? {} : { changeThreshold });
  }

  private async storedImage(caller: Caller, logUuid: string, role: 'base' | 'head'): Promise<Buffer> {
    const log = await this.logs.find(caller.project.id, logUuid, caller.env);
    if (!log) {
      throw new ApiError(
        'ERR::API::NOT_FOUND',
        `No log ${logUuid} (${role}) in this project and environment (${caller.env}; it may have expired)`,
      );
    }
    const blobKey = comparableBlob(log, role);
    const bytes = await this.blobs.get(blobKey).catch((error: unknown): never => {
      throw new ApiError(
        'ERR::API::SERVICE_UNAVAILABLE',
        `The stored screenshot of log ${logUuid} cannot be read right now (${(error as Error).message}); retry in a moment`,
        { retryAfterSeconds: 5, cause: error },
      );
    });
    if (!bytes) {
      throw new ApiError(
        'ERR::COMPARE::IMAGE_GONE',
        `The screenshot of log ${logUuid} (${role}) is no longer stored (images are kept for the project's retention): capture the page again and compare with the new log`,
      );
    }
    return bytes;
  }
}

/** The blob key of a log's image, or the catalogue error saying why that log has no image to compare. */
function comparableBlob(log: ScreenshotLog, role: 'base' | 'head'): string {
  const { log_uuid: uuid } = log;
  if ((log.kind ?? 'screenshot') !== 'screenshot') {
    throw new ApiError(
      'ERR::COMPARE::NOT_A_SCREENSHOT',
      `Log ${uuid} (${role}) is a ${log.kind} log, not a screenshot: compare two logs of GET /screenshot`,
    );
  }
  if (log.http_status === 0) {
    throw new ApiError(
      'ERR::COMPARE::NOT_A_SCREENSHOT',
      `The capture of log ${uuid} (${role}) has not finished yet: compare it once its webhook has been delivered`,
    );
  }
  if (log.content_type === 'application/pdf') {
    throw new ApiError(
      'ERR::COMPARE::NOT_AN_IMAGE',
      `Log ${uuid} (${role}) is a PDF capture, not an image: compare screenshots taken as png, jpg, webp or gif`,
    );
  }
  if (log.http_status >= 300 || !log.blob_key) {
    throw new ApiError(
      'ERR::COMPARE::NOT_A_SCREENSHOT',
      `The capture of log ${uuid} (${role}) failed (${log.error_code ?? `HTTP ${log.http_status}`}), so it has no image: compare two successful captures`,
    );
  }
  return log.blob_key;
}
