import { z } from 'zod';
import { ApiError } from '../errors.js';
import { FORMATS, OPTIONS, VISION_DEFICIENCIES } from '../engine/capture-spec.js';
import type { ScreenshotRequest } from './screenshot-request.js';

const area = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('viewport') }),
  z.object({ kind: z.literal('fullpage') }),
  z.object({ kind: z.literal('vertical') }),
  z.object({ kind: z.literal('selector'), selector: z.string() }),
  z.object({ kind: z.literal('xpath'), xpath: z.string() }),
]);

/**
 * The normalised request as the queue stores it (JSON of `ScreenshotRequest`). Read back through this
 * schema so that a row written by another version, or damaged, fails its job with a clear error instead
 * of reaching the engine half-formed. Unknown keys are kept: a newer field passes through untouched.
 */
const queuedRequest = z
  .object({
    url: z.string().min(1),
    hostname: z.string(),
    format: z.enum(FORMATS),
    capture: area,
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    renderingWaitMs: z.number().int().min(0),
    waitForSelector: area.optional(),
    timeoutMs: z.number().int().positive(),
    js: z.string().optional(),
    options: z.array(z.enum(OPTIONS)),
    autoScroll: z.boolean(),
    visionDeficiency: z.enum(VISION_DEFICIENCIES),
    country: z.string().optional(),
    webhookName: z.string().optional(),
    cache: z.object({ ttlSeconds: z.number().int().min(0), clear: z.boolean() }).optional(),
  })
  .loose();

/** The stored request of a queued job, checked; throws a catalogue error when it cannot be used. */
export function readQueuedRequest(stored: string): ScreenshotRequest {
  let json: unknown;
  try {
    json = JSON.parse(stored);
  } catch {
    json = undefined;
  }
  const parsed = queuedRequest.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || 'request').join(', ');
    throw new ApiError(
      'ERR::API::INTERNAL_ERROR',
      `The queued request could not be read back (${where}); submit the screenshot again`,
    );
  }
  return parsed.data as ScreenshotRequest;
}
