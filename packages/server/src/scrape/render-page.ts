import type { Clock } from '../clock.js';
import type { CountryRoute } from '../egress/country-proxy.js';
import type { EgressGuard } from '../egress/guard.js';
import type { PinningProxy } from '../egress/pinning-proxy.js';
import type { BrowserPool } from '../engine/browser-pool.js';
import type { CaptureSpec, RequestCookie } from '../engine/capture-spec.js';
import { JobDeadline } from '../engine/deadline.js';
import { withPageSession, type CaptureSettings } from '../engine/page-session.js';
import { renderDocument } from '../engine/render-document.js';
import { ApiError } from '../errors.js';
import type { ScrapeRequest } from '../request/scrape-request.js';
import type { BlobStore } from '../results/blob-store.js';
import { toBrowserCookie, type CookieJar } from './cookie-jar.js';
import type { UpstreamAnswer } from './fetch-upstream.js';
import { storeScreenshots, type StoredScreenshot } from './scrape-screenshots.js';
import type { OriginStorage } from './session-store.js';

/** A session=NAME during one scrape: its cookie jar and its pages' localStorage, both kept after it. */
export interface LiveSession {
  jar: CookieJar;
  localStorage: OriginStorage;
}

/** Most bytes of localStorage (as JSON) a session keeps; past it only the last page's origin is kept. */
const MAX_SESSION_STORAGE_BYTES = 1024 * 1024;

/**
 * The browser side of a scrape (render_js=true): the page rendered on the engine with the request's waits,
 * js, js_scenario, screenshots[NAME] and the session's cookies in and out; its DOM is the content.
 */

/** What the target answered, with or without a browser (and what a cache entry replays). */
export interface Fetched {
  status: number;
  url: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  setCookies: string[];
  /** Set-Cookie lines of the redirects followed without a browser, with the URL that set them. */
  redirectSetCookies?: Array<{ url: string; setCookies: string[] }>;
  body: Buffer;
  browserData?: Record<string, unknown>;
  screenshots?: StoredScreenshot[];
  /** The country whose egress proxy carried it (country= with SNAPWIRE_COUNTRY_PROXIES set). */
  country?: string;
}

export interface RenderDeps {
  pool: BrowserPool;
  guard: EgressGuard;
  proxy: PinningProxy;
  blobs: BlobStore;
  clock: Clock;
  maxBodyBytes: number;
  capture: Omit<CaptureSettings, 'egressFailure' | 'isEgressAnswer'>;
}

/** With a browser: the page on the engine (an isolated context behind the egress proxy), then its DOM. */
export async function renderForScrape(
  deps: RenderDeps,
  request: ScrapeRequest,
  startedAt: number,
  projectId: string,
  session: LiveSession | undefined,
  /** The page's XHR calls and web storage for browser_data (a crawl's pages have no use for them). */
  recordActivity = true,
  /** country=: the page leaves by this country's egress proxy (its listener's verdicts alone count). */
  route?: CountryRoute,
): Promise<Fetched> {
  const jar = session?.jar;
  const deadline = new JobDeadline(startedAt, request.timeoutMs);
  try {
    // Checked first so that a refused or unknown host answers at once with a precise error; the proxy
    // checks again (and pins) every request the page makes.
    await deadline.run(deps.guard.pinTarget(request.hostname));
    const rendered = await withPageSession(
      deps.pool,
      { queueKey: projectId, ...(route ? { route } : {}), sharedEgress: deps.proxy },
      deadline,
      captureSpecOf(request),
      deps.capture,
      (page) =>
        renderDocument(page, {
          ...(jar
            ? {
                presetCookies: jar.list(Math.floor(deps.clock.now() / 1000)).map(toBrowserCookie),
                collectCookies: true,
              }
            : {}),
          recordActivity,
          ...(session ? { presetLocalStorage: session.localStorage } : {}),
          ...(request.browser.scenario ? { scenario: request.browser.scenario } : {}),
          ...(request.browser.screenshots.length > 0
            ? {
                screenshots: request.browser.screenshots,
                screenshotFormat: request.browser.screenshotFlags.includes('high_quality') ? 'png' : 'jpg',
              }
            : {}),
        }),
    );
    if (jar && rendered.cookies) jar.replaceWithBrowserCookies(rendered.cookies);
    if (session && rendered.activity)
      keepLocalStorage(session, rendered.finalUrl, rendered.activity.storage.local);
    const body = Buffer.from(rendered.html, 'utf8');
    if (body.length > deps.maxBodyBytes) {
      throw new ApiError(
        'ERR::SCRAPE::UPSTREAM_RESPONSE_TOO_LARGE',
        `The rendered page is ${body.length} bytes, over the limit of this host (SNAPWIRE_SCRAPE_MAX_BODY_BYTES=${deps.maxBodyBytes})`,
      );
    }
    const responseHeaders = { ...rendered.responseHeaders };
    // The content is the rendered DOM, re-encoded as UTF-8: say so, whatever the page was served as.
    responseHeaders['content-type'] = 'text/html; charset=utf-8';
    delete responseHeaders['content-encoding'];
    delete responseHeaders['content-length'];
    return {
      status: rendered.upstreamStatus,
      url: rendered.finalUrl,
      requestHeaders: request.headers,
      responseHeaders,
      setCookies: [],
      body,
      ...(rendered.screenshots
        ? { screenshots: await storeScreenshots(deps.blobs, rendered.screenshots) }
        : {}),
      browserData: {
        javascript_evaluation_result: rendered.scriptResult ?? null,
        js_scenario: rendered.scenario ?? null,
        local_storage_data: rendered.activity?.storage.local ?? {},
        session_storage_data: rendered.activity?.storage.session ?? {},
        websockets: [],
        xhr_call: rendered.activity?.xhrCalls ?? [],
      },
    };
  } finally {
    deadline.dispose();
  }
}

/**
 * The engine's view of a browser scrape. The caller's Cookie header becomes host-only cookies of the
 * target and its User-Agent the browser's; other headers go to the target's own origin only (as with
 * /screenshot's headers[NAME]). The browser negotiates its own encodings.
 */
function captureSpecOf(request: ScrapeRequest): CaptureSpec {
  const headers = { ...request.headers };
  const cookieHeader = headers.cookie;
  const userAgent = headers['user-agent'];
  delete headers.cookie;
  delete headers['user-agent'];
  delete headers['accept-encoding'];
  const cookies: RequestCookie[] = (cookieHeader ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.includes('='))
    .map((pair) => {
      const at = pair.indexOf('=');
      return {
        name: pair.slice(0, at).trim(),
        value: pair.slice(at + 1).trim(),
        path: '/',
        secure: false,
        httpOnly: false,
      };
    });
  return {
    url: request.url,
    hostname: request.hostname,
    format: 'png',
    capture: { kind: 'viewport' },
    width: 1920,
    height: 1080,
    renderingWaitMs: request.browser.renderingWaitMs,
    waitForSelector: request.browser.waitForSelector,
    timeoutMs: request.timeoutMs,
    js: request.browser.js,
    // screenshot_flags shape the page the images are taken of (high_quality is the image format).
    options: request.browser.screenshotFlags.filter((flag) => flag !== 'high_quality'),
    autoScroll: request.browser.autoScroll,
    visionDeficiency: 'none',
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(cookies.length > 0 ? { cookies } : {}),
    ...(userAgent !== undefined ? { userAgent } : {}),
    ...(request.browser.geolocation ? { geolocation: request.browser.geolocation } : {}),
  };
}

/** The last page's localStorage becomes its origin's in the session (an emptied one is forgotten). */
function keepLocalStorage(session: LiveSession, finalUrl: string, items: Record<string, string>): void {
  let origin: string;
  try {
    origin = new URL(finalUrl).origin;
  } catch {
    return;
  }
  if (origin === 'null') return;
  if (Object.keys(items).length === 0) delete session.localStorage[origin];
  else session.localStorage[origin] = items;
  if (JSON.stringify(session.localStorage).length > MAX_SESSION_STORAGE_BYTES) {
    session.localStorage =
      items && JSON.stringify(items).length <= MAX_SESSION_STORAGE_BYTES ? { [origin]: items } : {};
  }
}

/**
 * One page of a browser crawl (crawler/page-fetch.ts): rendered as /scrape?render_js=true renders it, no
 * session, answered in the shape of a fetch without a browser (scrape/fetch-upstream.ts UpstreamAnswer),
 * the DOM after the page's scripts ran as its body.
 */
export async function renderForCrawl(
  deps: RenderDeps,
  request: ScrapeRequest,
  projectId: string,
): Promise<UpstreamAnswer> {
  // No activity recorded: it costs every page Network events buffered in Chromium and two reads after
  // the load, for browser_data that a crawl's page never answers with.
  const fetched = await renderForScrape(deps, request, Date.now(), projectId, undefined, false);
  return {
    status: fetched.status,
    headers: fetched.responseHeaders,
    setCookies: fetched.setCookies,
    redirectSetCookies: [],
    body: fetched.body,
    url: fetched.url,
    requestHeaders: fetched.requestHeaders,
    address: undefined,
  };
}
