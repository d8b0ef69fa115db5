import { ApiError } from '../errors.js';
import { parseCrawlRequest, type CrawlRequest } from '../request/crawl-request.js';

/** A scheduled crawl as stored: POST /crawl's JSON body, as the SDK sent it. */
export type CrawlerParams = Record<string, unknown>;

const invalid = (reason: string) => new ApiError('ERR::SCHEDULER::INVALID_REQUEST', reason);

/**
 * Turns a schedule's `crawler_config` (the TypeScript SDK's createCrawlerSchedule sends POST /crawl's body,
 * e.g. `{url, page_limit, content_formats}`) into stored parameters, validated exactly as POST /crawl
 * validates them (docs/compat.md §6 and §9). `key` and `webhook_name` belong to the schedule, not here.
 */
export function normaliseCrawlerConfig(config: unknown): { params: CrawlerParams; request: CrawlRequest } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalid(
      'crawler_config must be an object of POST /crawl parameters, e.g. {"url": "https://example.com", "page_limit": 100}',
    );
  }
  const params: CrawlerParams = {};
  for (const [name, value] of Object.entries(config as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (name === 'key' || name === 'webhook_name' || name === 'webhook') {
      throw invalid(
        `crawler_config.${name} is not allowed: the schedule's own key and webhook_name are used`,
      );
    }
    params[name] = value;
  }
  return { params, request: crawlRequestOf(params) };
}

/** The CrawlRequest of stored parameters; the schedule API's catalogue error when they are not a valid crawl. */
export function crawlRequestOf(params: CrawlerParams): CrawlRequest {
  try {
    return parseCrawlRequest(params);
  } catch (error) {
    if (error instanceof ApiError) throw invalid(`crawler_config: ${error.reason}`);
    throw error;
  }
}
