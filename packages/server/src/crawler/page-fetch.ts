import type { GuardedHttpClient } from '../egress/http-client.js';
import { parseScrapeRequest } from '../request/scrape-request.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import { fetchUpstream, type UpstreamAnswer } from '../scrape/fetch-upstream.js';

export interface CrawlFetchLimits {
  maxBodyBytes: number;
  maxRedirects: number;
  timeoutMs: number;
}

/**
 * One GET of a crawl, on the Web Scraping API's path without a browser (scrape/fetch-upstream.ts): through
 * the egress guard, every redirect hop checked again, the body capped. The crawl's headers and user_agent
 * are sent; a failure is the same catalogue error a /scrape would raise (ApiError).
 */
export async function fetchForCrawl(
  client: GuardedHttpClient,
  url: string,
  crawl: Pick<CrawlRequest, 'headers' | 'userAgent'>,
  limits: CrawlFetchLimits,
  poolKey: string,
): Promise<UpstreamAnswer> {
  const request = parseScrapeRequest(
    { url, timeout: String(limits.timeoutMs) },
    { method: 'GET', contentType: undefined, body: undefined },
    { maxTimeoutMs: Math.max(limits.timeoutMs, 1_000) },
  );
  request.headers = {
    ...crawl.headers,
    ...(crawl.userAgent ? { 'user-agent': crawl.userAgent } : {}),
  };
  return fetchUpstream(client, request, {
    maxBodyBytes: limits.maxBodyBytes,
    maxRedirects: limits.maxRedirects,
    poolKey,
  });
}
