import type { BrowserPool, JobContext } from './browser-pool.js';
import { bannerScript } from './banners.js';
import type { CaptureArea, CaptureSpec, ImageFormat } from './capture-spec.js';
import { clickElement } from './click.js';
import type { CdpSession } from './cdp.js';
import type { AttemptScope, JobDeadline } from './deadline.js';
import { encode } from './encode.js';
import { evaluateIn, FIND_ELEMENT, IsolatedWorld, selectorError, describeTarget } from './isolated-world.js';
import { runScenario } from './js-scenario.js';
import { navigate, type DocumentResponse, type EgressReadings } from './navigate.js';
import {
  MAX_XHR_BODY_BYTES,
  READ_WEB_STORAGE,
  recordXhrCalls,
  restoreLocalStorageScript,
  type WebStorage,
  type XhrCall,
} from './page-activity.js';
import { setUpPage } from './page-setup.js';
import { printPdf, type PrintedPdf } from './pdf.js';
import { watchRefusedRequests, type RefusedRequests } from './refused-requests.js';
import type { ScenarioOutcome, ScenarioStep } from './scenario-spec.js';
import { screenshot, type Shot } from './screenshot.js';
import {
  autoScroll,
  ensureHidden,
  runScriptForResult,
  runUserScript,
  waitForBanners,
  waitForElement,
  waitForFonts,
} from './waits.js';

/** Default ceiling of full-page captures (SNAPWIRE_MAX_FULLPAGE_HEIGHT). */
export const DEFAULT_MAX_FULLPAGE_HEIGHT = 40_000;

export interface CaptureSettings extends EgressReadings {
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
  /** Also read the page's visible text (innerText: hidden elements, hide_selectors included, left out). */
  collectText?: boolean;
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

/** What the page is given before it loads, besides the request's own extensions (page-setup.ts). */
export interface PagePresets {
  /** Set prefers-color-scheme and the media type even when the request asks for neither (a capture does). */
  alwaysEmulateMedia?: boolean;
  /** Cookies put in the context before the page loads (a scrape session's jar), as CDP takes them. */
  cookies?: readonly BrowserCookieParam[];
  /** localStorage items per origin put back before the page's own scripts run (a scrape session's). */
  localStorage?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Record the page's XHR/fetch calls (collected with xhrCalls()). */
  recordActivity?: boolean;
}

/** Characters of visible text kept from a page (a monitor's word diff works on it). */
export const MAX_PAGE_TEXT = 200_000;

const SERIALISE_DOCUMENT = `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '') + document.documentElement.outerHTML`;

/**
 * One job's page as the APIs drive it: a fresh isolated browser context behind the egress proxy (pool and
 * browser.ts), set up with the request's extensions, then navigated, waited on, read (DOM, text, storage,
 * cookies, XHR calls) and captured (image, PDF), one step per method, each bounded by the job's scope.
 * capture.ts (the Screenshot API) and render-document.ts (the Web Scraping API's browser) are orders of
 * these steps.
 */
export class PageSession {
  readonly cdp: CdpSession;
  readonly scope: AttemptScope;
  private readonly world: IsolatedWorld;
  private refusedWatch: (() => RefusedRequests) | undefined;
  private xhr: ReturnType<typeof recordXhrCalls> | undefined;
  private loaded: DocumentResponse | undefined;

  constructor(
    readonly job: JobContext,
    readonly spec: CaptureSpec,
    readonly settings: CaptureSettings,
  ) {
    this.cdp = job.page.session;
    this.scope = job.scope;
    this.world = new IsolatedWorld(this.cdp, job.page.targetId, this.scope);
  }

  /** Viewport, device, user agent, time zone, geolocation, media, banners, cookies, headers, presets. */
  async setUp(presets: PagePresets = {}): Promise<void> {
    const { spec, cdp } = this;
    const blockImages = !this.settings.loadImages && !spec.options.includes('load_images');
    const steps = setUpPage(this.job.page, spec, { blockImages });
    const dark = spec.options.includes('dark_mode');
    const print = spec.options.includes('print_media_format');
    if (presets.alwaysEmulateMedia || dark || print) {
      steps.push(
        cdp.send('Emulation.setEmulatedMedia', {
          media: print ? 'print' : '',
          features: [{ name: 'prefers-color-scheme', value: dark ? 'dark' : 'light' }],
        }),
      );
    }
    if (spec.visionDeficiency !== 'none') {
      steps.push(cdp.send('Emulation.setEmulatedVisionDeficiency', { type: spec.visionDeficiency }));
    }
    if (spec.options.includes('block_banners')) {
      steps.push(cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: bannerScript() }));
    }
    if (presets.cookies?.length) {
      steps.push(cdp.send('Network.setCookies', { cookies: presets.cookies }));
    }
    if (presets.localStorage && Object.keys(presets.localStorage).length > 0) {
      steps.push(
        cdp.send('Page.addScriptToEvaluateOnNewDocument', {
          source: restoreLocalStorageScript(presets.localStorage),
        }),
      );
    }
    if (presets.recordActivity) {
      // Pages keep no response bodies (browser.ts); a scrape that reports XHR answers keeps some.
      steps.push(
        cdp.send('Network.enable', {
          maxTotalBufferSize: 16 * 1024 * 1024,
          maxResourceBufferSize: 2 * MAX_XHR_BODY_BYTES,
        }),
      );
    }
    await this.scope.run(Promise.all(steps));
    this.refusedWatch = watchRefusedRequests(cdp, this.settings.egressFailure, this.settings.isEgressAnswer);
    if (presets.recordActivity) this.xhr = recordXhrCalls(cdp);
  }

  /** Loads the request's url and waits for its load event (navigate.ts). */
  async navigate(): Promise<DocumentResponse> {
    this.loaded = await navigate(this.cdp, this.job.page.targetId, this.spec, this.scope, this.settings);
    return this.loaded;
  }

  /** The main document's answer; navigate() first. */
  get response(): DocumentResponse {
    if (!this.loaded) throw new Error('PageSession: navigate() before reading the response');
    return this.loaded;
  }

  waitForBanners(): Promise<void> {
    return waitForBanners(this.cdp, this.scope, this.settings.bannerWaitMs);
  }

  /** The js parameter's script in the page's own world; what it returns is dropped. */
  runScript(script: string): Promise<void> {
    return runUserScript(this.cdp, script, this.scope);
  }

  /** The js parameter's script in the page's own world; what it returns is kept (JSON values). */
  runScriptForResult(script: string): Promise<unknown> {
    return runScriptForResult(this.cdp, script, this.scope);
  }

  waitForSelector(target: CaptureArea): Promise<void> {
    return waitForElement(this.world, target, this.scope);
  }

  click(target: NonNullable<CaptureSpec['click']>): Promise<void> {
    return clickElement(
      this.cdp,
      this.scope,
      <T>(expression: string) =>
        this.world.evaluate<T>(expression, { awaitPromise: true }).catch((error: unknown): never => {
          throw selectorError(error, target);
        }),
      FIND_ELEMENT,
      target,
      describeTarget(target),
    );
  }

  /** js_scenario's steps (js-scenario.ts); the status of a page a step navigated to is in the outcome. */
  runScenario(
    steps: readonly ScenarioStep[],
  ): Promise<{ outcome: ScenarioOutcome; navigatedStatus?: number | undefined }> {
    return runScenario(
      {
        session: this.cdp,
        scope: this.scope,
        mainFrameId: this.job.page.targetId,
        evaluate: <T>(expression: string) => this.world.evaluate<T>(expression, { awaitPromise: true }),
        evaluateInPage: <T>(expression: string) =>
          evaluateIn<T>(this.cdp, this.scope, expression, { awaitPromise: true, userGesture: true }),
        findElementSource: FIND_ELEMENT,
      },
      steps,
    );
  }

  autoScroll(): Promise<void> {
    return autoScroll(this.world, this.scope);
  }

  /** rendering_wait, cut to what is left of the request's budget. */
  async renderingWait(ms: number): Promise<void> {
    if (ms > 0) await this.scope.sleep(Math.min(ms, this.scope.remaining()));
  }

  waitForFonts(): Promise<void> {
    return waitForFonts(this.world);
  }

  /** Hides hide_selectors' elements now (the page may have added some); answers those that matched none. */
  hide(selectors: readonly string[]): Promise<string[]> {
    return ensureHidden(this.world, selectors);
  }

  /** The page's visible text (innerText), at most MAX_PAGE_TEXT characters. */
  readText(): Promise<string> {
    return this.world.evaluate<string>(
      `document.body ? String(document.body.innerText).slice(0, ${MAX_PAGE_TEXT}) : ''`,
    );
  }

  /** The rendered DOM, serialised (doctype included). */
  readDom(): Promise<string> {
    return this.world.evaluate<string>(SERIALISE_DOCUMENT);
  }

  readStorage(): Promise<WebStorage> {
    return this.world.evaluate<WebStorage>(READ_WEB_STORAGE);
  }

  /** The XHR/fetch calls so far (setUp with recordActivity; else none). */
  async xhrCalls(): Promise<XhrCall[]> {
    return this.xhr ? this.scope.run(this.xhr.collect()) : [];
  }

  async cookies(): Promise<BrowserCookie[]> {
    return (await this.scope.run(this.cdp.send<{ cookies: BrowserCookie[] }>('Network.getAllCookies')))
      .cookies;
  }

  /** The image of `area` in Chromium's encoding (or sections), held to the settings' limits. */
  screenshot(area: CaptureArea, format: ImageFormat): Promise<Shot> {
    return screenshot(
      this.cdp,
      this.world,
      { ...this.spec, capture: area, format },
      this.scope,
      this.settings,
    );
  }

  /** The shot in `format` (stitched, re-encoded when Chromium's own encoding will not do). */
  encode(shot: Shot, format: ImageFormat, transparent: boolean): Promise<Buffer> {
    return this.scope.run(encode(shot, format, transparent));
  }

  printPdf(): Promise<PrintedPdf> {
    if (!this.spec.pdf) throw new Error('PageSession: printPdf() without pdf options');
    return printPdf(this.cdp, this.scope, this.spec.pdf, this.settings);
  }

  /** The main frame's url now (after redirects and the page's own navigations); else the document's. */
  async finalUrl(): Promise<string> {
    const fallback = this.response.url;
    const url = await this.scope
      .run(this.cdp.send<{ frameTree: { frame: { url: string } } }>('Page.getFrameTree'))
      .then((tree) => tree.frameTree.frame.url)
      .catch(() => fallback);
    return url.startsWith('http') ? url : fallback;
  }

  /** What the egress guard refused while the page loaded (setUp first). */
  refused(): RefusedRequests | undefined {
    return this.refusedWatch?.();
  }
}

/** An egress proxy listener's readings (browser.ts EgressSession, egress/ PinningProxy, a country route). */
export interface EgressListener {
  failureFor(hostname: string): { kind: string; reason: string } | undefined;
  isOwnAnswer?(headers: Record<string, unknown>): boolean;
}

export interface PageSessionRequest {
  /** Whose turn it is in the browser queue (a project). */
  queueKey: string;
  /** A country route: the page goes out through its proxy listener, whose verdicts alone count. */
  route?: EgressListener & { server: string };
  /** The process-wide egress proxy: explains a failure the page's own listener did not see. */
  sharedEgress?: EgressListener;
}

/**
 * Runs `steps` on a PageSession once the pool admits the job (fair queue, deadline, one retry on a lost
 * page: browser-pool.ts). Failures are explained from the proxy listener this very page used (the route's,
 * else its own session's), the shared proxy's record only as the fallback; verdict headers count only when
 * that listener's secret is on them.
 */
export function withPageSession<T>(
  pool: BrowserPool,
  request: PageSessionRequest,
  deadline: JobDeadline,
  spec: CaptureSpec,
  settings: Omit<CaptureSettings, keyof EgressReadings>,
  steps: (page: PageSession) => Promise<T>,
): Promise<T> {
  const { route, sharedEgress } = request;
  return pool.withPage({ proxyServer: route?.server, queueKey: request.queueKey }, deadline, (job) => {
    const own = job.page.egress;
    return steps(
      new PageSession(job, spec, {
        ...settings,
        egressFailure: (hostname) =>
          route?.failureFor(hostname) ?? own?.failureFor(hostname) ?? sharedEgress?.failureFor(hostname),
        isEgressAnswer: (headers) =>
          (route
            ? route.isOwnAnswer?.(headers)
            : (own?.isOwnAnswer?.(headers) ?? sharedEgress?.isOwnAnswer?.(headers))) ?? true,
      }),
    );
  });
}
