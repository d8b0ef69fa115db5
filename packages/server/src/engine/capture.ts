import {
  restoreLocalStorageScript,
  MAX_XHR_BODY_BYTES,
  READ_WEB_STORAGE,
  recordXhrCalls,
  type WebStorage,
  type XhrCall,
} from './page-activity.js';
import { watchRefusedRequests, type RefusedRequests } from './refused-requests.js';
import sharp from 'sharp';
import { ApiError } from '../errors.js';
import { EGRESS_ERROR_HEADER, EGRESS_REASON_HEADER } from '../egress/verdicts.js';
import type { CaptureArea, CaptureSpec, ImageFormat } from './capture-spec.js';
import { BANNER_DONE_EXPRESSION, bannerScript } from './banners.js';
import type { JobContext } from './browser-pool.js';
import type { CdpSession } from './cdp.js';
import type { AttemptScope } from './deadline.js';
import { clickElement } from './click.js';
import { checkViewportImage, heightWithinBudget } from './image-budget.js';
import { ensureHiddenExpression, setUpPage } from './page-setup.js';
import { checkSelectors } from './selector-check.js';
import { printPdf, type PrintedPdf } from './pdf.js';
import { runScenario } from './js-scenario.js';
import type { ScenarioOutcome, ScenarioStep } from './scenario-spec.js';

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

/** Characters of visible text kept from a page (a monitor's word diff works on it). */
export const MAX_PAGE_TEXT = 200_000;

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  pdf: 'application/pdf',
};

/** Largest area Chromium captures in one piece (its texture limit); taller pages are captured in sections. */
export const SINGLE_CAPTURE_LIMIT = 16_384;
/** Height of one section of a tall page (measured: ~130 ms per 800x4000 section; fewer, larger sections win). */
const SECTION_HEIGHT = 8_192;
/** WebP cannot encode an image taller or wider than this (a format limit). */
export const WEBP_MAX_DIMENSION = 16_383;
/** Default ceiling of full-page captures (SNAPWIRE_MAX_FULLPAGE_HEIGHT). */
export const DEFAULT_MAX_FULLPAGE_HEIGHT = 40_000;
const QUALITY = 85;
/** Time kept back from the deadline for the capture itself when waiting for a selector or scrolling. */
const CAPTURE_RESERVE_MS = 1_500;

export interface CaptureSettings {
  /** Operator setting: when false, images are blocked unless the request asks for options=load_images. */
  loadImages: boolean;
  /** Height of a full-page image in image pixels (SNAPWIRE_MAX_FULLPAGE_HEIGHT); a PDF's printed length. */
  maxFullpageHeight: number;
  /**
   * Width x height of one image at most, in image pixels (SNAPWIRE_MAX_OUTPUT_PIXELS; device_scale_factor
   * counts twice): a page's image is cut to fit, a viewport over it refused, a PDF holds fewer pages.
   */
  maxOutputPixels?: number;
  /** Longest wait for the cookie-banner rules to finish after load. */
  bannerWaitMs: number;
  /** Explains a failed load of `hostname` (the proxy saw why); undefined when it saw nothing. */
  egressFailure?: (hostname: string) => { kind: string; reason: string } | undefined;
  /**
   * Whether a response is the egress proxy's own answer (it carries the listener's secret). Only then
   * are its x-snapwire-egress-* headers a verdict; a page's own such headers are ignored. Left out (engine
   * tests without the service), every answer is taken at its word.
   */
  isEgressAnswer?: (headers: Record<string, unknown>) => boolean;
  /** Also read the page's visible text (innerText: hidden elements, hide_selectors included, left out). */
  collectText?: boolean;
}

interface DocumentResponse {
  status: number;
  url: string;
  headers: Record<string, string>;
}

/** Runs one capture on a fresh page (a pre-warmed isolated context). Every step is bounded by the scope. */
export async function capture(
  job: JobContext,
  request: CaptureSpec,
  settings: CaptureSettings,
): Promise<CaptureResult> {
  const { page, scope } = job;
  const session = page.session;
  const mainFrameId = page.targetId;
  // Refused before the page is loaded: a request parsed under other settings (a queued job, a schedule)
  // is held to this node's budget too.
  checkViewportImage(request, settings.maxOutputPixels);
  await checkSelectors(session, scope, request);

  const dark = request.options.includes('dark_mode');
  const print = request.options.includes('print_media_format');
  const blockImages = !settings.loadImages && !request.options.includes('load_images');
  // Viewport, device, user agent, time zone, geolocation, background, hidden selectors, cookies, headers.
  const setup: Promise<unknown>[] = [
    ...setUpPage(page, request, { blockImages }),
    session.send('Emulation.setEmulatedMedia', {
      media: print ? 'print' : '',
      features: [{ name: 'prefers-color-scheme', value: dark ? 'dark' : 'light' }],
    }),
  ];
  if (request.visionDeficiency !== 'none') {
    setup.push(session.send('Emulation.setEmulatedVisionDeficiency', { type: request.visionDeficiency }));
  }
  if (request.options.includes('block_banners')) {
    setup.push(session.send('Page.addScriptToEvaluateOnNewDocument', { source: bannerScript() }));
  }
  await scope.run(Promise.all(setup));
  const refused = watchRefusedRequests(session, settings.egressFailure, settings.isEgressAnswer);

  const navigationStarted = Date.now();
  const response = await navigate(session, mainFrameId, request, scope, settings);
  const navigationMs = Date.now() - navigationStarted;

  const waitStarted = Date.now();
  const world = new IsolatedWorld(session, mainFrameId, scope);
  if (request.options.includes('block_banners')) await waitForBanners(session, scope, settings.bannerWaitMs);
  if (request.js !== undefined) await runUserScript(session, request.js, scope);
  if (request.waitForSelector) await waitForElement(world, request.waitForSelector, scope);
  if (request.click) {
    const target = request.click;
    await clickElement(
      session,
      scope,
      <T>(expression: string) =>
        world.evaluate<T>(expression, { awaitPromise: true }).catch((error: unknown): never => {
          throw selectorError(error, target);
        }),
      FIND_ELEMENT,
      target,
      describe(target),
    );
  }
  if (request.autoScroll) await autoScroll(world, scope);
  if (request.renderingWaitMs > 0) await scope.sleep(Math.min(request.renderingWaitMs, scope.remaining()));
  await world.evaluate(FONTS_READY, { awaitPromise: true }).catch(() => undefined);
  const unmatchedHideSelectors = request.hideSelectors?.length
    ? await ensureHidden(world, request.hideSelectors)
    : [];
  const text = settings.collectText
    ? await world.evaluate<string>(
        `document.body ? String(document.body.innerText).slice(0, ${MAX_PAGE_TEXT}) : ''`,
      )
    : undefined;
  const waitMs = Date.now() - waitStarted;

  const captureStarted = Date.now();
  const shot = request.pdf ? undefined : await screenshot(session, world, request, scope, settings);
  const pdf = request.pdf ? await printPdf(session, scope, request.pdf, settings) : undefined;
  const captureMs = Date.now() - captureStarted;

  const encodeStarted = Date.now();
  const image = shot
    ? await scope.run(encode(shot, request.format, request.omitBackground ?? false))
    : (pdf as PrintedPdf).data;
  const finalUrl = await scope
    .run(session.send<{ frameTree: { frame: { url: string } } }>('Page.getFrameTree'))
    .then((tree) => tree.frameTree.frame.url)
    .catch(() => response.url);
  return {
    image,
    contentType: CONTENT_TYPES[request.format],
    upstreamStatus: response.status,
    finalUrl: finalUrl.startsWith('http') ? finalUrl : response.url,
    timings: { navigationMs, waitMs, captureMs, encodeMs: Date.now() - encodeStarted },
    ...(shot?.truncatedFromHeight ? { truncatedFromHeight: shot.truncatedFromHeight } : {}),
    ...(pdf?.truncatedAtPage ? { truncatedAtPage: pdf.truncatedAtPage } : {}),
    refused: refused(),
    ...(text !== undefined ? { text } : {}),
    ...(unmatchedHideSelectors.length > 0 ? { unmatchedHideSelectors } : {}),
  };
}

/** Hides the selectors' elements; answers the selectors that matched nothing on the page. */
async function ensureHidden(world: IsolatedWorld, selectors: readonly string[]): Promise<string[]> {
  const { invalid, unmatched } = await world.evaluate<{ invalid: string | null; unmatched: string[] }>(
    ensureHiddenExpression(selectors),
  );
  if (invalid !== null) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVALID',
      `hide_selectors: "${invalid}" is not a valid CSS selector`,
    );
  }
  return unmatched;
}

const FONTS_READY = `Promise.race([document.fonts ? document.fonts.ready.then(() => true) : true, new Promise((r) => setTimeout(() => r(false), 3000))])`;

async function navigate(
  session: CdpSession,
  mainFrameId: string,
  request: CaptureSpec,
  scope: AttemptScope,
  settings: CaptureSettings,
): Promise<DocumentResponse> {
  let document: DocumentResponse | undefined;
  let rejectEarly: (error: unknown) => void = () => {};
  const early = new Promise<never>((_, reject) => {
    rejectEarly = reject;
  });
  early.catch(() => {});
  const onResponse = (event: {
    type: string;
    frameId?: string;
    response: { status: number; url: string; headers: Record<string, string> };
  }) => {
    if (event.type !== 'Document' || event.frameId !== mainFrameId) return;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.response.headers))
      headers[name.toLowerCase()] = String(value);
    document = { status: event.response.status, url: event.response.url, headers };
    try {
      checkDocument(document, settings);
    } catch (error) {
      rejectEarly(error);
    }
  };
  // The host of the last hop the main frame asked for (a redirect may lead elsewhere): a refused CONNECT
  // tunnel leaves no response, and the proxy's record for that host is what explains the failure.
  let lastHost = request.hostname;
  const onRequest = (event: { type?: string; frameId?: string; request: { url: string } }) => {
    if (event.type !== 'Document' || event.frameId !== mainFrameId) return;
    try {
      lastHost = new URL(event.request.url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      // keep the previous one
    }
  };
  session.on('Network.responseReceived', onResponse);
  session.on('Network.requestWillBeSent', onRequest);
  const loaded = session.waitFor('Page.loadEventFired');
  loaded.catch(() => {});
  try {
    const result = await scope.run(
      Promise.race([
        session.send<{ errorText?: string; isDownload?: boolean }>('Page.navigate', { url: request.url }),
        early,
      ]),
    );
    if (result.errorText) {
      if (document) checkDocument(document, settings);
      throw navigationError(result.errorText, request, settings, lastHost);
    }
    if (result.isDownload) {
      if (document) checkDocument(document, settings);
      throw new ApiError(
        'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
        'The url answered with a file to download, not a document; only text/* documents (HTML pages) can be captured',
      );
    }
    await scope.run(Promise.race([loaded, early]));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'ERR::SCRAPE::OPERATION_TIMEOUT' && !document) {
      throw new ApiError(
        'ERR::SCRAPE::OPERATION_TIMEOUT',
        `The page did not answer within timeout=${request.timeoutMs} ms; raise the timeout parameter or check that the site is up`,
        { retryAfterSeconds: 1 },
      );
    }
    if (error instanceof ApiError && error.code === 'ERR::SCRAPE::OPERATION_TIMEOUT') {
      throw new ApiError(
        'ERR::SCRAPE::OPERATION_TIMEOUT',
        `The page did not finish loading within timeout=${request.timeoutMs} ms (its load event never fired); raise the timeout parameter`,
        { retryAfterSeconds: 1 },
      );
    }
    throw error;
  } finally {
    session.off('Network.responseReceived', onResponse);
    session.off('Network.requestWillBeSent', onRequest);
  }
  if (!document) {
    throw new ApiError(
      'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
      'The page produced no document to capture',
      {
        retryAfterSeconds: 1,
      },
    );
  }
  return document;
}

function checkDocument(response: DocumentResponse, settings: CaptureSettings): void {
  const trusted = settings.isEgressAnswer?.(response.headers) ?? true;
  const egressError = trusted ? response.headers[EGRESS_ERROR_HEADER] : undefined;
  if (egressError) {
    const reason = decodeURIComponent(response.headers[EGRESS_REASON_HEADER] ?? egressError);
    if (egressError === 'DOMAIN_NOT_ALLOWED')
      throw new ApiError('ERR::SCRAPE::DOMAIN_NOT_ALLOWED', `The page led to a refused address: ${reason}`);
    if (egressError === 'DNS_NAME_NOT_RESOLVED')
      throw new ApiError('ERR::SCRAPE::DNS_NAME_NOT_RESOLVED', `Loading the page failed: ${reason}`);
    if (egressError === 'BAD_PROTOCOL')
      throw new ApiError('ERR::SCRAPE::BAD_PROTOCOL', `Loading the page failed: ${reason}`);
    throw new ApiError('ERR::SCRAPE::NETWORK_ERROR', `Loading the page failed: ${reason}`, {
      retryAfterSeconds: 1,
    });
  }
  const contentType = response.headers['content-type'];
  if (contentType && !/^\s*text\//i.test(contentType)) {
    throw new ApiError(
      'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
      `The url answered with content type "${contentType}"; only text/* documents (HTML pages) can be captured`,
    );
  }
}

function navigationError(
  errorText: string,
  request: CaptureSpec,
  settings: CaptureSettings,
  lastHost: string,
): ApiError {
  const failure =
    settings.egressFailure?.(lastHost) ??
    (lastHost !== request.hostname ? settings.egressFailure?.(request.hostname) : undefined);
  if (failure?.kind === 'DOMAIN_NOT_ALLOWED')
    return new ApiError('ERR::SCRAPE::DOMAIN_NOT_ALLOWED', failure.reason);
  if (failure?.kind === 'DNS_NAME_NOT_RESOLVED')
    return new ApiError('ERR::SCRAPE::DNS_NAME_NOT_RESOLVED', failure.reason);
  if (failure?.kind === 'BAD_PROTOCOL') return new ApiError('ERR::SCRAPE::BAD_PROTOCOL', failure.reason);
  if (/ERR_CERT|ERR_SSL/i.test(errorText)) {
    return new ApiError('ERR::SCRAPE::SSL_ERROR', `The TLS connection to ${lastHost} failed (${errorText})`);
  }
  if (/ERR_ABORTED|ERR_BLOCKED_BY_RESPONSE|ERR_INVALID_RESPONSE/i.test(errorText) && !failure) {
    return new ApiError(
      'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
      `Loading ${request.url} was aborted (${errorText}); the answer may not be a document that can be shown`,
      { retryAfterSeconds: 1 },
    );
  }
  return new ApiError(
    'ERR::SCRAPE::NETWORK_ERROR',
    `Loading ${request.url} failed: ${failure?.reason ?? errorText}`,
    { retryAfterSeconds: 1 },
  );
}

/** Our own helpers run in an isolated world: page scripts cannot tamper with querySelector or scrollTo. */
class IsolatedWorld {
  private contextId: number | undefined;

  constructor(
    private readonly session: CdpSession,
    private readonly frameId: string,
    private readonly scope: AttemptScope,
  ) {}

  async evaluate<T = unknown>(expression: string, options: { awaitPromise?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      this.contextId ??= (
        await this.scope.run(
          this.session.send<{ executionContextId: number }>('Page.createIsolatedWorld', {
            frameId: this.frameId,
            worldName: '__snapwire__',
          }),
        )
      ).executionContextId;
      try {
        return await evaluateIn(this.session, this.scope, expression, {
          ...options,
          contextId: this.contextId,
        });
      } catch (error) {
        // The page navigated by itself: the world went with the old document; make a new one once.
        if (
          attempt === 0 &&
          /Cannot find context|context with specified id|Execution context was destroyed/i.test(
            (error as Error).message,
          )
        ) {
          this.contextId = undefined;
          continue;
        }
        throw error;
      }
    }
  }
}

class PageScriptError extends Error {}

async function evaluateIn<T>(
  session: CdpSession,
  scope: AttemptScope,
  expression: string,
  options: { awaitPromise?: boolean; contextId?: number; userGesture?: boolean },
): Promise<T> {
  const result = await scope.run(
    session.send<{
      result: { value?: T; description?: string };
      exceptionDetails?: { text: string; exception?: { description?: string; value?: unknown } };
    }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: options.awaitPromise ?? false,
      ...(options.contextId !== undefined ? { contextId: options.contextId } : {}),
      ...(options.userGesture ? { userGesture: true } : {}),
    }),
  );
  if (result.exceptionDetails) {
    const details = result.exceptionDetails;
    const description =
      details.exception?.description ??
      (details.exception?.value !== undefined ? String(details.exception.value) : details.text);
    throw new PageScriptError(String(description).split('\n')[0]);
  }
  return result.result.value as T;
}

async function runUserScript(session: CdpSession, script: string, scope: AttemptScope): Promise<void> {
  try {
    // Runs as the body of an async function in the page's own world, so `return` and `await` work. What it
    // returns is dropped in the page: a value that cannot be serialized (a window, a node) is no failure.
    await evaluateIn(session, scope, `(async () => {\n${script}\n})().then(() => undefined)`, {
      awaitPromise: true,
      userGesture: true,
    });
  } catch (error) {
    if (!(error instanceof PageScriptError)) throw error;
    throw new ApiError(
      'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
      `The js parameter's script failed in the page: ${error.message}`,
    );
  }
}

async function waitForBanners(session: CdpSession, scope: AttemptScope, budgetMs: number): Promise<void> {
  const until = Date.now() + Math.min(budgetMs, Math.max(0, scope.remaining() - CAPTURE_RESERVE_MS));
  while (Date.now() < until) {
    const done = await evaluateIn<boolean>(session, scope, BANNER_DONE_EXPRESSION, {}).catch(() => true);
    if (done) return;
    await scope.sleep(100);
  }
}

/** In-page element lookup shared by the waits and the element capture. */
const FIND_ELEMENT = `(target) => {
  let node;
  if (target.kind === 'xpath') {
    node = document.evaluate(target.xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  } else {
    node = document.querySelector(target.selector);
  }
  if (node && !(node instanceof Element)) node = node.parentElement;
  return node || null;
}`;

function describe(target: CaptureArea): string {
  return target.kind === 'xpath'
    ? `XPath ${target.xpath}`
    : target.kind === 'selector'
      ? `selector ${target.selector}`
      : target.kind;
}

function selectorError(error: unknown, target: CaptureArea): unknown {
  if (!(error instanceof PageScriptError)) return error;
  if (
    /SyntaxError|not a valid|Failed to execute|is not a valid XPath|The string .* is not/i.test(error.message)
  ) {
    return new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVALID',
      `The ${describe(target)} is not valid: ${error.message}`,
    );
  }
  return new ApiError(
    'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
    `Looking for the ${describe(target)} failed: ${error.message}`,
  );
}

async function waitForElement(world: IsolatedWorld, target: CaptureArea, scope: AttemptScope): Promise<void> {
  const budget = Math.max(1, scope.remaining() - CAPTURE_RESERVE_MS);
  let found: boolean;
  try {
    found = await world.evaluate<boolean>(
      `(async (target, budget) => {
        const find = ${FIND_ELEMENT};
        const visible = (el) => {
          if (!el || !el.isConnected) return false;
          const style = getComputedStyle(el);
          if (style.visibility === 'hidden' || style.display === 'none') return false;
          const rect = el.getBoundingClientRect();
          return rect.width > 0 && rect.height > 0;
        };
        find(target);
        const until = Date.now() + budget;
        while (Date.now() < until) {
          if (visible(find(target))) return true;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return false;
      })(${JSON.stringify(target)}, ${budget})`,
      { awaitPromise: true },
    );
  } catch (error) {
    throw selectorError(error, target);
  }
  if (!found) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
      `No visible element matched the ${describe(target)} within ${budget} ms (wait_for_selector)`,
    );
  }
}

/**
 * auto_scroll: scrolls to the end one screen at a time (the page may grow as it goes), waits for the lazy
 * images and content the scroll woke up, then returns to the top.
 */
async function autoScroll(world: IsolatedWorld, scope: AttemptScope): Promise<void> {
  const budget = Math.max(0, scope.remaining() - CAPTURE_RESERVE_MS);
  await world.evaluate(
    `(async (budget) => {
      const until = Date.now() + budget;
      const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const root = document.scrollingElement || document.documentElement;
      for (let step = 0; step < 500 && Date.now() < until; step += 1) {
        const before = root.scrollTop;
        window.scrollBy(0, Math.max(200, Math.floor(window.innerHeight * 0.9)));
        await pause(120);
        if (root.scrollTop === before && window.innerHeight + root.scrollTop >= root.scrollHeight - 2) {
          await pause(250);
          if (window.innerHeight + root.scrollTop >= root.scrollHeight - 2) break;
        }
      }
      const pending = () => [...document.images].filter((img) => !img.complete && img.loading !== 'lazy-never');
      const imagesUntil = Math.min(until, Date.now() + 5000);
      while (pending().length > 0 && Date.now() < imagesUntil) await pause(100);
      window.scrollTo(0, 0);
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await pause(50);
      return true;
    })(${budget})`,
    { awaitPromise: true },
  );
}

interface Shot {
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

async function screenshot(
  session: CdpSession,
  world: IsolatedWorld,
  request: CaptureSpec,
  scope: AttemptScope,
  settings: CaptureSettings,
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
      `No element matched the ${describe(area)} (capture)`,
    );
  }
  if (box.width < 1 || box.height < 1) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE',
      `The element matched by the ${describe(area)} has no size on the page`,
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

/** png, jpeg and webp come straight from Chromium; gif (and stitched tall pages) go through sharp. */
async function encode(shot: Shot, format: ImageFormat, transparent: boolean): Promise<Buffer> {
  if (!shot.sections && format !== 'gif') return shot.data;
  let image: sharp.Sharp;
  if (shot.sections) {
    image = sharp({
      create: {
        width: shot.width,
        height: shot.height,
        // omit_background: the sections carry alpha; the canvas under them must not paint it over.
        ...(transparent
          ? { channels: 4 as const, background: { r: 0, g: 0, b: 0, alpha: 0 } }
          : { channels: 3 as const, background: { r: 255, g: 255, b: 255 } }),
      },
      limitInputPixels: false,
    }).composite(shot.sections.map((section) => ({ input: section.data, top: section.top, left: 0 })));
  } else {
    image = sharp(shot.data);
  }
  switch (format) {
    case 'jpg':
      return image.jpeg({ quality: QUALITY }).toBuffer();
    case 'webp':
      return image.webp({ quality: QUALITY }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    default:
      return image.png().toBuffer();
  }
}

export interface RenderedDocument {
  /** The rendered DOM, serialised (doctype included), after the waits. */
  html: string;
  upstreamStatus: number;
  finalUrl: string;
  /** Headers of the main document's response, names lower-case. */
  responseHeaders: Record<string, string>;
  /** What the js parameter's script returned (JSON-serialisable values only; undefined otherwise). */
  scriptResult: unknown;
  timings: Pick<CaptureTimings, 'navigationMs' | 'waitMs'>;
  refused?: RefusedRequests;
  /** js_scenario's steps and their outcomes, when one ran. */
  scenario?: ScenarioOutcome;
  /** The named images of RenderExtras.screenshots, in their order. */
  screenshots?: RenderedScreenshot[];
  /** The context's cookies at the end, when RenderExtras.collectCookies asked for them. */
  cookies?: BrowserCookie[];
  /** The page's XHR/fetch calls and its Web Storage at the end, when RenderExtras.recordActivity asked. */
  activity?: { xhrCalls: XhrCall[]; storage: WebStorage };
}

/** What a scrape asks of the rendered page besides its DOM (the Web Scraping API's browser features). */
export interface RenderExtras {
  scenario?: readonly ScenarioStep[];
  /** Images of the page taken after the waits and the scenario, each of an area. */
  screenshots?: ReadonlyArray<{ name: string; area: CaptureArea }>;
  screenshotFormat?: 'jpg' | 'png';
  /** Cookies put in the context before the page loads (a scrape session's jar), as CDP takes them. */
  presetCookies?: readonly BrowserCookieParam[];
  collectCookies?: boolean;
  /** Record the page's XHR/fetch calls and read its localStorage/sessionStorage (page-activity.ts). */
  recordActivity?: boolean;
  /** localStorage items per origin put back before the page's own scripts run (a scrape session's). */
  presetLocalStorage?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** CDP's Network.CookieParam: a host-only cookie through `url`, a domain cookie through `domain`. */
export interface BrowserCookieParam {
  name: string;
  value: string;
  url?: string;
  domain?: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  expires?: number;
}

export interface RenderedScreenshot {
  name: string;
  area: CaptureArea;
  image: Buffer;
  format: 'jpg' | 'png';
  truncatedFromHeight?: number;
}

/** A cookie as CDP's Network.getAllCookies lists it (expires: Unix seconds, -1 for a session cookie). */
export interface BrowserCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
}

const SERIALISE_DOCUMENT = `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '') + document.documentElement.outerHTML`;

/**
 * The page's HTML after it loaded and the request's waits ran (the Web Scraping API's render_js): the same
 * page set-up, navigation, script, selector wait, scroll and rendering wait as a capture, then the DOM
 * instead of an image. The script's return value is kept (a capture drops it).
 */
export async function renderDocument(
  job: JobContext,
  request: CaptureSpec,
  settings: CaptureSettings,
  extras: RenderExtras = {},
): Promise<RenderedDocument> {
  const { page, scope } = job;
  const session = page.session;
  const blockImages = !settings.loadImages && !request.options.includes('load_images');
  const setup = setUpPage(page, request, { blockImages });
  const dark = request.options.includes('dark_mode');
  if (dark || request.options.includes('print_media_format')) {
    setup.push(
      session.send('Emulation.setEmulatedMedia', {
        media: request.options.includes('print_media_format') ? 'print' : '',
        features: [{ name: 'prefers-color-scheme', value: dark ? 'dark' : 'light' }],
      }),
    );
  }
  const blockBanners = request.options.includes('block_banners');
  if (blockBanners) {
    setup.push(session.send('Page.addScriptToEvaluateOnNewDocument', { source: bannerScript() }));
  }
  if (extras.presetCookies?.length) {
    setup.push(session.send('Network.setCookies', { cookies: extras.presetCookies }));
  }
  if (extras.presetLocalStorage && Object.keys(extras.presetLocalStorage).length > 0) {
    setup.push(
      session.send('Page.addScriptToEvaluateOnNewDocument', {
        source: restoreLocalStorageScript(extras.presetLocalStorage),
      }),
    );
  }
  if (extras.recordActivity) {
    // Pages keep no response bodies (browser.ts); a scrape that reports XHR answers keeps some.
    setup.push(
      session.send('Network.enable', {
        maxTotalBufferSize: 16 * 1024 * 1024,
        maxResourceBufferSize: 2 * MAX_XHR_BODY_BYTES,
      }),
    );
  }
  await scope.run(Promise.all(setup));
  const refused = watchRefusedRequests(session, settings.egressFailure, settings.isEgressAnswer);
  const xhr = extras.recordActivity ? recordXhrCalls(session) : undefined;

  const navigationStarted = Date.now();
  const response = await navigate(session, page.targetId, request, scope, settings);
  const navigationMs = Date.now() - navigationStarted;

  const waitStarted = Date.now();
  const world = new IsolatedWorld(session, page.targetId, scope);
  if (blockBanners) await waitForBanners(session, scope, settings.bannerWaitMs);
  // The selector first, then the script: a script reading what the page loads late finds it there.
  if (request.waitForSelector) await waitForElement(world, request.waitForSelector, scope);
  let scriptResult: unknown;
  if (request.js !== undefined) {
    try {
      // Only what JSON can carry comes back (a node or a window is no failure: it comes back as text).
      const script = `(async () => {\n${request.js}\n})().then((value) => { try { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); } catch { return String(value); } })`;
      scriptResult = await evaluateIn(session, scope, script, {
        awaitPromise: true,
        userGesture: true,
      });
    } catch (error) {
      if (!(error instanceof PageScriptError)) throw error;
      throw new ApiError(
        'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
        `The js parameter's script failed in the page: ${error.message}`,
      );
    }
  }
  const scenario = extras.scenario?.length
    ? await runScenario(
        {
          session,
          scope,
          mainFrameId: page.targetId,
          evaluate: <T>(expression: string) => world.evaluate<T>(expression, { awaitPromise: true }),
          evaluateInPage: <T>(expression: string) =>
            evaluateIn<T>(session, scope, expression, { awaitPromise: true, userGesture: true }),
          findElementSource: FIND_ELEMENT,
        },
        extras.scenario,
      )
    : undefined;
  if (request.autoScroll) await autoScroll(world, scope);
  if (request.renderingWaitMs > 0) await scope.sleep(Math.min(request.renderingWaitMs, scope.remaining()));
  const html = await world.evaluate<string>(SERIALISE_DOCUMENT);
  const activity = xhr
    ? {
        xhrCalls: await scope.run(xhr.collect()),
        storage: await world.evaluate<WebStorage>(READ_WEB_STORAGE),
      }
    : undefined;
  const waitMs = Date.now() - waitStarted;
  const screenshots: RenderedScreenshot[] = [];
  for (const { name, area } of extras.screenshots ?? []) {
    const format = extras.screenshotFormat ?? 'jpg';
    const shot = await screenshot(session, world, { ...request, capture: area, format }, scope, settings);
    screenshots.push({
      name,
      area,
      format,
      image: await scope.run(encode(shot, format, false)),
      ...(shot.truncatedFromHeight ? { truncatedFromHeight: shot.truncatedFromHeight } : {}),
    });
  }
  const cookies = extras.collectCookies
    ? (await scope.run(session.send<{ cookies: BrowserCookie[] }>('Network.getAllCookies'))).cookies
    : undefined;
  const finalUrl = await scope
    .run(session.send<{ frameTree: { frame: { url: string } } }>('Page.getFrameTree'))
    .then((tree) => tree.frameTree.frame.url)
    .catch(() => response.url);
  return {
    html,
    upstreamStatus: scenario?.navigatedStatus ?? response.status,
    finalUrl: finalUrl.startsWith('http') ? finalUrl : response.url,
    responseHeaders: response.headers,
    scriptResult,
    timings: { navigationMs, waitMs },
    refused: refused(),
    ...(scenario ? { scenario: scenario.outcome } : {}),
    ...(extras.screenshots ? { screenshots } : {}),
    ...(cookies ? { cookies } : {}),
    ...(activity ? { activity } : {}),
  };
}
