import type { CaptureTimings } from './capture.js';
import type { CaptureArea } from './capture-spec.js';
import type { WebStorage, XhrCall } from './page-activity.js';
import type { BrowserCookie, BrowserCookieParam, PageSession } from './page-session.js';
import type { RefusedRequests } from './refused-requests.js';
import type { ScenarioOutcome, ScenarioStep } from './scenario-spec.js';

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

export interface RenderedScreenshot {
  name: string;
  area: CaptureArea;
  image: Buffer;
  format: 'jpg' | 'png';
  truncatedFromHeight?: number;
}

/**
 * The Web Scraping API's order of steps on a fresh page (page-session.ts, render_js): the same set-up,
 * navigation, selector wait, script, scroll and rendering wait as a capture, then the DOM instead of an
 * image. The script's return value is kept (a capture drops it); js_scenario, screenshots[NAME], the
 * session's cookies and storage, and the XHR calls come with it when the extras ask.
 */
export async function renderDocument(
  page: PageSession,
  extras: RenderExtras = {},
): Promise<RenderedDocument> {
  const request = page.spec;
  await page.setUp({
    ...(extras.presetCookies ? { cookies: extras.presetCookies } : {}),
    ...(extras.presetLocalStorage ? { localStorage: extras.presetLocalStorage } : {}),
    ...(extras.recordActivity ? { recordActivity: true } : {}),
  });

  const navigationStarted = Date.now();
  const response = await page.navigate();
  const navigationMs = Date.now() - navigationStarted;

  const waitStarted = Date.now();
  if (request.options.includes('block_banners')) await page.waitForBanners();
  // The selector first, then the script: a script reading what the page loads late finds it there.
  if (request.waitForSelector) await page.waitForSelector(request.waitForSelector);
  const scriptResult = request.js !== undefined ? await page.runScriptForResult(request.js) : undefined;
  const scenario = extras.scenario?.length ? await page.runScenario(extras.scenario) : undefined;
  if (request.autoScroll) await page.autoScroll();
  await page.renderingWait(request.renderingWaitMs);
  const html = await page.readDom();
  const activity = extras.recordActivity
    ? { xhrCalls: await page.xhrCalls(), storage: await page.readStorage() }
    : undefined;
  const waitMs = Date.now() - waitStarted;
  const screenshots: RenderedScreenshot[] = [];
  for (const { name, area } of extras.screenshots ?? []) {
    const format = extras.screenshotFormat ?? 'jpg';
    const shot = await page.screenshot(area, format);
    screenshots.push({
      name,
      area,
      format,
      image: await page.encode(shot, format, false),
      ...(shot.truncatedFromHeight ? { truncatedFromHeight: shot.truncatedFromHeight } : {}),
    });
  }
  const cookies = extras.collectCookies ? await page.cookies() : undefined;
  return {
    html,
    upstreamStatus: scenario?.navigatedStatus ?? response.status,
    finalUrl: await page.finalUrl(),
    responseHeaders: response.headers,
    scriptResult,
    timings: { navigationMs, waitMs },
    refused: page.refused(),
    ...(scenario ? { scenario: scenario.outcome } : {}),
    ...(extras.screenshots ? { screenshots } : {}),
    ...(cookies ? { cookies } : {}),
    ...(activity ? { activity } : {}),
  };
}
