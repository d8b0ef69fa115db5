import { ApiError } from '../errors.js';
import type { CaptureSpec } from './capture-spec.js';

/**
 * SNAPWIRE_MAX_OUTPUT_PIXELS counts the pixels of the image, not of the page: a capture at
 * device_scale_factor s draws s x s image pixels for every CSS pixel. Captures are asked for in CSS pixels
 * (clips, the viewport), so every limit is turned into CSS pixels here, at the request's scale.
 */

/** Image pixels Chromium draws for `css` CSS pixels at `scale` (it rounds; counted up, to stay within). */
export function imagePixels(css: number, scale: number): number {
  return Math.ceil(css * scale - 1e-9);
}

/**
 * The tallest CSS height (at most `height`) whose image, `width` CSS pixels wide at `scale`, holds at most
 * `maxPixels` pixels. At least 1 px: a page is never captured empty.
 */
export function heightWithinBudget(width: number, height: number, scale: number, maxPixels: number): number {
  const rows = Math.floor(maxPixels / imagePixels(width, scale));
  return Math.max(1, Math.min(height, Math.floor(rows / scale)));
}

/**
 * A viewport capture's image is the viewport itself, fixed by the request (resolution, device_scale_factor,
 * or a viewport_device preset's density): over the budget it is refused, since no part of it could be
 * left out the way a full page is cut. Full pages, vertical and element captures are cut to the budget
 * instead (engine/screenshot.ts), as their size comes from the page.
 */
export function checkViewportImage(
  request: Pick<CaptureSpec, 'capture' | 'format' | 'width' | 'height' | 'deviceScaleFactor' | 'device'>,
  maxOutputPixels: number | undefined,
): void {
  if (request.format === 'pdf' || request.capture.kind !== 'viewport' || maxOutputPixels === undefined)
    return;
  const scale = request.deviceScaleFactor ?? 1;
  const width = imagePixels(request.width, scale);
  const height = imagePixels(request.height, scale);
  if (width * height <= maxOutputPixels) return;
  const density = request.device ? ` (viewport_device "${request.device.name}")` : '';
  throw new ApiError(
    'ERR::SCRAPE::CONFIG_ERROR',
    `resolution ${request.width}x${request.height} at device_scale_factor ${scale}${density} makes a ${width}x${height} image (${(width * height).toLocaleString('en-US')} pixels); this service allows at most ${maxOutputPixels.toLocaleString('en-US')} pixels an image (SNAPWIRE_MAX_OUTPUT_PIXELS): lower the resolution or the device_scale_factor`,
  );
}
