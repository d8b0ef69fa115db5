/**
 * The image of the request's area, in Chromium's own encoding: the viewport; the full page or its
 * vertical strip, measured, held to the height, width and pixel limits and taken in sections when taller
 * than one capture can hold; an element's box. Stitching and re-encoding are encode.ts's.
 */
import { ApiError } from '../errors.js';
import type { CaptureSpec, ImageFormat } from './capture-spec.js';
import type { CdpSession } from './cdp.js';
import type { AttemptScope } from './deadline.js';
import { QUALITY } from './encode.js';
import { heightWithinBudget } from './image-budget.js';
import { describeTarget, FIND_ELEMENT, selectorError, type IsolatedWorld } from './isolated-world.js';

/** Largest area Chromium captures in one piece (its texture limit); taller pages are captured in sections. */
export const SINGLE_CAPTURE_LIMIT = 16_384;
/** Height of one section of a tall page (measured: ~130 ms per 800x4000 section; fewer, larger sections win). */
const SECTION_HEIGHT = 8_192;
/** WebP cannot encode an image taller or wider than this (a format limit). */
export const WEBP_MAX_DIMENSION = 16_383;

/** The limits of one image (CaptureSettings' share of them). */
export interface ImageLimits {
  maxFullpageHeight: number;
  maxOutputPixels?: number;
}

export interface Shot {
  /** One image in the CDP format, or sections to stitch (PNG). */
  data: Buffer;
  cdpFormat: 'jpeg' | 'png' | 'webp';
  sections?: Array<{ data: Buffer; top: number }>;
  width: number;
  height: number;
  truncatedFromHeight?: number;
}

function cdpFormatFor(format: ImageFormat): 'jpeg' | 'png' | 'webp' {
  return format === 'jpg' ? 'jpeg' : format === 'webp' ? 'webp' : 'png';
}

export async function screenshot(
  session: CdpSession,
  world: IsolatedWorld,
  request: CaptureSpec,
  scope: AttemptScope,
  settings: ImageLimits,
): Promise<Shot> {
  const cdpFormat = cdpFormatFor(request.format);
  const base = {
    format: cdpFormat,
    ...(cdpFormat === 'png' ? {} : { quality: QUALITY }),
    optimizeForSpeed: true,
  };
  const area = request.capture;
  // Clips are in CSS pixels; the image is in device pixels (scale times larger on each side).
  const scale = request.deviceScaleFactor ?? 1;
  const device = (css: number) => Math.round(css * scale);
  if (area.kind === 'viewport') {
    const data = await captureOnce(session, scope, base);
    return { data, cdpFormat, width: device(request.width), height: device(request.height) };
  }
  if (area.kind === 'fullpage' || area.kind === 'vertical') {
    const metrics = await scope.run(
      session.send<{ cssContentSize: { width: number; height: number } }>('Page.getLayoutMetrics'),
    );
    const contentHeight = Math.max(1, Math.ceil(metrics.cssContentSize.height));
    const contentWidth = Math.ceil(metrics.cssContentSize.width);
    // The limits hold for the image, in device pixels.
    let maxHeight = Math.floor(settings.maxFullpageHeight / scale);
    let maxWidth = Math.floor(SINGLE_CAPTURE_LIMIT / scale);
    if (request.format === 'webp') {
      maxHeight = Math.min(maxHeight, Math.floor(WEBP_MAX_DIMENSION / scale));
      maxWidth = Math.floor(WEBP_MAX_DIMENSION / scale);
    }
    // fullpage: the whole document, wide pages included; vertical: the whole height at the viewport width.
    const width =
      area.kind === 'fullpage' ? Math.min(Math.max(request.width, contentWidth), maxWidth) : request.width;
    // A very wide page gets a shorter image, so that the image's width x height (device pixels, scale
    // squared times the CSS area) stays within the pixel budget.
    const pixelBudget = settings.maxOutputPixels ?? Number.POSITIVE_INFINITY;
    const height = heightWithinBudget(width, Math.min(contentHeight, maxHeight), scale, pixelBudget);
    const truncated = contentHeight > height ? { truncatedFromHeight: contentHeight } : {};
    if (device(height) <= SINGLE_CAPTURE_LIMIT) {
      const data = await captureOnce(session, scope, {
        ...base,
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width, height, scale: 1 },
      });
      return { data, cdpFormat, width: device(width), height: device(height), ...truncated };
    }
    // Taller than one capture can hold: sections, stitched with sharp.
    const sections: Array<{ data: Buffer; top: number }> = [];
    const sectionStep = Math.floor(SECTION_HEIGHT / scale);
    for (let top = 0; top < height; top += sectionStep) {
      const sectionHeight = Math.min(sectionStep, height - top);
      const data = await captureOnce(session, scope, {
        format: 'png',
        optimizeForSpeed: true,
        captureBeyondViewport: true,
        clip: { x: 0, y: top, width, height: sectionHeight, scale: 1 },
      });
      sections.push({ data, top: device(top) });
    }
    return {
      data: Buffer.alloc(0),
      cdpFormat: 'png',
      sections,
      width: device(width),
      height: device(height),
      ...truncated,
    };
  }
  // An element: its box in page coordinates.
  let box: { x: number; y: number; width: number; height: number } | null;
  try {
    box = await world.evaluate(
      `(async (target) => {
        const find = ${FIND_ELEMENT};
        let element = find(target);
        const until = Date.now() + 2000;
        while (!element && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          element = find(target);
        }
        if (!element) return null;
        const rect = element.getBoundingClientRect();
        return { x: rect.left + window.scrollX, y: rect.top + window.scrollY, width: rect.width, height: rect.height };
      })(${JSON.stringify(area)})`,
      { awaitPromise: true },
    );
  } catch (error) {
    throw selectorError(error, area);
  }
  if (!box) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
      `No element matched the ${describeTarget(area)} (capture)`,
    );
  }
  if (box.width < 1 || box.height < 1) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE',
      `The element matched by the ${describeTarget(area)} has no size on the page`,
    );
  }
  // The element's image keeps within Chromium's side limit and the pixel budget; a taller one is cut.
  const width = Math.min(box.width, SINGLE_CAPTURE_LIMIT / scale);
  const height = Math.min(
    box.height,
    SINGLE_CAPTURE_LIMIT / scale,
    heightWithinBudget(width, box.height, scale, settings.maxOutputPixels ?? Number.POSITIVE_INFINITY),
  );
  const data = await captureOnce(session, scope, {
    ...base,
    captureBeyondViewport: true,
    clip: { x: box.x, y: box.y, width, height, scale: 1 },
  });
  const truncated = height < box.height ? { truncatedFromHeight: Math.ceil(box.height) } : {};
  return { data, cdpFormat, width: device(width), height: device(height), ...truncated };
}

/**
 * Chromium answers "Unable to capture screenshot" when asked before the page has produced its first
 * compositor frame (seen on the first capture after a launch). Waiting two animation frames and asking
 * again fixes it; other errors are not retried.
 */
async function captureOnce(
  session: CdpSession,
  scope: AttemptScope,
  params: Record<string, unknown>,
): Promise<Buffer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await scope.run(session.send<{ data: string }>('Page.captureScreenshot', params));
      return Buffer.from(result.data, 'base64');
    } catch (error) {
      if (attempt >= 3 || !/Unable to capture screenshot/i.test((error as Error).message)) throw error;
      await scope
        .run(
          session.send('Runtime.evaluate', {
            expression:
              'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))',
            awaitPromise: true,
          }),
        )
        .catch(() => undefined);
    }
  }
}
