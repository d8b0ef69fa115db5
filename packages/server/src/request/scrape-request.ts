// Over 400 lines as one coherent thing: the /scrape wire contract: some forty parameters of two SDKs,
// parsed once into one ScrapeRequest; the parsers share the parameter reader and its error messages.
import { ApiError } from '../errors.js';
import { parseTargetUrl } from '../egress/target-url.js';
import { parseQueryBoolean } from './boolean.js';
import type { CaptureArea, Geolocation } from '../engine/capture-spec.js';
import type { ScenarioStep } from '../engine/scenario-spec.js';
import { elementTargetOf, parseJsScenario } from './js-scenario.js';
import {
  parseScreenshotFlags,
  parseScrapeScreenshots,
  type ScrapeScreenshot,
  type ScreenshotFlag,
} from './scrape-screenshots.js';
import { MAX_CACHE_TTL_SECONDS } from '../results/screenshot-cache.js';
import { parseTemplateChoice, type TemplateChoice } from './extraction-request.js';
import { parseScrapeCountry } from './country-codes.js';
import { HEADER_PARAMETER, parseHeaderParameters } from './headers.js';

/**
 * The Web Scraping API's wire contract (docs/compat.md, "Web Scraping API"): what `client.scrape()` of
 * Scrapfly's TypeScript SDK 0.11.1 and Python SDK 0.10.5 send to /scrape, parsed once into a ScrapeRequest.
 * Every parameter either SDK sends is read here; an unknown one is refused by name, and one this version
 * does not serve is refused with a catalogue error naming it instead of being silently ignored.
 */

export const SCRAPE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'HEAD'] as const;
export type ScrapeMethod = (typeof SCRAPE_METHODS)[number];

export const SCRAPE_FORMATS = ['raw', 'text', 'markdown', 'clean_html', 'json'] as const;
export type ScrapeFormat = (typeof SCRAPE_FORMATS)[number];
export const SCRAPE_FORMAT_OPTIONS = ['no_links', 'no_images', 'only_content'] as const;
export type ScrapeFormatOption = (typeof SCRAPE_FORMAT_OPTIONS)[number];

/** The pool Snapwire's own egress is (no upstream proxy): the SDKs' default name is accepted. */
export const DIRECT_PROXY_POOL = 'public_datacenter_pool';

export const SCRAPE_LIMITS = {
  minTimeoutMs: 1_000,
  defaultTimeoutMs: 60_000,
  maxRenderingWaitMs: 60_000,
  maxJsBytes: 16 * 1024,
  maxHeaders: 64,
  maxHeaderBytes: 8 * 1024,
  maxTags: 32,
  maxTagLength: 64,
  maxCorrelationIdLength: 255,
  maxSessionNameLength: 255,
  defaultCacheTtlSeconds: 86_400,
  maxCacheTtlSeconds: MAX_CACHE_TTL_SECONDS,
} as const;

export interface ScrapeRequest {
  url: string;
  hostname: string;
  method: ScrapeMethod;
  /** Headers for the target, names lower-case; cookies arrive here as `cookie` (headers[cookie]). */
  headers: Record<string, string>;
  /** The upstream body, raw bytes as the caller sent them; undefined without one. */
  body: Buffer | undefined;
  format: ScrapeFormat;
  formatOptions: ScrapeFormatOption[];
  timeoutMs: number;
  renderJs: boolean;
  /** Only with render_js. */
  browser: {
    waitForSelector: CaptureArea | undefined;
    js: string | undefined;
    renderingWaitMs: number;
    autoScroll: boolean;
    renderingStage: 'complete' | 'domcontentloaded';
    geolocation: Geolocation | undefined;
    /** js_scenario: steps run on the page after wait_for_selector and js (request/js-scenario.ts). */
    scenario: ScenarioStep[] | undefined;
    /** screenshots[NAME]: images of the page taken after the scenario (request/scrape-screenshots.ts). */
    screenshots: ScrapeScreenshot[];
    screenshotFlags: ScreenshotFlag[];
  };
  asp: boolean;
  retry: boolean;
  debug: boolean;
  dns: boolean;
  ssl: boolean;
  tags: string[];
  correlationId: string | undefined;
  costBudget: number | undefined;
  lang: string[] | undefined;
  os: string | undefined;
  browserBrand: string | undefined;
  proxyPool: string;
  /**
   * country=: validated (ISO 3166-1 alpha-2, canonical spec), recorded in the log and the answer's
   * context; the scrape leaves by this host's own network (docs/compat.md, "country").
   */
  country?: string;
  /** proxified_response=true: the answer is the target's own status, headers and body. */
  proxifiedResponse: boolean;
  /** session=NAME: the project's cookie jar of that name is sent and updated (scrape/session-store.ts). */
  session: string | undefined;
  /** cache=true: the answer is served from (or stored in) the scrape cache for ttlSeconds. */
  cache: { ttlSeconds: number; clear: boolean } | undefined;
  /** extraction_template: rules run on the scraped content, answered as result.extracted_data. */
  extractionTemplate: TemplateChoice | undefined;
  /** webhook_name: the scrape runs as a queued job and its envelope is delivered to this webhook. */
  webhookName: string | undefined;
}

/** Every parameter the two SDKs send (headers[NAME] and screenshots[NAME] aside). */
export const SCRAPE_PARAMETERS = [
  'key',
  'url',
  'country',
  'render_js',
  'wait_for_selector',
  'js',
  'js_scenario',
  'rendering_wait',
  'rendering_stage',
  'auto_scroll',
  'screenshot_flags',
  'format',
  'cache',
  'cache_ttl',
  'cache_clear',
  'session',
  'session_sticky_proxy',
  'timeout',
  'retry',
  'webhook_name',
  'tags',
  'correlation_id',
  'cost_budget',
  'proxified_response',
  'extraction_template',
  'extraction_prompt',
  'extraction_model',
  // The Python SDK's legacy extraction rules (base64 JSON).
  'extract',
  'geolocation',
  'lang',
  'os',
  'browser_brand',
  'dns',
  'ssl',
  'debug',
  'asp',
  'proxy_pool',
] as const;

const SCREENSHOT_PARAMETER = /^screenshots\[([^\]]*)\]$/;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** Framing and hop-by-hop headers: Snapwire sets these itself for the request it sends. */
const REFUSED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
]);

const configError = (reason: string) => new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);

type Query = Record<string, string | string[] | undefined>;

/** What the HTTP request carried besides its query string. */
export interface ScrapeTransport {
  method: string;
  /** The request's Content-Type header (the TypeScript SDK labels even a bodiless GET application/json). */
  contentType: string | undefined;
  body: Buffer | undefined;
}

export function parseScrapeRequest(
  query: Query,
  transport: ScrapeTransport,
  settings: { maxTimeoutMs: number },
): ScrapeRequest {
  for (const name of Object.keys(query)) {
    if (
      !(SCRAPE_PARAMETERS as readonly string[]).includes(name) &&
      !HEADER_PARAMETER.test(name) &&
      !SCREENSHOT_PARAMETER.test(name)
    ) {
      throw configError(
        `Unknown parameter "${name}"; known parameters: ${SCRAPE_PARAMETERS.join(', ')}, headers[NAME], screenshots[NAME]`,
      );
    }
  }
  const get = (name: string): string | undefined => {
    const value = query[name];
    if (Array.isArray(value))
      throw configError(`The ${name} parameter was given ${value.length} times; give it once`);
    return value === undefined || value === '' ? undefined : value;
  };
  const flag = (name: string): boolean | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    // Any letter case: the Python SDK writes true/false, some clients True/False (docs/compat.md §1).
    const parsed = parseQueryBoolean(value);
    if (parsed === undefined) throw configError(`The ${name} parameter "${value}" must be true or false`);
    return parsed;
  };

  const method = transport.method.toUpperCase();
  if (!(SCRAPE_METHODS as readonly string[]).includes(method)) {
    throw configError(`/scrape is called with ${SCRAPE_METHODS.join(', ')}; got ${method}`);
  }

  const rawUrl = get('url');
  if (rawUrl === undefined || rawUrl.trim() === '') {
    throw configError(
      'The url parameter is required: the page to scrape, url-encoded (url=https%3A%2F%2Fexample.com)',
    );
  }
  const target = parseTargetUrl(rawUrl, { what: 'url parameter', verb: 'scraped' });

  refuseNotServed(query, get, flag);

  const headers = parseHeaders(query);
  const body = transport.body !== undefined && transport.body.length > 0 ? transport.body : undefined;
  if (body && (method === 'GET' || method === 'HEAD')) {
    throw configError(`A ${method} scrape sends no body; use POST, PUT or PATCH to send one`);
  }
  // The upstream body's type: headers[content-type] first (the SDKs put the caller's there), else the
  // request's own Content-Type when it carries a body. A bodiless request's label (the TypeScript SDK
  // sends application/json on every call) says nothing about the target and is not passed on.
  if (body && headers['content-type'] === undefined && transport.contentType) {
    headers['content-type'] = transport.contentType;
  }
  if (!body && method !== 'GET' && method !== 'HEAD') {
    // The SDKs label a bodiless POST text/plain; there is no body to describe.
    delete headers['content-type'];
  }

  const format = parseFormat(get('format'));
  const timeoutMs =
    parseWhole(
      get('timeout'),
      'timeout',
      SCRAPE_LIMITS.minTimeoutMs,
      settings.maxTimeoutMs,
      'milliseconds',
    ) ?? SCRAPE_LIMITS.defaultTimeoutMs;
  const renderJs = flag('render_js') ?? false;

  // Browser-only parameters: both SDKs send them only with render_js, and they mean nothing without it.
  const browserOnly = [
    'wait_for_selector',
    'js',
    'js_scenario',
    'rendering_wait',
    'auto_scroll',
    'geolocation',
  ];
  if (!renderJs) {
    const given = browserOnly.filter((name) => get(name) !== undefined);
    if (given.length > 0) {
      throw configError(
        `${given.join(', ')} ${given.length > 1 ? 'need' : 'needs'} render_js=true (a browser); add render_js=true or drop ${given.length > 1 ? 'them' : 'it'}`,
      );
    }
  }
  if (renderJs && method !== 'GET') {
    throw configError(
      `render_js=true loads the page in a browser, which sends GET; a ${method} scrape runs without render_js`,
    );
  }
  const renderingWaitMs =
    parseWhole(
      get('rendering_wait'),
      'rendering_wait',
      0,
      SCRAPE_LIMITS.maxRenderingWaitMs,
      'milliseconds',
    ) ?? 0;
  if (renderingWaitMs >= timeoutMs) {
    throw configError(
      `rendering_wait (${renderingWaitMs} ms) must be shorter than timeout (${timeoutMs} ms)`,
    );
  }
  const renderingStage = get('rendering_stage') ?? 'complete';
  if (renderingStage !== 'complete' && renderingStage !== 'domcontentloaded') {
    throw configError(
      `The rendering_stage parameter "${renderingStage}" is not supported; use complete or domcontentloaded`,
    );
  }
  const waitForSelector = get('wait_for_selector');
  const scenario = get('js_scenario');
  const screenshots = parseScrapeScreenshots(query);
  if (screenshots.length > 0 && !renderJs) {
    throw configError(
      `${screenshots.map((shot) => `screenshots[${shot.name}]`).join(', ')} need render_js=true (a browser takes them); add render_js=true`,
    );
  }
  const country = get('country');
  const proxyPool = get('proxy_pool') ?? DIRECT_PROXY_POOL;
  if (proxyPool !== DIRECT_PROXY_POOL) {
    throw new ApiError(
      'ERR::PROXY::POOL_NOT_FOUND',
      `No proxy pool "${proxyPool}" is configured on this Snapwire host; drop proxy_pool or use ${DIRECT_PROXY_POOL} (its direct egress)`,
    );
  }
  const session = get('session');
  if (session !== undefined) {
    if (
      session.length > SCRAPE_LIMITS.maxSessionNameLength ||
      CONTROL.test(session) ||
      session.trim() === ''
    ) {
      throw configError(
        `The session parameter must be a name of 1 to ${SCRAPE_LIMITS.maxSessionNameLength} characters without control characters; got ${session.length} characters`,
      );
    }
  }
  const costBudget = get('cost_budget');
  const lang = get('lang');
  const correlationId = get('correlation_id');
  if (correlationId !== undefined && correlationId.length > SCRAPE_LIMITS.maxCorrelationIdLength) {
    throw configError(
      `The correlation_id parameter is ${correlationId.length} characters long; at most ${SCRAPE_LIMITS.maxCorrelationIdLength}`,
    );
  }
  if (lang !== undefined && headers['accept-language'] === undefined) {
    headers['accept-language'] = lang;
  }

  // cache_ttl and cache_clear only count with cache=true (as the SDKs send them), but are still validated.
  const cacheTtl = parseWhole(get('cache_ttl'), 'cache_ttl', 1, SCRAPE_LIMITS.maxCacheTtlSeconds, 'seconds');
  const cacheClear = flag('cache_clear') ?? false;
  const cache = flag('cache') ?? false;
  const extractionTemplate = get('extraction_template');
  const proxifiedResponse = flag('proxified_response') ?? false;
  const webhookName = get('webhook_name');
  if (webhookName !== undefined && proxifiedResponse) {
    throw configError(
      'proxified_response=true answers the target itself, which an asynchronous scrape (webhook_name) cannot: its envelope is delivered to the webhook. Drop one of them',
    );
  }

  return {
    url: target.url.href,
    hostname: target.hostname,
    method: method as ScrapeMethod,
    headers,
    body,
    format: format.format,
    formatOptions: format.options,
    timeoutMs,
    renderJs,
    browser: {
      waitForSelector: waitForSelector === undefined ? undefined : parseElementTarget(waitForSelector),
      js: parseBase64Script(get('js'), 'js'),
      renderingWaitMs,
      autoScroll: flag('auto_scroll') ?? false,
      renderingStage,
      geolocation: parseGeolocation(get('geolocation')),
      scenario: scenario === undefined ? undefined : parseJsScenario(scenario),
      screenshots,
      // Validated always; they only count with screenshots (both SDKs send them only so).
      screenshotFlags: parseScreenshotFlags(get('screenshot_flags')),
    },
    asp: flag('asp') ?? false,
    retry: flag('retry') ?? true,
    debug: flag('debug') ?? false,
    dns: flag('dns') ?? false,
    ssl: flag('ssl') ?? false,
    tags: parseTags(get('tags')),
    correlationId,
    costBudget:
      costBudget === undefined
        ? undefined
        : parseWhole(costBudget, 'cost_budget', 0, Number.MAX_SAFE_INTEGER, 'credits'),
    lang: lang?.split(',').map((part) => part.trim()),
    os: get('os'),
    browserBrand: get('browser_brand'),
    proxyPool,
    ...(country !== undefined && country !== '' ? { country: parseScrapeCountry(country) } : {}),
    proxifiedResponse,
    session,
    cache: cache
      ? { ttlSeconds: cacheTtl ?? SCRAPE_LIMITS.defaultCacheTtlSeconds, clear: cacheClear }
      : undefined,
    extractionTemplate: extractionTemplate ? parseTemplateChoice(extractionTemplate) : undefined,
    webhookName,
  };
}

/**
 * Parameters both SDKs send that this version does not serve: each one is refused by name with what to do,
 * never dropped silently (a scraper would otherwise get an answer that is not what it asked for).
 */
function refuseNotServed(
  query: Query,
  get: (name: string) => string | undefined,
  flag: (name: string) => boolean | undefined,
): void {
  for (const name of ['extraction_prompt', 'extraction_model', 'extract']) {
    if (get(name) !== undefined) {
      throw configError(
        `${name} is not served on /scrape by this Snapwire version; scrape, then send the content to POST /extraction, or use extraction_template (rules) here`,
      );
    }
  }
  // Read so that a malformed value is still a clear error; without an upstream proxy there is nothing to
  // keep sticky (every scrape leaves from this host's own address).
  flag('session_sticky_proxy');
}

/** The target's headers: Snapwire frames the request itself, so framing and hop-by-hop names are refused. */
function parseHeaders(query: Query): Record<string, string> {
  return parseHeaderParameters(query, {
    maxHeaders: SCRAPE_LIMITS.maxHeaders,
    maxHeaderBytes: SCRAPE_LIMITS.maxHeaderBytes,
    refusedReason: (name) => (REFUSED_HEADERS.has(name) ? 'Snapwire frames the request itself' : undefined),
  });
}

/** `fmt[:opt,opt]` (docs/compat.md): the TypeScript SDK also sends `raw`, the Python SDK never does. */
function parseFormat(value: string | undefined): { format: ScrapeFormat; options: ScrapeFormatOption[] } {
  if (value === undefined) return { format: 'raw', options: [] };
  const [name = '', optionText] = value.split(':', 2);
  if (!(SCRAPE_FORMATS as readonly string[]).includes(name)) {
    throw configError(
      `The format parameter "${name}" is not supported; use one of: ${SCRAPE_FORMATS.join(', ')} (options after a colon: format=markdown:no_links,no_images)`,
    );
  }
  const options: ScrapeFormatOption[] = [];
  for (const option of (optionText ?? '').split(',').map((part) => part.trim())) {
    if (option === '') continue;
    if (!(SCRAPE_FORMAT_OPTIONS as readonly string[]).includes(option)) {
      throw configError(
        `The format option "${option}" is not supported; use ${SCRAPE_FORMAT_OPTIONS.join(', ')}`,
      );
    }
    if (!options.includes(option as ScrapeFormatOption)) options.push(option as ScrapeFormatOption);
  }
  return { format: name as ScrapeFormat, options };
}

function parseWhole(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  unit: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw configError(`The ${name} parameter "${value}" must be a whole number of ${unit}`);
  const number = Number(value);
  if (number < min || number > max) {
    throw configError(`The ${name} parameter must be between ${min} and ${max} ${unit}; got ${number}`);
  }
  return number;
}

function parseTags(value: string | undefined): string[] {
  if (value === undefined) return [];
  const tags = [
    ...new Set(
      value
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
  if (tags.length > SCRAPE_LIMITS.maxTags || tags.some((tag) => tag.length > SCRAPE_LIMITS.maxTagLength)) {
    throw configError(
      `tags takes at most ${SCRAPE_LIMITS.maxTags} comma-separated tags of at most ${SCRAPE_LIMITS.maxTagLength} characters`,
    );
  }
  return tags;
}

function parseElementTarget(value: string): CaptureArea {
  return elementTargetOf(value);
}

/**
 * base64url, with or without padding: the TypeScript SDK strips the `=`, the Python SDK keeps it
 * (scrapfly-sdk 0.10.5 (Python) scrape_config.py uses urlsafe_b64encode). Plain base64 is read too.
 */
export function parseBase64Script(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const compact = value.trim();
  if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw configError(
      `The ${name} parameter is not valid base64url; encode the script with base64url (padding optional)`,
    );
  }
  const decoded = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (decoded.length > SCRAPE_LIMITS.maxJsBytes) {
    throw configError(
      `The ${name} parameter decodes to ${decoded.length} bytes; the limit is ${SCRAPE_LIMITS.maxJsBytes} bytes (16 KB)`,
    );
  }
  const script = decoded.toString('utf8');
  if (script.includes('\uFFFD')) throw configError(`The ${name} parameter does not decode to UTF-8 text`);
  return script;
}

function parseGeolocation(value: string | undefined): Geolocation | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((part) => part.trim());
  const [latitude = NaN, longitude = NaN, accuracy = 1] = parts.map(Number);
  const valid =
    (parts.length === 2 || parts.length === 3) &&
    parts.every((part) => /^-?\d+(\.\d+)?$/.test(part)) &&
    Math.abs(latitude) <= 90 &&
    Math.abs(longitude) <= 180 &&
    accuracy >= 0 &&
    accuracy <= 100_000;
  if (!valid) {
    throw configError(
      `The geolocation parameter "${value}" is not valid; give latitude,longitude[,accuracy in metres] (for example 48.8584,2.2945,10)`,
    );
  }
  return { latitude, longitude, accuracy };
}
