import type { CaptureSpec } from './capture-spec.js';
import { CONTENT_TYPES } from './encode.js';
import { checkViewportImage } from './image-budget.js';
import type { PageSession } from './page-session.js';
import type { PrintedPdf } from './pdf.js';
import type { RefusedRequests } from './refused-requests.js';
import { checkSelectors } from './selector-check.js';

export interface CaptureTimings {
  navigationMs: number;
  waitMs: number;
  captureMs: number;
  encodeMs: number;
}

export interface CaptureResult {
  image: Buffer;
  contentType: string;
  upstreamStatus: number;
  finalUrl: string;
  timings: CaptureTimings;
  /** Height of the page (or the captured element) when it was taller than the limits and the image was cut. */
  truncatedFromHeight?: number;
  /** format=pdf: the document had more pages than the limits allow; the PDF stops after this page. */
  truncatedAtPage?: number;
  /** What the egress guard refused while the page loaded (not loaded, counted for the log). */
  refused?: RefusedRequests;
  /** The page's visible text when the settings asked for it (monitors compare it), at most MAX_PAGE_TEXT. */
  text?: string;
  /** hide_selectors entries that matched no element when the page was captured (a monitor warns of them). */
  unmatchedHideSelectors?: string[];
}

/**
 * The Screenshot API's order of steps on a fresh page (page-session.ts): set up, navigate, the waits
 * (banners, js, wait_for_selector, click, auto_scroll, rendering_wait, fonts, hide_selectors), then the
 * image or the PDF. Every step is bounded by the job's scope.
 */
export async function capture(page: PageSession): Promise<CaptureResult> {
  const { spec: request, settings } = page;
  // Refused before the page is loaded: a request parsed under other settings (a queued job, a schedule)
  // is held to this node's budget too.
  checkViewportImage(request, settings.maxOutputPixels);
  await checkSelectors(page.cdp, page.scope, request);
  await page.setUp({ alwaysEmulateMedia: true });

  const navigationStarted = Date.now();
  const response = await page.navigate();
  const navigationMs = Date.now() - navigationStarted;

  const waitStarted = Date.now();
  const { unmatchedHideSelectors, text } = await waitThenRead(page, request);
  const waitMs = Date.now() - waitStarted;

  const captureStarted = Date.now();
  const shot = request.pdf ? undefined : await page.screenshot(request.capture, request.format);
  const pdf = request.pdf ? await page.printPdf() : undefined;
  const captureMs = Date.now() - captureStarted;

  const encodeStarted = Date.now();
  const image = shot
    ? await page.encode(shot, request.format, request.omitBackground ?? false)
    : (pdf as PrintedPdf).data;
  const finalUrl = await page.finalUrl();
  return {
    image,
    contentType: CONTENT_TYPES[request.format],
    upstreamStatus: response.status,
    finalUrl,
    timings: { navigationMs, waitMs, captureMs, encodeMs: Date.now() - encodeStarted },
    ...(shot?.truncatedFromHeight ? { truncatedFromHeight: shot.truncatedFromHeight } : {}),
    ...(pdf?.truncatedAtPage ? { truncatedAtPage: pdf.truncatedAtPage } : {}),
    refused: page.refused(),
    ...(text !== undefined ? { text } : {}),
    ...(unmatchedHideSelectors.length > 0 ? { unmatchedHideSelectors } : {}),
  };
}

/** The waits after the load event, in the Screenshot API's order, then what is read before the capture. */
async function waitThenRead(
  page: PageSession,
  request: CaptureSpec,
): Promise<{ unmatchedHideSelectors: string[]; text: string | undefined }> {
  if (request.options.includes('block_banners')) await page.waitForBanners();
  if (request.js !== undefined) await page.runScript(request.js);
  if (request.waitForSelector) await page.waitForSelector(request.waitForSelector);
  if (request.click) await page.click(request.click);
  if (request.autoScroll) await page.autoScroll();
  await page.renderingWait(request.renderingWaitMs);
  await page.waitForFonts();
  const unmatchedHideSelectors = request.hideSelectors?.length ? await page.hide(request.hideSelectors) : [];
  const text = page.settings.collectText ? await page.readText() : undefined;
  return { unmatchedHideSelectors, text };
}
