import robotsParserModule from 'robots-parser';
import type { GuardedHttpClient } from '../egress/http-client.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import type { CrawlFetchLimits } from './page-fetch.js';

/** Larger robots.txt files are cut here (Google reads the first 500 KiB and ignores the rest). */
export const ROBOTS_MAX_BYTES = 500 * 1024;

/**
 * The site's robots.txt as text: '' when there is none, it answers an error status, or it cannot be read
 * (then everything is allowed, as RFC 9309 treats an unavailable robots.txt). Only its first
 * ROBOTS_MAX_BYTES are read, whatever its size (RFC 9309 asks crawlers to read at least 500 KiB); redirects
 * are followed through the egress guard like any page.
 */
export async function fetchRobotsTxt(
  client: GuardedHttpClient,
  seedUrl: string,
  crawl: Pick<CrawlRequest, 'headers' | 'userAgent'>,
  limits: CrawlFetchLimits,
  poolKey: string,
): Promise<string> {
  const result = await client.request({
    url: new URL('/robots.txt', seedUrl).href,
    method: 'GET',
    headers: {
      accept: 'text/plain, */*;q=0.5',
      ...crawl.headers,
      ...(crawl.userAgent ? { 'user-agent': crawl.userAgent } : {}),
    },
    timeoutMs: Math.min(limits.timeoutMs, ROBOTS_TIMEOUT_MS),
    maxRedirects: limits.maxRedirects,
    maxBodyBytes: ROBOTS_MAX_BYTES,
    poolKey,
  });
  if (result.failure || result.status === undefined || result.status >= 400) return '';
  return result.body.toString('utf8');
}

/** A robots.txt slower than this is taken as absent (the crawl goes on with everything allowed). */
export const ROBOTS_TIMEOUT_MS = 10_000;

// robots-parser is CommonJS (module.exports = the function) but its types declare a default export.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

/** The crawler's product token in robots.txt groups (User-agent: Snapwire); `*` groups apply too. */
export const ROBOTS_AGENT = 'Snapwire';

export interface RobotsRules {
  allowed(url: string): boolean;
  sitemaps(): string[];
}

export function robotsRules(seedUrl: string, text: string): RobotsRules {
  const robotsUrl = new URL('/robots.txt', seedUrl).href;
  const robots = robotsParser(robotsUrl, text);
  const origin = new URL(seedUrl).origin;
  return {
    // robots.txt speaks for its own origin only: another origin's URLs are not judged by it.
    allowed: (url) => new URL(url).origin !== origin || robots.isAllowed(url, ROBOTS_AGENT) !== false,
    sitemaps: () => robots.getSitemaps(),
  };
}
