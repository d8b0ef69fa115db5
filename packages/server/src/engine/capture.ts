import type {
  BrowserContext,
  BrowserContextOptions,
  CDPSession,
  Locator,
  Page,
  Response,
} from 'playwright-core';
import sharp from 'sharp';
import { ApiError } from '../errors.js';
import { EGRESS_ERROR_HEADER, EGRESS_REASON_HEADER, type PinningProxy } from '../egress/pinning-proxy.js';
import type { CaptureArea, ImageFormat, ScreenshotRequest } from '../jobs/screenshot-request.js';
import { JobDeadline } from './deadline.js';

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
}

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

/** Full-page captures stop at this height (Chromium's single-texture limit); taller pages are cut. */
export const MAX_FULLPAGE_HEIGHT = 16_384;
const QUALITY = 85;
/** Time kept back from the deadline for the capture itself when waiting for a selector. */
const CAPTURE_RESERVE_MS = 1_500;

export function contextOptionsFor(request: ScreenshotRequest): BrowserContextOptions {
  return {
    viewport: { width: request.width, height: request.height },
    deviceScaleFactor: 1,
    colorScheme: request.options.includes('dark_mode') ? 'dark' : 'light',
    // Service workers would fetch outside Playwright's view and outlive the page: never allowed.
    serviceWorkers: 'block',
    acceptDownloads: false,
  };
}

/** Runs one capture in a fresh context. Every step is bounded by `deadline`. */
export async function capture(
  context: BrowserContext,
  request: ScreenshotRequest,
  deadline: JobDeadline,
  proxy: PinningProxy,
): Promise<CaptureResult> {
  const page = await deadline.run(context.newPage());
  page.on('crash', () =>
    deadline.abort(
      new ApiError('ERR::SCRAPE::DRIVER_CRASHED', 'The page crashed the browser renderer while loading', {
        retryAfterSeconds: 1,
      }),
    ),
  );
  const cdp = await deadline.run(context.newCDPSession(page));
  if (request.visionDeficiency !== 'none') {
    await deadline.run(cdp.send('Emulation.setEmulatedVisionDeficiency', { type: request.visionDeficiency }));
  }
  if (request.options.includes('print_media_format')) {
    // Through our CDP session: Playwright's page.emulateMedia is lost on navigation once a second CDP
    // session is attached to the page (measured: matchMedia('print') false after goto).
    await deadline.run(cdp.send('Emulation.setEmulatedMedia', { media: 'print' }));
  }

  const navigationStarted = Date.now();
  const response = await navigate(page, request, deadline, proxy);
  const navigationMs = Date.now() - navigationStarted;

  const waitStarted = Date.now();
  if (request.js !== undefined) await runUserScript(page, request.js, deadline);
  if (request.waitForSelector) await waitForElement(page, request.waitForSelector, deadline);
  if (request.autoScroll) await autoScroll(page, deadline);
  if (request.renderingWaitMs > 0) {
    await deadline.run(
      new Promise((resolve) => setTimeout(resolve, Math.min(request.renderingWaitMs, deadline.remaining()))),
    );
  }
  const waitMs = Date.now() - waitStarted;

  const captureStarted = Date.now();
  const raw = await deadline.run(screenshot(page, cdp, request));
  const captureMs = Date.now() - captureStarted;

  const encodeStarted = Date.now();
  const image = request.format === 'gif' ? await deadline.run(sharp(raw).gif().toBuffer()) : raw;
  return {
    image,
    contentType: CONTENT_TYPES[request.format],
    upstreamStatus: response.status(),
    finalUrl: page.url(),
    timings: { navigationMs, waitMs, captureMs, encodeMs: Date.now() - encodeStarted },
  };
}

async function navigate(
  page: Page,
  request: ScreenshotRequest,
  deadline: JobDeadline,
  proxy: PinningProxy,
): Promise<Response> {
  let documentResponse: Response | undefined;
  page.on('response', (answer) => {
    if (answer.request().isNavigationRequest() && answer.frame() === page.mainFrame())
      documentResponse = answer;
  });
  let response: Response | null;
  try {
    response = await deadline.run(
      page.goto(request.url, { waitUntil: 'load', timeout: deadline.remaining() + 1000 }),
    );
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (documentResponse) checkDocument(documentResponse);
    throw navigationError(error, request, proxy);
  }
  if (!response)
    throw new ApiError(
      'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
      'The page produced no document to capture',
    );
  checkDocument(response);
  return response;
}

function checkDocument(response: Response): void {
  const headers = response.headers();
  const egressError = headers[EGRESS_ERROR_HEADER];
  if (egressError) {
    const reason = decodeURIComponent(headers[EGRESS_REASON_HEADER] ?? egressError);
    if (egressError === 'DOMAIN_NOT_ALLOWED') {
      throw new ApiError(
        'ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
        `The page redirected to a refused address: ${reason}`,
      );
    }
    if (egressError === 'DNS_NAME_NOT_RESOLVED')
      throw new ApiError('ERR::SCRAPE::DNS_NAME_NOT_RESOLVED', `Loading the page failed: ${reason}`);
    throw new ApiError('ERR::SCRAPE::NETWORK_ERROR', `Loading the page failed: ${reason}`, {
      retryAfterSeconds: 1,
    });
  }
  const contentType = headers['content-type'];
  if (contentType && !/^\s*text\//i.test(contentType)) {
    throw new ApiError(
      'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
      `The url answered with content type "${contentType}"; only text/* documents (HTML pages) can be captured`,
    );
  }
}

function navigationError(error: unknown, request: ScreenshotRequest, proxy: PinningProxy): unknown {
  const message = (error as Error)?.message ?? String(error);
  if (/Timeout .* exceeded/i.test(message)) {
    return new ApiError(
      'ERR::SCRAPE::OPERATION_TIMEOUT',
      `The page did not finish loading within timeout=${request.timeoutMs} ms; raise timeout or check that the page ever fires its load event`,
      { retryAfterSeconds: 1 },
    );
  }
  const failure = proxy.failureFor(request.hostname);
  if (failure?.kind === 'DOMAIN_NOT_ALLOWED')
    return new ApiError('ERR::SCRAPE::DOMAIN_NOT_ALLOWED', failure.reason);
  if (failure?.kind === 'DNS_NAME_NOT_RESOLVED')
    return new ApiError('ERR::SCRAPE::DNS_NAME_NOT_RESOLVED', failure.reason);
  if (/ERR_CERT|ERR_SSL/i.test(message)) {
    return new ApiError(
      'ERR::SCRAPE::SSL_ERROR',
      `The TLS connection to ${request.hostname} failed (${netError(message)})`,
    );
  }
  if (/Target .*closed|crash/i.test(message)) {
    return new ApiError('ERR::SCRAPE::DRIVER_CRASHED', 'The browser closed during navigation', {
      retryAfterSeconds: 1,
    });
  }
  if (/net::ERR_/i.test(message) || failure) {
    return new ApiError(
      'ERR::SCRAPE::NETWORK_ERROR',
      `Loading ${request.url} failed: ${failure?.reason ?? netError(message)}`,
      { retryAfterSeconds: 1 },
    );
  }
  return new ApiError(
    'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
    `Navigation failed: ${message.split('\n')[0]}`,
    { retryAfterSeconds: 1 },
  );
}

function netError(message: string): string {
  return /net::ERR_[A-Z_]+/.exec(message)?.[0] ?? message.split('\n')[0] ?? message;
}

async function runUserScript(page: Page, script: string, deadline: JobDeadline): Promise<void> {
  try {
    // Runs as the body of an async function, so `return` and `await` work as users expect.
    await deadline.run(page.evaluate(`(async () => {\n${script}\n})()`));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const message = ((error as Error).message ?? String(error))
      .replace(/^page\.evaluate: /, '')
      .split('\n')[0];
    throw new ApiError(
      'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
      `The js parameter's script failed in the page: ${message}`,
    );
  }
}

function locate(page: Page, target: CaptureArea): Locator {
  if (target.kind === 'xpath') return page.locator(`xpath=${target.xpath}`).first();
  if (target.kind === 'selector') return page.locator(`css=${target.selector}`).first();
  throw new Error('not an element target');
}

function describe(target: CaptureArea): string {
  return target.kind === 'xpath'
    ? `XPath ${target.xpath}`
    : target.kind === 'selector'
      ? `selector ${target.selector}`
      : target.kind;
}

function selectorError(error: unknown, target: CaptureArea, what: string): unknown {
  if (error instanceof ApiError) return error;
  const message = (error as Error).message ?? '';
  if (/Timeout .* exceeded/i.test(message)) {
    return new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
      `No visible element matched the ${describe(target)} ${what}`,
    );
  }
  if (/not a valid|Unexpected token|SyntaxError|Failed to execute|malformed|parsing/i.test(message)) {
    return new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVALID',
      `The ${describe(target)} is not valid: ${message.split('\n')[0]}`,
    );
  }
  return new ApiError(
    'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
    `Looking for the ${describe(target)} failed: ${message.split('\n')[0]}`,
  );
}

async function waitForElement(page: Page, target: CaptureArea, deadline: JobDeadline): Promise<void> {
  const budget = Math.max(1, deadline.remaining() - CAPTURE_RESERVE_MS);
  try {
    await deadline.run(locate(page, target).waitFor({ state: 'visible', timeout: budget }));
  } catch (error) {
    throw selectorError(error, target, `within ${budget} ms (wait_for_selector)`);
  }
}

async function autoScroll(page: Page, deadline: JobDeadline): Promise<void> {
  const budget = Math.max(0, deadline.remaining() - CAPTURE_RESERVE_MS);
  await deadline.run(
    page.evaluate(async (budgetMs: number) => {
      const until = Date.now() + budgetMs;
      const pause = () => new Promise((resolve) => setTimeout(resolve, 100));
      for (let step = 0; step < 200 && Date.now() < until; step += 1) {
        const before = window.scrollY;
        window.scrollBy(0, window.innerHeight);
        await pause();
        if (
          window.scrollY === before &&
          window.innerHeight + window.scrollY >= document.documentElement.scrollHeight
        )
          break;
      }
      window.scrollTo(0, 0);
      await pause();
    }, budget),
  );
}

async function screenshot(page: Page, cdp: CDPSession, request: ScreenshotRequest): Promise<Buffer> {
  const format = request.format === 'jpg' ? 'jpeg' : request.format === 'webp' ? 'webp' : 'png';
  const quality = format === 'png' ? undefined : QUALITY;
  const base = { format, ...(quality === undefined ? {} : { quality }), optimizeForSpeed: true } as const;
  let params: Record<string, unknown> = base;
  if (request.capture.kind === 'fullpage') {
    const metrics = await cdp.send('Page.getLayoutMetrics');
    const height = Math.min(Math.ceil(metrics.cssContentSize.height), MAX_FULLPAGE_HEIGHT);
    const width = request.width;
    params = {
      ...base,
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width, height: Math.max(height, 1), scale: 1 },
    };
  } else if (request.capture.kind !== 'viewport') {
    const target = request.capture;
    const element = locate(page, target);
    let box: { x: number; y: number; width: number; height: number } | null;
    try {
      await element.waitFor({ state: 'attached', timeout: 2_000 });
      box = await element.evaluate((node: Element) => {
        const rect = node.getBoundingClientRect();
        return {
          x: rect.left + window.scrollX,
          y: rect.top + window.scrollY,
          width: rect.width,
          height: rect.height,
        };
      });
    } catch (error) {
      throw selectorError(error, target, '(capture)');
    }
    if (!box || box.width < 1 || box.height < 1) {
      throw new ApiError(
        'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE',
        `The element matched by the ${describe(target)} has no size on the page`,
      );
    }
    params = {
      ...base,
      captureBeyondViewport: true,
      clip: {
        x: box.x,
        y: box.y,
        width: box.width,
        height: Math.min(box.height, MAX_FULLPAGE_HEIGHT),
        scale: 1,
      },
    };
  }
  return Buffer.from(await captureWithRetry(page, cdp, params), 'base64');
}

/**
 * Chromium answers "Unable to capture screenshot" when asked before the page has produced its first
 * compositor frame (seen on the first capture after a browser launch). Waiting for two animation frames
 * and asking again fixes it; other errors are not retried.
 */
async function captureWithRetry(
  page: Page,
  cdp: CDPSession,
  params: Record<string, unknown>,
): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = (await cdp.send('Page.captureScreenshot', params)) as { data: string };
      return result.data;
    } catch (error) {
      if (attempt >= 3 || !/Unable to capture screenshot/i.test((error as Error).message)) throw error;
      await page.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
      );
    }
  }
}
