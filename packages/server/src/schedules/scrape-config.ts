import { ApiError } from '../errors.js';
import { parseScrapeRequest, SCRAPE_METHODS, type ScrapeRequest } from '../request/scrape-request.js';

/**
 * A scheduled scrape as stored: /scrape's query parameters (strings, `headers[NAME]` included), plus the
 * method and body of the call when they are not a bodiless GET.
 */
export type ScrapeParams = Record<string, string>;

/** Keys of a stored scrape config that are not query parameters. */
const TRANSPORT_KEYS = ['method', 'body'] as const;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

const invalid = (reason: string) => new ApiError('ERR::SCHEDULER::INVALID_REQUEST', reason);

/**
 * Turns a schedule's `scrape_config` (the TypeScript SDK's createScrapeSchedule sends "the same shape
 * accepted by /scrape", e.g. `{url, render_js, format, headers}`) into stored parameters and validates
 * them exactly as /scrape does (docs/compat.md §6). Values may be strings or JSON values: booleans and
 * numbers become their query form, `headers` an object of `headers[NAME]`, `format_options` a list appended
 * to `format`, a `js` that is not base64url the script itself. `method` and `body` are the call's own.
 * `key` and `webhook_name` belong to the schedule, not here.
 */
export function normaliseScrapeConfig(
  config: unknown,
  settings: { maxTimeoutMs: number },
): { params: ScrapeParams; request: ScrapeRequest } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalid(
      'scrape_config must be an object of /scrape parameters, e.g. {"url": "https://example.com", "format": "markdown"}',
    );
  }
  const params: ScrapeParams = {};
  let formatOptions: string[] = [];
  for (const [name, value] of Object.entries(config as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (name === 'key' || name === 'webhook_name' || name === 'webhook') {
      throw invalid(`scrape_config.${name} is not allowed: the schedule's own key and webhook_name are used`);
    }
    if (name === 'headers') {
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw invalid('scrape_config.headers must be an object of header names and values');
      }
      for (const [header, headerValue] of Object.entries(value as Record<string, unknown>)) {
        params[`headers[${header.toLowerCase()}]`] = String(headerValue);
      }
      continue;
    }
    if (name === 'format_options') {
      formatOptions = Array.isArray(value) ? value.map(String) : String(value).split(',');
      continue;
    }
    let text = Array.isArray(value) ? value.map(String).join(',') : String(value);
    if (name === 'js' && !BASE64URL.test(text)) text = Buffer.from(text, 'utf8').toString('base64url');
    params[name] = text;
  }
  if (formatOptions.length > 0) params.format = `${params.format ?? 'raw'}:${formatOptions.join(',')}`;
  return { params, request: scrapeRequestOf(params, undefined, settings) };
}

/**
 * The ScrapeRequest of stored parameters (`webhookName` given when a run is queued); a catalogue error,
 * as the schedule API answers it, when they are not a valid scrape.
 */
export function scrapeRequestOf(
  params: ScrapeParams,
  webhookName: string | undefined,
  settings: { maxTimeoutMs: number },
): ScrapeRequest {
  const method = (params.method ?? 'GET').toUpperCase();
  if (!(SCRAPE_METHODS as readonly string[]).includes(method)) {
    throw invalid(`scrape_config.method must be one of ${SCRAPE_METHODS.join(', ')}; got ${params.method}`);
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!(TRANSPORT_KEYS as readonly string[]).includes(name)) query[name] = value;
  }
  if (webhookName !== undefined) query.webhook_name = webhookName;
  try {
    return parseScrapeRequest(
      query,
      {
        method,
        contentType: undefined,
        body: params.body === undefined ? undefined : Buffer.from(params.body, 'utf8'),
      },
      settings,
    );
  } catch (error) {
    if (error instanceof ApiError) throw invalid(`scrape_config: ${error.reason}`);
    throw error;
  }
}
