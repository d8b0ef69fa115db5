// The Web Scraping API (`/scrape`, docs/compat.md §7): its parameters, the envelope it answers, and the
// errors a scrape raises. Kept apart from the screenshot client so that the two stay readable.

import { Buffer } from 'node:buffer';
import { SnapwireApiError, type SnapwireApiErrorInit } from './errors.js';
import { base64url } from './params.js';

// The values as lists too, so that the CLI's choices and the MCP tool's schema come from one place.
export const SCRAPE_FORMATS = ['raw', 'text', 'markdown', 'clean_html', 'json'] as const;
export type ScrapeFormat = (typeof SCRAPE_FORMATS)[number];
export const SCRAPE_FORMAT_OPTIONS = ['no_links', 'no_images', 'only_content'] as const;
export type ScrapeFormatOption = (typeof SCRAPE_FORMAT_OPTIONS)[number];
/** The methods `scrape()` sends (the service also answers HEAD, without a body to read). */
export const SCRAPE_METHODS = ['GET', 'POST', 'PUT', 'PATCH'] as const;
export type ScrapeMethod = (typeof SCRAPE_METHODS)[number];

/** One step of `js_scenario` (docs/compat.md §7): an object with one key, the action. */
export type ScrapeScenarioStep =
  | { click: { selector: string; ignore_if_not_visible?: boolean; multiple?: boolean } }
  | { fill: { selector: string; value: string; clear?: boolean } }
  | { select: { selector: string; value?: string; values?: readonly string[] } }
  | { wait: number }
  | { wait_for_selector: { selector: string; state?: 'visible' | 'hidden'; timeout?: number } }
  | { wait_for_navigation: { timeout?: number } }
  | { scroll: { selector?: string; infinite?: number } }
  | { execute: { script: string; timeout?: number } }
  | {
      condition: {
        selector: string;
        selector_state?: 'existing' | 'not_existing';
        action?: 'exit_success' | 'exit_failed' | 'continue';
      };
    };

export const SCRAPE_SCREENSHOT_FLAGS = [
  'load_images',
  'dark_mode',
  'block_banners',
  'print_media_format',
  'high_quality',
] as const;
export type ScrapeScreenshotFlag = (typeof SCRAPE_SCREENSHOT_FLAGS)[number];

/** `result.screenshots.NAME`: where the image of one `screenshots[NAME]` is fetched. */
export interface ScrapeScreenshot {
  /** `{host}/scrape/screenshot/{log_uuid}/{NAME}`, served with `?key=` of the same project and env. */
  url: string;
  extension: 'jpg' | 'png' | string;
  format: 'fullpage' | 'viewport' | 'element' | string;
  size: number;
  css_selector: string | null;
  [extra: string]: unknown;
}

export interface ScrapeParams {
  /** Page to scrape (http or https). */
  url: string;
  /** Sent to the target as it is (default `GET`). `render_js` works with GET only. */
  method?: ScrapeMethod;
  /**
   * The target's request body, sent as raw bytes. Its type is `headers['content-type']` when given, else
   * `text/plain; charset=utf-8` for a string and `application/octet-stream` for bytes.
   */
  body?: string | Uint8Array;
  /** Request headers for the target, sent as `headers[NAME]=VALUE`; cookies as `{ cookie: 'a=1; b=2' }`. */
  headers?: Readonly<Record<string, string>>;
  /** `raw` (the service's default: as served), `text`, `markdown`, `clean_html`, `json`. */
  format?: ScrapeFormat;
  /** Sent after the format: `markdown:no_links,only_content`. */
  format_options?: readonly ScrapeFormatOption[];
  /** Whole-request budget in milliseconds (service default 60,000). */
  timeout?: number;
  /** Load the page in Chromium and answer its rendered DOM (GET only). */
  render_js?: boolean;
  /** With `render_js`: CSS selector or XPath that must be visible first. */
  wait_for_selector?: string;
  /** With `render_js`: plain JavaScript (body of an async function), sent base64url without padding. */
  js?: string;
  /** With `render_js`: milliseconds to wait last. */
  rendering_wait?: number;
  /** With `render_js`: `complete` (default) or `domcontentloaded`. */
  rendering_stage?: 'complete' | 'domcontentloaded';
  /** With `render_js`: scroll to the bottom and back (lazy content). */
  auto_scroll?: boolean;
  /** With `render_js`: `lat,lon[,accuracy]` or an object. */
  geolocation?: string | { latitude: number; longitude: number; accuracy?: number };
  /** With `render_js`: steps run in order on the page after `js`, sent as base64url of their JSON. */
  js_scenario?: readonly ScrapeScenarioStep[];
  /**
   * With `render_js`: `{NAME: 'fullpage' | 'viewport' | selector}`, at most 10; each answered in
   * `result.screenshots.NAME` (fetch it with `client.scrapeScreenshot()`).
   */
  screenshots?: Readonly<Record<string, string>>;
  /** With `screenshots`: how the page is shaped for them (`high_quality`: PNG instead of JPEG). */
  screenshot_flags?: readonly ScrapeScreenshotFlag[];
  /** A cookie jar of the project and environment kept across scrapes under this name. */
  session?: string;
  /** Languages, sent as `Accept-Language` (unless `headers['accept-language']` is given). */
  lang?: readonly string[];
  /** The most credits this scrape may cost. */
  cost_budget?: number;
  /** Kept in the answer's `config`. */
  tags?: readonly string[];
  /** Your id for this scrape, kept in the answer's `config`. */
  correlation_id?: string;
  /** Accepted for Scrapfly programs; Snapwire has no anti-bot bypass (`context.asp` stays false). */
  asp?: boolean;
  /** `public_datacenter_pool` (the direct egress) is the only pool a Snapwire host has. */
  proxy_pool?: string;
  /** Accepted; no effect on a Snapwire host. */
  debug?: boolean;
  /**
   * Egress country (us, us,ca,mx, -gb, us:10,gb:5): routed through the operator's country proxies when the
   * host has them, else recorded only (context.proxy.country says which).
   */
  country?: string;
  /**
   * A webhook of the project and environment: the service answers at once with an envelope whose
   * `context.job.uuid` names the job, and POSTs the scrape's envelope to the webhook (signed).
   */
  webhook_name?: string;
}

/** `result.error` of a failed scrape. */
export interface ScrapeErrorDetail {
  code: string;
  message: string;
  description?: string;
  retryable: boolean;
  http_code?: number;
  doc_url?: string;
  links?: Record<string, string>;
  [extra: string]: unknown;
}

export interface ScrapeCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: string | null;
  max_age: number | null;
  secure: boolean;
  http_only: boolean;
  same_site: string | null;
  [extra: string]: unknown;
}

/** What `/scrape` answers: Scrapfly's envelope (docs/compat.md §7). Unknown fields are kept. */
export interface ScrapeResult {
  uuid: string;
  config: {
    url: string;
    method: string;
    headers: Record<string, string>;
    body: string | null;
    format: string;
    format_options: string[];
    render_js: boolean;
    timeout: number;
    tags: string[];
    correlation_id: string | null;
    [extra: string]: unknown;
  };
  context: {
    asp: boolean;
    cache: { state: string; [extra: string]: unknown };
    cost: { total: number; details: Array<{ code: string; amount: number; description: string }> };
    env: 'LIVE' | 'TEST';
    project: string;
    url: string;
    /** `country`: the egress country used (null: the host's own network) and the validated spec asked for. */
    proxy: { country: string | null; country_requested: string | null; [extra: string]: unknown };
    /** A scrape with `webhook_name`: the webhook it is delivered to, and its job (null otherwise). */
    webhook?: { name: string; uuid: string; [extra: string]: unknown } | null;
    job?: { uuid: string; [extra: string]: unknown } | null;
    [extra: string]: unknown;
  };
  result: {
    /** The page in the asked format; base64 when `format` is `binary`. */
    content: string;
    content_type: string | null;
    content_encoding: string;
    /** `text`, or `binary` for a non-text answer in `raw`. */
    format: 'text' | 'binary' | string;
    status: string;
    /** The target's HTTP status (0 when it never answered). */
    status_code: number;
    success: boolean;
    reason: string;
    /** The final URL, after redirects. */
    url: string;
    /** Seconds. */
    duration: number;
    log_url: string;
    request_headers: Record<string, string>;
    response_headers: Record<string, string>;
    cookies: ScrapeCookie[];
    size: number;
    browser_data: {
      javascript_evaluation_result?: unknown;
      local_storage_data?: Record<string, string>;
      session_storage_data?: Record<string, string>;
      xhr_call?: unknown[];
      [extra: string]: unknown;
    };
    screenshots: Record<string, ScrapeScreenshot>;
    iframes: unknown[];
    error: ScrapeErrorDetail | null;
    [extra: string]: unknown;
  };
}

/**
 * The query string of `/scrape` (without `key`). Unset parameters are left out; booleans become
 * `true` / `false`; `js` is base64url-encoded.
 */
export function buildScrapeQuery(params: ScrapeParams): URLSearchParams {
  if (params === null || typeof params !== 'object') throw new TypeError('scrape params must be an object');
  if (typeof params.url !== 'string' || params.url.trim() === '') {
    throw new TypeError('scrape params: `url` is required');
  }
  const query = new URLSearchParams();
  const put = (name: string, value: string | number | boolean | undefined | null): void => {
    if (value === undefined || value === null || value === '') return;
    query.set(name, typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value));
  };
  put('url', params.url);
  for (const [name, value] of Object.entries(params.headers ?? {})) query.append(`headers[${name}]`, value);
  if (params.format !== undefined) {
    const options = params.format_options ?? [];
    put('format', options.length > 0 ? `${params.format}:${options.join(',')}` : params.format);
  } else if (params.format_options && params.format_options.length > 0) {
    throw new TypeError('scrape params: `format_options` needs a `format`');
  }
  put('timeout', params.timeout);
  put('render_js', params.render_js);
  put('wait_for_selector', params.wait_for_selector);
  if (params.js !== undefined && params.js !== '') put('js', base64url(params.js));
  if (params.js_scenario !== undefined) put('js_scenario', base64url(JSON.stringify(params.js_scenario)));
  for (const [name, value] of Object.entries(params.screenshots ?? {}))
    query.append(`screenshots[${name}]`, value);
  if (params.screenshot_flags && params.screenshot_flags.length > 0)
    put('screenshot_flags', params.screenshot_flags.join(','));
  put('rendering_wait', params.rendering_wait);
  put('rendering_stage', params.rendering_stage);
  put('auto_scroll', params.auto_scroll);
  const geo = params.geolocation;
  if (geo !== undefined)
    put(
      'geolocation',
      typeof geo === 'string'
        ? geo
        : [geo.latitude, geo.longitude, ...(geo.accuracy === undefined ? [] : [geo.accuracy])].join(','),
    );
  if (params.lang && params.lang.length > 0) put('lang', params.lang.join(','));
  put('cost_budget', params.cost_budget);
  if (params.tags && params.tags.length > 0) put('tags', params.tags.join(','));
  put('correlation_id', params.correlation_id);
  put('asp', params.asp);
  put('proxy_pool', params.proxy_pool);
  put('debug', params.debug);
  put('country', params.country);
  put('session', params.session);
  put('webhook_name', params.webhook_name);
  return query;
}

/** The Content-Type of the call carrying `params.body`: the target's, as `headers['content-type']` says. */
export function scrapeBodyContentType(params: ScrapeParams): string | undefined {
  if (params.body === undefined) return undefined;
  const given = Object.entries(params.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type');
  if (given) return given[1];
  return typeof params.body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

/** The content as bytes when the target answered a binary (`result.format` `binary`), else as text. */
export function scrapeContent(scrape: Pick<ScrapeResult, 'result'>): string | Buffer {
  const { result } = scrape;
  return result.format === 'binary' || result.content_encoding === 'base64'
    ? Buffer.from(result.content, 'base64')
    : result.content;
}

/**
 * The scrape ran and failed (a refused address, DNS, a timeout, a selector that never appeared, a body
 * over the cap, …): the service answered the envelope with `result.success: false`. `scrape` holds that
 * envelope (its `result.log_url`, its `context.cost`).
 */
export class ScrapeError extends SnapwireApiError {
  override name = 'ScrapeError';
  readonly scrape: ScrapeResult;

  constructor(message: string, init: SnapwireApiErrorInit & { scrape: ScrapeResult }) {
    super(message, init);
    this.scrape = init.scrape;
  }
}

/**
 * The target answered 4xx or 5xx (`ERR::SCRAPE::BAD_UPSTREAM_RESPONSE`): the page it answered is in
 * `scrape.result.content`, its status in `upstreamStatus`.
 */
export class UpstreamHttpError extends ScrapeError {
  override name = 'UpstreamHttpError';
  readonly upstreamStatus: number;

  constructor(message: string, init: SnapwireApiErrorInit & { scrape: ScrapeResult }) {
    super(message, init);
    this.upstreamStatus = init.scrape.result.status_code;
  }
}

/** The target answered 4xx (as Scrapfly's SDKs name it). */
export class UpstreamHttpClientError extends UpstreamHttpError {
  override name = 'UpstreamHttpClientError';
}

/** The target answered 5xx (as Scrapfly's SDKs name it). */
export class UpstreamHttpServerError extends UpstreamHttpError {
  override name = 'UpstreamHttpServerError';
}

export const BAD_UPSTREAM_RESPONSE = 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE';

/** Whether a parsed answer is the scrape envelope (success or not), not §2's error body. */
export function isScrapeEnvelope(body: unknown): body is ScrapeResult {
  if (body === null || typeof body !== 'object') return false;
  const { result, config } = body as { result?: unknown; config?: unknown };
  return (
    result !== null &&
    typeof result === 'object' &&
    'success' in result &&
    config !== null &&
    typeof config === 'object'
  );
}

/** The typed error of an envelope whose `result.success` is false. */
export function scrapeErrorFromEnvelope(
  status: number,
  headers: Record<string, string>,
  scrape: ScrapeResult,
  retryAfterSeconds: number | undefined,
): ScrapeError {
  const detail = scrape.result.error;
  const upstreamStatus = scrape.result.status_code;
  const code = detail?.code ?? headers['x-scrapfly-reject-code'] ?? `HTTP_${status}`;
  const init = {
    code,
    httpStatus: status,
    retryable: detail?.retryable ?? false,
    reason: detail?.message,
    errorId: headers['x-scrapfly-reject-id'],
    docUrl: detail?.doc_url ?? detail?.links?.['Related Error Doc'] ?? headers['x-scrapfly-reject-doc'],
    retryAfterSeconds,
    body: scrape,
    headers,
    scrape,
  };
  const message = `${code}: ${detail?.message ?? (scrape.result.reason || `HTTP ${status}`)}`;
  if (code === BAD_UPSTREAM_RESPONSE || (status < 300 && upstreamStatus >= 400)) {
    return upstreamStatus >= 500
      ? new UpstreamHttpServerError(message, init)
      : new UpstreamHttpClientError(message, init);
  }
  return new ScrapeError(message, init);
}
