// The API reference's view of /scrape (documentation only: parseScrapeRequest validates, scrape/envelope.ts
// builds the answer). Kept next to those two: a field added there is added here.
import { z } from 'zod';
import { queryBoolean } from '../request/boolean.js';
import { SCRAPE_FORMAT_OPTIONS, SCRAPE_FORMATS, SCRAPE_LIMITS } from '../request/scrape-request.js';
import { answerObject, errorResponses, nullable, SCREENSHOT_HEADERS, type ResponseDoc } from './openapi.js';

const text = (description: string) => z.string().optional().describe(description);
const needsExtraction = (what: string) =>
  text(`${what}. Refused with ERR::SCRAPE::CONFIG_ERROR on /scrape: use POST /extraction on the content`);

/** Every parameter /scrape reads, for the API reference. */
export const scrapeQueryDoc = z.object({
  url: z
    .string()
    .describe('Page to scrape, url-encoded; http or https only')
    .meta({ examples: ['https://example.com'] }),
  format: z
    .string()
    .regex(
      new RegExp(
        `^(${SCRAPE_FORMATS.join('|')})(:(${SCRAPE_FORMAT_OPTIONS.join('|')})(,(${SCRAPE_FORMAT_OPTIONS.join('|')}))*)?$`,
      ),
    )
    .optional()
    .describe(
      `${SCRAPE_FORMATS.join(', ')} (default raw), with options after a colon: ${SCRAPE_FORMAT_OPTIONS.join(', ')} (e.g. markdown:no_links,only_content)`,
    )
    .meta({ examples: ['markdown:only_content'] }),
  headers: z
    .record(z.string(), z.string())
    .describe(
      'Request headers for the target as headers[NAME]=VALUE (repeatable); cookies as headers[cookie]=a=1; b=2. host, content-length and hop-by-hop names are refused',
    )
    .meta({ style: 'deepObject', explode: true })
    .optional(),
  timeout: z
    .int()
    .min(SCRAPE_LIMITS.minTimeoutMs)
    .optional()
    .describe(
      `Whole-request budget in ms, up to SNAPWIRE_MAX_TIMEOUT_MS (default ${SCRAPE_LIMITS.defaultTimeoutMs})`,
    ),
  render_js: queryBoolean('Load the page in Chromium and answer its rendered DOM (GET only)'),
  wait_for_selector: text('With render_js: CSS selector or XPath that must be visible first'),
  js: text(
    'With render_js: script run in the page (body of an async function), base64url with or without padding; its return value is in result.browser_data.javascript_evaluation_result',
  ),
  rendering_wait: z
    .int()
    .min(0)
    .max(SCRAPE_LIMITS.maxRenderingWaitMs)
    .optional()
    .describe('With render_js: ms to wait after load (default 0)'),
  rendering_stage: z
    .enum(['complete', 'domcontentloaded'])
    .optional()
    .describe('With render_js: both wait for the load event here'),
  auto_scroll: queryBoolean('With render_js: scroll to the bottom (lazy content) and back'),
  geolocation: text('With render_js: latitude,longitude[,accuracy] emulated for the page'),
  lang: text('Comma list of languages sent as Accept-Language (unless headers[accept-language] is given)'),
  cache: queryBoolean(
    'Serve the same scrape from the cache within cache_ttl (no cost, target not contacted)',
  ),
  cache_ttl: z
    .int()
    .min(1)
    .max(SCRAPE_LIMITS.maxCacheTtlSeconds)
    .optional()
    .describe(`With cache: seconds an entry is served (default ${SCRAPE_LIMITS.defaultCacheTtlSeconds})`),
  cache_clear: queryBoolean('With cache: scrape anew and replace the entry'),
  proxified_response: queryBoolean(
    "Answer the target's own status, headers and body (the content in the asked format) instead of the envelope; X-Scrapfly-Reject-* headers when the scrape itself failed",
  ),
  cost_budget: z
    .int()
    .min(0)
    .optional()
    .describe('Largest cost in credits this scrape may have; over it the scrape is refused'),
  tags: text(`Comma list of tags (at most ${SCRAPE_LIMITS.maxTags}), kept in the answer config`),
  correlation_id: z
    .string()
    .max(SCRAPE_LIMITS.maxCorrelationIdLength)
    .optional()
    .describe('Your id for this scrape, kept in the answer config'),
  asp: queryBoolean('Accepted; Snapwire has no anti-bot bypass: context.asp stays false'),
  proxy_pool: z
    .enum(['public_datacenter_pool'])
    .optional()
    .describe('public_datacenter_pool (the direct egress) is the only pool'),
  retry: queryBoolean('Accepted; Snapwire does not retry a scrape by itself'),
  debug: queryBoolean('Accepted; no effect'),
  dns: queryBoolean('Accepted; result.dns is null'),
  ssl: queryBoolean('Accepted; result.ssl is null'),
  os: text('Accepted; no effect'),
  browser_brand: text('Accepted; no effect'),
  session_sticky_proxy: queryBoolean('Accepted; only counts with session'),
  screenshot_flags: text(
    'Comma list of load_images, dark_mode, block_banners, print_media_format, high_quality (with screenshots)',
  ),
  country: text(
    "Scrapfly's proxy country: ISO 3166-1 alpha-2 codes as /screenshot takes them (us, us,ca,mx, -gb, us:10,gb:5); validated, a bad code is a 400 ERR::SCRAPE::CONFIG_ERROR; echoed in config.country and context.proxy.country_requested and logged. With the operator's SNAPWIRE_COUNTRY_PROXIES the scrape leaves by one configured country (context.proxy.country; a named country without a proxy is a 400); without them, by this host's own network (context.proxy.country null)",
  ),
  session: text(
    'A name (at most 255 characters) for a cookie jar of the project and environment, kept across scrapes; idle 7 days: starts empty; one scrape at a time (429 ERR::SESSION::CONCURRENT_ACCESS)',
  ),
  webhook_name: text(
    "A webhook of this project and environment: the call answers 201 at once (an envelope with context.webhook and context.job) and the scrape's envelope is delivered there, signed",
  ),
  js_scenario: text(
    'With render_js: base64url JSON list of steps (click, fill, select, wait, wait_for_selector, wait_for_navigation, scroll, execute, condition); each outcome in result.browser_data.js_scenario.steps; a failing step: 422 ERR::SCRAPE::SCENARIO_EXECUTION naming it',
  ),
  screenshots: z
    .record(z.string(), z.string())
    .describe(
      'With render_js: screenshots[NAME]=fullpage|viewport|SELECTOR (at most 10); answered in result.screenshots.NAME with a url fetched with the key',
    )
    .meta({ style: 'deepObject', explode: true })
    .optional(),
  extraction_template: text(
    'Rules run on the scraped page, answered as result.extracted_data {data, content_type}: persistent:NAME or NAME (a template saved with /extraction/templates; unknown: 404 ERR::EXTRACTION::TEMPLATE_NOT_FOUND) or ephemeral:BASE64URL of a template',
  ),
  extraction_prompt: needsExtraction("A request about the content for the operator's language model"),
  extraction_model: needsExtraction('Auto-extraction model applied to the content'),
  extract: needsExtraction("The Python SDK's legacy extraction rules"),
  key: z.string().describe('Project API key (LIVE or TEST)'),
});

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

/** result.error when success is false (what the SDKs raise their errors from). */
/** The envelope is declared once, in the document's components (app.ts), and referred to by every answer. */
export const SCRAPE_ENVELOPE_COMPONENT = 'ScrapeEnvelope';
const SCRAPE_ENVELOPE_REF = { $ref: `#/components/schemas/${SCRAPE_ENVELOPE_COMPONENT}` };

const SCRAPE_ERROR_SCHEMA = answerObject(
  {
    code: { type: 'string', examples: ['ERR::SCRAPE::BAD_UPSTREAM_RESPONSE'] },
    description: { type: 'string' },
    doc_url: { type: 'string' },
    http_code: { type: 'integer' },
    links: { type: 'object' },
    message: { type: 'string', description: 'What went wrong and what to fix' },
    retryable: { type: 'boolean' },
  },
  ['description', 'doc_url', 'links'],
);

const COOKIE_SCHEMA = answerObject({
  name: { type: 'string' },
  value: { type: 'string' },
  domain: { type: 'string' },
  path: { type: 'string' },
  expires: nullable('string'),
  max_age: nullable('integer'),
  secure: { type: 'boolean' },
  http_only: { type: 'boolean' },
  same_site: nullable('string'),
  size: { type: 'integer' },
});

/** Scrapfly's scrape envelope as scrape/envelope.ts builds it (the fields the two SDKs read are required). */
export const SCRAPE_ENVELOPE_SCHEMA = answerObject({
  uuid: { type: 'string', description: 'The log_uuid of the scrape' },
  config: {
    type: 'object',
    description: 'The request as understood (the SDKs’ field names)',
    required: [
      'url',
      'method',
      'headers',
      'body',
      'format',
      'format_options',
      'render_js',
      'timeout',
      'cache',
      'cache_ttl',
      'tags',
      'correlation_id',
      'env',
      'project',
    ],
    properties: {
      url: { type: 'string' },
      method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'HEAD'] },
      headers: stringMap,
      body: nullable('string'),
      format: { type: 'string', enum: [...SCRAPE_FORMATS] },
      format_options: { type: 'array', items: { type: 'string', enum: [...SCRAPE_FORMAT_OPTIONS] } },
      render_js: { type: 'boolean' },
      timeout: { type: 'integer' },
      cache: { type: 'boolean' },
      cache_ttl: nullable('integer'),
      tags: { type: 'array', items: { type: 'string' } },
      correlation_id: nullable('string'),
      env: { type: 'string', enum: ['LIVE', 'TEST'] },
      project: { type: 'string' },
    },
  },
  context: {
    type: 'object',
    required: ['asp', 'cost', 'cache', 'env', 'project', 'proxy', 'url', 'webhook', 'job'],
    properties: {
      asp: { type: 'boolean', enum: [false] },
      cache: {
        type: 'object',
        required: ['state', 'entry'],
        properties: {
          state: { type: 'string', enum: ['HIT', 'MISS', 'BYPASS'] },
          entry: nullable('string'),
        },
      },
      cost: {
        type: 'object',
        required: ['total', 'details'],
        properties: {
          total: { type: 'integer', description: 'Credits charged (0 on a cache hit)' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              required: ['code', 'amount', 'description'],
              properties: {
                code: { type: 'string' },
                amount: { type: 'integer' },
                description: { type: 'string' },
              },
            },
          },
        },
      },
      env: { type: 'string', enum: ['LIVE', 'TEST'] },
      project: { type: 'string' },
      proxy: answerObject({
        country: nullable('string', {
          description: "The country whose egress proxy carried the scrape; null: this host's own network",
        }),
        country_requested: nullable('string', { description: 'The validated country parameter, or null' }),
        pool: { type: 'string' },
        identity: { type: 'null' },
      }),
      url: { type: 'string' },
      webhook: {
        type: ['object', 'null'],
        description: 'An asynchronous scrape: the webhook it is delivered to',
        required: ['name', 'uuid'],
        properties: { name: { type: 'string' }, uuid: { type: 'string' } },
      },
      job: {
        type: ['object', 'null'],
        description: 'An asynchronous scrape: the webhook job',
        required: ['uuid'],
        properties: { uuid: { type: 'string' } },
      },
    },
  },
  result: {
    type: 'object',
    required: [
      'content',
      'format',
      'status',
      'success',
      'status_code',
      'reason',
      'duration',
      'log_url',
      'url',
      'request_headers',
      'response_headers',
      'error',
      'content_encoding',
      'content_type',
      'cookies',
      'size',
      'browser_data',
      'screenshots',
      'iframes',
    ],
    properties: {
      content: {
        type: 'string',
        description: 'The content in the asked format (base64 when format is binary)',
      },
      content_encoding: { type: 'string', enum: ['utf-8', 'base64'] },
      content_type: nullable('string'),
      format: { type: 'string', enum: ['text', 'binary'] },
      status: { type: 'string', enum: ['DONE'] },
      status_code: { type: 'integer', description: "The target's status (0 when it never answered)" },
      success: { type: 'boolean', description: 'false when result.error is set' },
      reason: { type: 'string', description: "The status code's reason phrase" },
      url: { type: 'string', description: 'Final URL after redirects' },
      duration: { type: 'number', description: 'Seconds' },
      log_url: { type: 'string', description: "The scrape's page in the dashboard" },
      request_headers: stringMap,
      response_headers: stringMap,
      cookies: { type: 'array', items: COOKIE_SCHEMA },
      size: { type: 'integer', description: 'Bytes the target answered' },
      browser_data: { type: 'object', description: 'With render_js: javascript_evaluation_result, …' },
      screenshots: { type: 'object' },
      extracted_data: {
        type: ['object', 'null'],
        description: 'extraction_template: the data and its content type',
        properties: { data: {}, content_type: { type: 'string' } },
      },
      iframes: { type: 'array', items: {} },
      dns: { type: 'null' },
      ssl: { type: 'null' },
      error: { oneOf: [SCRAPE_ERROR_SCHEMA, { type: 'null' }] },
    },
  },
});

/** The answer headers shared with /screenshot (scrapfly-headers.ts writes both). */
const SHARED_HEADERS = [
  'X-Scrapfly-Remaining-Api-Credit',
  'X-Scrapfly-Account-Concurrent-Usage',
  'X-Scrapfly-Account-Remaining-Concurrent-Usage',
  'X-Scrapfly-Project-Concurrent-Usage',
  'X-Scrapfly-Project-Remaining-Concurrent-Usage',
  'X-Scrapfly-Response-Time',
  'X-Scrapfly-Log-Uuid',
  'x-request-id',
];
const SCRAPE_HEADERS: Record<string, Record<string, unknown>> = {
  'X-Scrapfly-Upstream-Http-Code': { type: 'integer', description: "The target's status" },
  'X-Scrapfly-Upstream-Url': { type: 'string', description: 'Final URL after redirects' },
  'X-Scrapfly-Api-Cost': { type: 'integer', description: 'Credits charged (0 on a cache hit)' },
  'X-Scrapfly-Log-Url': { type: 'string', description: "The scrape's page in the dashboard" },
  ...Object.fromEntries(SHARED_HEADERS.map((name) => [name, SCREENSHOT_HEADERS[name] ?? { type: 'string' }])),
};

/** The 200 of /scrape: the envelope, or with proxified_response=true the target's own answer. */
export const SCRAPE_OK_RESPONSE: ResponseDoc = {
  description:
    "The scrape envelope, with the X-Scrapfly-* headers. A target's 4xx/5xx is a 200 too, with result.success false and result.error.code ERR::SCRAPE::BAD_UPSTREAM_RESPONSE. With proxified_response=true: the target's own status, headers and body (the content in the asked format)",
  content: {
    'application/json': { schema: SCRAPE_ENVELOPE_REF },
    '*/*': { schema: { type: 'string', format: 'binary', description: 'proxified_response=true' } },
  },
  headers: SCRAPE_HEADERS,
};

/**
 * A status a scrape may answer in two ways: the envelope with result.error when the scrape itself failed
 * (timeout, refused address, the browser queue), the error body when it was refused before it ran.
 */
export function scrapeFailureResponses(...statuses: number[]): Record<number, ResponseDoc> {
  const plain = errorResponses(...statuses);
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        ...plain[status],
        description: `${plain[status]?.description ?? ''}. The scrape envelope (result.error set) when the scrape itself failed; the error body when it was refused before it ran`,
        content: {
          'application/json': {
            schema: { oneOf: [SCRAPE_ENVELOPE_REF, { $ref: '#/components/schemas/Error' }] },
          },
        },
      },
    ]),
  );
}
