import type { GuardedHttpClient } from '../egress/http-client.js';
import { parseScrapeRequest, type ScrapeRequest } from '../request/scrape-request.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import { ApiError } from '../errors.js';
import { fetchUpstream, type UpstreamAnswer } from '../scrape/fetch-upstream.js';

export interface CrawlFetchLimits {
  maxBodyBytes: number;
  maxRedirects: number;
  timeoutMs: number;
}

/** Renders one page in Chromium as /scrape?render_js=true does (built in snapwire.ts over scrape/render-page.ts). */
export type PageRenderer = (request: ScrapeRequest, projectId: string) => Promise<UpstreamAnswer>;

/**
 * One GET of a crawl, on the Web Scraping API's path without a browser (scrape/fetch-upstream.ts), or in
 * Chromium on its render path for a browser crawl (`render`): through
 * the egress guard, every redirect hop checked again, the body capped. The crawl's headers and user_agent
 * are sent; a failure is the same catalogue error a /scrape would raise (ApiError).
 */
export async function fetchForCrawl(
  client: GuardedHttpClient,
  url: string,
  crawl: Pick<CrawlRequest, 'headers' | 'userAgent'> &
    Partial<Pick<CrawlRequest, 'renderJs' | 'renderingDelayMs'>>,
  limits: CrawlFetchLimits,
  poolKey: string,
  /** A crawl's pages (not its robots.txt or sitemaps) are rendered on a browser crawl. */
  browser?: { projectId: string; render: PageRenderer | undefined },
): Promise<UpstreamAnswer> {
  const renderJs = browser !== undefined && crawl.renderJs === true;
  const request = parseScrapeRequest(
    {
      url,
      timeout: String(limits.timeoutMs),
      ...(renderJs ? { render_js: 'true', rendering_wait: String(crawl.renderingDelayMs ?? 0) } : {}),
    },
    { method: 'GET', contentType: undefined, body: undefined },
    { maxTimeoutMs: Math.max(limits.timeoutMs, 1_000) },
  );
  request.headers = {
    ...crawl.headers,
    ...(crawl.userAgent ? { 'user-agent': crawl.userAgent } : {}),
  };
  if (renderJs) {
    if (!browser.render) {
      throw new ApiError(
        'ERR::CRAWLER::FEATURE_NOT_SERVED',
        'This node has no browsers (a worker started without them); crawl without rendering_delay/render_js',
      );
    }
    return browser.render(request, browser.projectId);
  }
  return fetchUpstream(client, request, {
    maxBodyBytes: limits.maxBodyBytes,
    maxRedirects: limits.maxRedirects,
    poolKey,
  });
}
