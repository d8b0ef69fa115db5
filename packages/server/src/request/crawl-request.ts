import { z } from 'zod';
import { ApiError } from '../errors.js';
import { parseTemplate } from '../extraction/template.js';
import {
  EXTRACTION_LIMITS,
  EXTRACTION_MODELS,
  parseTemplateChoice,
  type ExtractionModel,
  type TemplateChoice,
} from './extraction-request.js';

/**
 * POST /crawl's JSON body as both SDKs send it (docs/compat.md §9): scrapfly-sdk (TypeScript)
 * crawlerconfig.ts toApiParams and the Python SDK's crawler/crawler_config.py to_api_params. Unknown names
 * and values out of range are refused with ERR::CRAWLER::CONFIG_ERROR naming the fix; parameters Snapwire
 * does not serve yet are refused with ERR::CRAWLER::FEATURE_NOT_SERVED rather than ignored.
 */

export const CRAWL_CONTENT_FORMATS = [
  'html',
  'clean_html',
  'markdown',
  'text',
  'json',
  'page_metadata',
  'extracted_data',
] as const;
export type CrawlContentFormat = (typeof CRAWL_CONTENT_FORMATS)[number];

/**
 * extraction_rules: URL path pattern -> the extraction of the pages it matches (first match wins), as
 * Scrapfly documents it: {"/products/*": {"type": "template", "value": TEMPLATE | NAME}}.
 */
export type CrawlExtractionRule =
  | {
      pattern: string;
      /** A saved template is looked up when the crawl starts (crawler/crawl-service.ts): then ephemeral. */
      template: TemplateChoice;
      model?: undefined;
    }
  | {
      pattern: string;
      template?: undefined;
      /** Asked of the operator's language model per page, as POST /extraction's prompt or model. */
      model: { kind: 'prompt'; prompt: string } | { kind: 'model'; model: ExtractionModel };
    };

/**
 * The crawler's webhook events (scrapfly-sdk crawlerconfig.ts CrawlerWebhookEventName and the Python SDK's
 * crawler_webhook.py CrawlerWebhookEvent), in the order a crawl can emit them.
 */
export const CRAWLER_WEBHOOK_EVENTS = [
  'crawler_started',
  'crawler_url_visited',
  'crawler_url_skipped',
  'crawler_url_discovered',
  'crawler_url_failed',
  'crawler_stopped',
  'crawler_cancelled',
  'crawler_finished',
] as const;
export type CrawlerWebhookEvent = (typeof CRAWLER_WEBHOOK_EVENTS)[number];

export const CRAWL_LIMITS = {
  maxPageLimit: 100_000,
  maxDepth: 1_000,
  minDurationSeconds: 15,
  maxDurationSeconds: 10_800,
  defaultDurationSeconds: 900,
  maxDelayMs: 15_000,
  maxConcurrency: 50,
  defaultConcurrency: 5,
  maxPathRules: 100,
  maxDomains: 250,
  maxUrlList: 10_000,
  maxExtractionRules: 100,
  maxRenderingDelayMs: 25_000,
  maxRulePatternLength: 1_000,
} as const;

export interface CrawlRequest {
  /** The seed URL (with url_list: the first of the list). */
  url: string;
  /** url_list: these URLs only, discovery off. */
  urlList: string[] | undefined;
  /** 0: no limit. */
  pageLimit: number;
  /** 0: no limit. */
  maxDepth: number;
  maxDurationSeconds: number;
  /** 0: no limit. */
  maxApiCredit: number;
  excludePaths: string[];
  includeOnlyPaths: string[];
  ignoreBasePathRestriction: boolean;
  followExternalLinks: boolean;
  allowedExternalDomains: string[];
  followInternalSubdomains: boolean;
  allowedInternalSubdomains: string[];
  headers: Record<string, string>;
  userAgent: string | undefined;
  delayMs: number;
  maxConcurrency: number;
  useSitemaps: boolean;
  respectRobotsTxt: boolean;
  ignoreNoFollow: boolean;
  contentFormats: CrawlContentFormat[];
  extractionRules: CrawlExtractionRule[];
  /** A browser crawl: each page rendered by Chromium (scrape/render-page.ts), its links read after scripts ran. */
  renderJs: boolean;
  /** rendering_delay: the browser's wait after the page loaded, before it is read. */
  renderingDelayMs: number;
  /** webhook_name: the project's webhook the crawl's events are delivered to. */
  webhookName: string | undefined;
  /** webhook_events: the events delivered (all eight when webhook_name comes without them). */
  webhookEvents: CrawlerWebhookEvent[];
  /** The webhook's uuid, set when the crawl is accepted (crawler/crawl-service.ts): a rename keeps it. */
  webhookUuid?: string | undefined;
}

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an absolute http:// or https:// URL');

const count = (max: number) => z.number().int().min(0).max(max);
const domainList = z.array(z.string().min(1).max(253)).max(CRAWL_LIMITS.maxDomains);
const pathList = z.array(z.string().min(1).max(2_000)).max(CRAWL_LIMITS.maxPathRules);

const bodySchema = z.strictObject({
  url: httpUrl.optional(),
  url_list: z.array(httpUrl).min(1).max(CRAWL_LIMITS.maxUrlList).optional(),
  remote_url_list: z.string().optional(),
  page_limit: count(CRAWL_LIMITS.maxPageLimit).optional(),
  max_depth: count(CRAWL_LIMITS.maxDepth).optional(),
  max_duration: z
    .number()
    .int()
    .min(CRAWL_LIMITS.minDurationSeconds)
    .max(CRAWL_LIMITS.maxDurationSeconds)
    .optional(),
  max_api_credit: z.number().int().min(0).optional(),
  exclude_paths: pathList.optional(),
  include_only_paths: pathList.optional(),
  ignore_base_path_restriction: z.boolean().optional(),
  follow_external_links: z.boolean().optional(),
  allowed_external_domains: domainList.optional(),
  follow_internal_subdomains: z.boolean().optional(),
  allowed_internal_subdomains: domainList.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  delay: count(CRAWL_LIMITS.maxDelayMs).optional(),
  user_agent: z.string().min(1).max(1_000).optional(),
  max_concurrency: z.number().int().min(1).max(CRAWL_LIMITS.maxConcurrency).optional(),
  rendering_delay: z.number().int().min(0).max(CRAWL_LIMITS.maxRenderingDelayMs).optional(),
  render_js: z.boolean().optional(),
  use_sitemaps: z.boolean().optional(),
  respect_robots_txt: z.boolean().optional(),
  ignore_no_follow: z.boolean().optional(),
  cache: z.boolean().optional(),
  cache_ttl: z.number().optional(),
  cache_clear: z.boolean().optional(),
  content_formats: z.array(z.enum(CRAWL_CONTENT_FORMATS)).min(1).optional(),
  extraction_rules: z.record(z.string(), z.unknown()).optional(),
  asp: z.boolean().optional(),
  proxy_pool: z.string().optional(),
  country: z.string().optional(),
  webhook_name: z.string().min(1).max(200).optional(),
  webhook_events: z
    .array(z.string())
    .min(1)
    .max(CRAWLER_WEBHOOK_EVENTS.length * 2)
    .optional(),
});

/** Headers Snapwire sets itself or the egress guard relies on: refused, as /scrape refuses them. */
const RESERVED_HEADERS =
  /^(host|connection|content-length|transfer-encoding|upgrade|te|trailer|keep-alive|proxy-.*)$/i;

const configError = (reason: string) => new ApiError('ERR::CRAWLER::CONFIG_ERROR', reason);
const notServed = (name: string, instead: string) =>
  new ApiError(
    'ERR::CRAWLER::FEATURE_NOT_SERVED',
    `${name} is not served by Snapwire's Crawler API yet; ${instead}`,
  );

export function parseCrawlRequest(body: unknown): CrawlRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw configError(
      'The body must be a JSON object with the crawler configuration (Content-Type: application/json)',
    );
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.') || 'body';
    if (issue.code === 'unrecognized_keys') {
      throw configError(
        `Unknown parameter(s) ${issue.keys.join(', ')}; see docs/compat.md §9 for the crawler's parameters`,
      );
    }
    throw configError(`${name}: ${issue.message}`);
  }
  const input = parsed.data;
  const sources = [input.url, input.url_list, input.remote_url_list].filter((value) => value !== undefined);
  if (sources.length !== 1)
    throw configError('Give exactly one of url or url_list (remote_url_list is not served)');
  if (input.remote_url_list !== undefined) throw notServed('remote_url_list', 'send the URLs as url_list');
  if (input.exclude_paths && input.include_only_paths) {
    throw configError('exclude_paths and include_only_paths cannot be used together; keep one of them');
  }
  const extractionRules = parseExtractionRules(input.extraction_rules);
  if (input.content_formats?.includes('extracted_data') && extractionRules.length === 0)
    throw configError(
      'content_formats=extracted_data needs extraction_rules: name what to extract from which pages',
    );
  if (input.webhook_events !== undefined && input.webhook_name === undefined)
    throw configError('webhook_events needs webhook_name: name the webhook the events are delivered to');
  for (const event of input.webhook_events ?? []) {
    if (!(CRAWLER_WEBHOOK_EVENTS as readonly string[]).includes(event)) {
      throw configError(
        `webhook_events: unknown event "${event}"; the crawler's events are ${CRAWLER_WEBHOOK_EVENTS.join(', ')}`,
      );
    }
  }
  if (input.asp) throw notServed('asp', 'Snapwire has no anti-bot features');
  if (input.country !== undefined || input.proxy_pool !== undefined)
    throw notServed('country and proxy_pool', 'crawl without them');
  if (input.cache) throw notServed('cache', 'crawl without cache');
  for (const name of Object.keys(input.headers ?? {})) {
    if (RESERVED_HEADERS.test(name))
      throw configError(`headers.${name} cannot be set: Snapwire sets it itself`);
  }
  for (const pattern of [...(input.exclude_paths ?? []), ...(input.include_only_paths ?? [])]) {
    if (!pattern.startsWith('/') && !pattern.startsWith('*')) {
      throw configError(
        `The path rule "${pattern}" must start with / (or *): rules match the URL's path, e.g. /blog/*`,
      );
    }
  }
  const urlList = input.url_list;
  return {
    url: input.url ?? urlList![0]!,
    urlList,
    pageLimit: input.page_limit ?? 0,
    maxDepth: input.max_depth ?? 0,
    maxDurationSeconds: input.max_duration ?? CRAWL_LIMITS.defaultDurationSeconds,
    maxApiCredit: input.max_api_credit ?? 0,
    excludePaths: input.exclude_paths ?? [],
    includeOnlyPaths: input.include_only_paths ?? [],
    ignoreBasePathRestriction: input.ignore_base_path_restriction ?? false,
    followExternalLinks: input.follow_external_links ?? false,
    allowedExternalDomains: (input.allowed_external_domains ?? []).map((domain) => domain.toLowerCase()),
    followInternalSubdomains: input.follow_internal_subdomains ?? false,
    allowedInternalSubdomains: (input.allowed_internal_subdomains ?? []).map((domain) =>
      domain.toLowerCase(),
    ),
    headers: Object.fromEntries(
      Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    userAgent: input.user_agent,
    delayMs: input.delay ?? 0,
    maxConcurrency: input.max_concurrency ?? CRAWL_LIMITS.defaultConcurrency,
    useSitemaps: input.use_sitemaps ?? false,
    respectRobotsTxt: input.respect_robots_txt ?? true,
    ignoreNoFollow: input.ignore_no_follow ?? false,
    // extraction_rules store their answers as the extracted_data format, asked for or not.
    contentFormats: [
      ...new Set([
        ...(input.content_formats ?? ['html']),
        ...(extractionRules.length > 0 ? ['extracted_data'] : []),
      ]),
    ] as CrawlContentFormat[],
    extractionRules,
    // rendering_delay > 0 asks for a browser (Scrapfly's form); render_js is Snapwire's way to ask for one
    // without a delay.
    renderJs: input.render_js ?? (input.rendering_delay ?? 0) > 0,
    renderingDelayMs: input.rendering_delay ?? 0,
    webhookName: input.webhook_name,
    webhookEvents: input.webhook_name
      ? ([...new Set(input.webhook_events ?? CRAWLER_WEBHOOK_EVENTS)] as CrawlerWebhookEvent[])
      : [],
  };
}

const RULE_TYPES = ['template', 'prompt', 'model'] as const;

/**
 * extraction_rules as Scrapfly documents them: an object of URL path patterns (`*` any run of characters;
 * at most 100, each up to 1,000 characters), each {type, value}. `template` runs the Extraction API's rules
 * engine (the value a template object, or a saved template's name); `prompt` (a question, as
 * extraction_prompt) and `model` (an auto-extraction model, as extraction_model) ask the operator's language
 * model per page, as POST /extraction does.
 */
function parseExtractionRules(value: Record<string, unknown> | undefined): CrawlExtractionRule[] {
  if (value === undefined) return [];
  const entries = Object.entries(value);
  if (entries.length === 0) throw configError('extraction_rules is empty; give at least one URL pattern');
  if (entries.length > CRAWL_LIMITS.maxExtractionRules)
    throw configError(
      `extraction_rules has ${entries.length} patterns; at most ${CRAWL_LIMITS.maxExtractionRules}`,
    );
  return entries.map(([pattern, rule]) => {
    const where = `extraction_rules["${pattern.slice(0, 80)}"]`;
    if (pattern.length === 0 || pattern.length > CRAWL_LIMITS.maxRulePatternLength)
      throw configError(`${where}: a pattern has 1 to ${CRAWL_LIMITS.maxRulePatternLength} characters`);
    if (!pattern.startsWith('/') && !pattern.startsWith('*'))
      throw configError(
        `${where}: the pattern must start with / (or *): it matches the URL's path, e.g. /products/*`,
      );
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
      throw configError(`${where} must be an object {"type": "template", "value": …}`);
    const { type, value: ruleValue } = rule as { type?: unknown; value?: unknown };
    if (typeof type !== 'string' || !(RULE_TYPES as readonly string[]).includes(type))
      throw configError(`${where}.type must be one of ${RULE_TYPES.join(', ')}`);
    if (type === 'prompt') {
      if (typeof ruleValue !== 'string' || ruleValue.trim().length === 0)
        throw configError(`${where}.value must be the prompt (a question about each page) as a string`);
      if (ruleValue.length > EXTRACTION_LIMITS.maxPromptLength)
        throw configError(`${where}.value is longer than ${EXTRACTION_LIMITS.maxPromptLength} characters`);
      return { pattern, model: { kind: 'prompt' as const, prompt: ruleValue } };
    }
    if (type === 'model') {
      const model = typeof ruleValue === 'string' ? ruleValue.toLowerCase() : '';
      if (!(EXTRACTION_MODELS as readonly string[]).includes(model))
        throw configError(`${where}.value must be one of the models ${EXTRACTION_MODELS.join(', ')}`);
      return { pattern, model: { kind: 'model' as const, model: model as ExtractionModel } };
    }
    if (typeof ruleValue === 'string') return { pattern, template: parseTemplateChoice(ruleValue) };
    if (typeof ruleValue === 'object' && ruleValue !== null)
      return { pattern, template: { kind: 'ephemeral' as const, template: parseTemplate(ruleValue) } };
    throw configError(`${where}.value must be an extraction template (an object) or a saved template's name`);
  });
}
