import { STATUS_CODES } from 'node:http';
import { errorDocUrl, errorLinks, type ApiError } from '../errors.js';
import type { ScrapeRequest } from '../request/scrape-request.js';
import type { CostLine } from './cost.js';
import type { FormattedContent } from './formats.js';
import { screenshotsResultOf, type StoredScreenshot } from './scrape-screenshots.js';

/**
 * The scrape answer both SDKs parse (docs/compat.md, Web Scraping API), built in this one place. The
 * Python SDK reads several fields with [] (a missing one is a KeyError for its users): config.headers,
 * config.url, config.method, config.body, result.content, result.format, result.status, result.success,
 * result.status_code, result.reason, result.duration, result.log_url, result.url, result.request_headers,
 * result.response_headers, and result.error.code / message when success is false.
 */

export interface EnvelopeInput {
  logUuid: string;
  logUrl: string;
  request: ScrapeRequest;
  project: { name: string };
  env: 'LIVE' | 'TEST';
  cost: { total: number; details: CostLine[] };
  cache: { state: 'HIT' | 'MISS' | 'BYPASS'; entry: string | null };
  durationMs: number;
  publicUrl: string;
  /** The country whose egress proxy the scrape left by (SNAPWIRE_COUNTRY_PROXIES); else this host's network. */
  egressCountry?: string;
  /** What the target answered; undefined when the scrape failed before any answer. */
  upstream?: {
    status: number;
    url: string;
    requestHeaders: Record<string, string>;
    responseHeaders: Record<string, string>;
    setCookies: string[];
    /** The redirects' Set-Cookie lines (each with the URL that set it), listed before the final ones. */
    redirectSetCookies?: Array<{ url: string; setCookies: string[] }>;
    size: number;
  };
  content?: FormattedContent;
  /** extraction_template's result (scrape/extracted-data.ts). */
  extractedData?: { data: unknown; content_type: string };
  browserData?: Record<string, unknown>;
  screenshots?: StoredScreenshot[];
  error?: ApiError;
  /** An asynchronous scrape: the webhook it is delivered to and its job (context.webhook, context.job). */
  webhook?: AsyncScrapeContext;
}

/** The webhook facts an asynchronous scrape's envelope carries in its context. */
export interface AsyncScrapeContext {
  name: string;
  uuid: string;
  jobUuid: string;
}

export function buildScrapeEnvelope(input: EnvelopeInput) {
  const { request, upstream, content, error } = input;
  const status = upstream?.status ?? 0;
  return {
    uuid: input.logUuid,
    config: configOf(input),
    context: {
      asp: false,
      cache: input.cache,
      cost: { details: input.cost.details, total: input.cost.total },
      debug: request.debug,
      env: input.env,
      project: input.project.name,
      // country: the egress country used (null: this host's own network, no country proxies configured);
      // the country asked for is kept beside it, validated (docs/compat.md, "country").
      proxy: {
        country: input.egressCountry ?? null,
        country_requested: request.country ?? null,
        pool: request.proxyPool,
        identity: null,
      },
      redirects: [],
      retry: 0,
      schedule: null,
      // The TypeScript SDK types it as the session's name (ContextData.session?: string).
      session: request.session ?? null,
      spider: null,
      url: request.url,
      // An asynchronous scrape says where it is delivered (never the webhook's secret).
      webhook: input.webhook ? { name: input.webhook.name, uuid: input.webhook.uuid } : null,
      job: input.webhook ? { uuid: input.webhook.jobUuid } : null,
      // Where the answer came from: no browser, or Chromium on the engine.
      fingerprint: null,
      is_xml_http_request: false,
    },
    result: {
      browser_data: input.browserData ?? {},
      content: content?.content ?? '',
      content_encoding: content?.contentEncoding ?? 'utf-8',
      content_type: content?.contentType ?? upstream?.responseHeaders['content-type'] ?? null,
      cookies: upstream
        ? [
            ...(upstream.redirectSetCookies ?? []).flatMap((hop) =>
              hop.setCookies.map((line) => parseSetCookie(line, hop.url)),
            ),
            ...upstream.setCookies.map((line) => parseSetCookie(line, upstream.url)),
          ]
        : [],
      dns: null,
      duration: Number((input.durationMs / 1000).toFixed(3)),
      environment_variables: {},
      error: error ? errorOf(error, input.publicUrl) : null,
      extracted_data: input.extractedData ?? null,
      format: content?.format ?? 'text',
      iframes: [],
      log_url: input.logUrl,
      reason: STATUS_CODES[status] ?? (error ? error.definition.description : ''),
      request_headers: upstream?.requestHeaders ?? {},
      response_headers: upstream?.responseHeaders ?? {},
      screenshots: screenshotsResultOf(input.publicUrl, input.logUuid, input.screenshots ?? []),
      size: upstream?.size ?? 0,
      ssl: null,
      status: 'DONE',
      status_code: status,
      success: error === undefined,
      url: upstream?.url ?? request.url,
    },
  };
}

export type ScrapeEnvelope = ReturnType<typeof buildScrapeEnvelope>;

/** The request as the answer repeats it (the SDKs' own field names). */
function configOf(input: EnvelopeInput) {
  const { request } = input;
  const { browser } = request;
  return {
    asp: request.asp,
    auto_scroll: browser.autoScroll,
    body: request.body ? request.body.toString('utf8') : null,
    cache: request.cache !== undefined,
    cache_clear: request.cache?.clear ?? false,
    cache_ttl: request.cache?.ttlSeconds ?? null,
    correlation_id: request.correlationId ?? null,
    cost_budget: request.costBudget ?? null,
    country: request.country ?? null,
    debug: request.debug,
    dns: request.dns,
    env: input.env,
    format: request.format,
    format_options: request.formatOptions,
    geolocation: browser.geolocation
      ? `${browser.geolocation.latitude},${browser.geolocation.longitude}`
      : null,
    // The caller's own headers: they are its secrets, and it sent them.
    headers: request.headers,
    js: browser.js ?? null,
    js_scenario: browser.scenario?.map((step) => ({ [step.action]: step.config })) ?? null,
    lang: request.lang ?? null,
    method: request.method,
    os: request.os ?? null,
    project: input.project.name,
    proxified_response: request.proxifiedResponse,
    proxy_pool: request.proxyPool,
    render_js: request.renderJs,
    rendering_stage: browser.renderingStage,
    rendering_wait: browser.renderingWaitMs,
    retry: request.retry,
    screenshot_flags: browser.screenshotFlags.length > 0 ? browser.screenshotFlags.join(',') : null,
    screenshots: Object.fromEntries(browser.screenshots.map((shot) => [shot.name, shot.asked])),
    session: request.session ?? null,
    session_sticky_proxy: false,
    ssl: request.ssl,
    tags: request.tags,
    timeout: request.timeoutMs,
    url: request.url,
    wait_for_selector:
      browser.waitForSelector === undefined
        ? null
        : browser.waitForSelector.kind === 'xpath'
          ? browser.waitForSelector.xpath
          : browser.waitForSelector.kind === 'selector'
            ? browser.waitForSelector.selector
            : null,
    webhook_name: input.webhook?.name ?? null,
  };
}

/** result.error: the fields the TypeScript SDK's errResult and the Python SDK's ErrorFactory read. */
function errorOf(error: ApiError, publicUrl: string) {
  return {
    code: error.code,
    description: error.definition.description,
    doc_url: errorDocUrl(error.code, publicUrl),
    http_code: error.definition.httpStatus,
    links: errorLinks(error.code, publicUrl),
    message: error.reason,
    retryable: error.definition.retryable,
  };
}

/** One Set-Cookie line as Scrapfly lists it in result.cookies. */
function parseSetCookie(line: string, url: string) {
  const [pair = '', ...attributes] = line.split(';');
  const at = pair.indexOf('=');
  const cookie = {
    name: (at < 0 ? pair : pair.slice(0, at)).trim(),
    value: at < 0 ? '' : pair.slice(at + 1).trim(),
    domain: hostOf(url),
    path: '/',
    expires: null as string | null,
    max_age: null as number | null,
    secure: false,
    http_only: false,
    same_site: null as string | null,
    comment: null,
    size: line.length,
  };
  for (const attribute of attributes) {
    const [rawName = '', ...rest] = attribute.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (name === 'domain' && value) cookie.domain = value.replace(/^\./, '');
    else if (name === 'path' && value) cookie.path = value;
    else if (name === 'expires' && value) cookie.expires = value;
    else if (name === 'max-age' && /^-?\d+$/.test(value)) cookie.max_age = Number(value);
    else if (name === 'secure') cookie.secure = true;
    else if (name === 'httponly') cookie.http_only = true;
    else if (name === 'samesite' && value) cookie.same_site = value;
  }
  return cookie;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
