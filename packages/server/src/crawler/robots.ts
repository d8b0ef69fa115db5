import robotsParserModule from 'robots-parser';
import { isApiError } from '../errors.js';
import type { GuardedHttpClient } from '../egress/http-client.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import { fetchForCrawl, type CrawlFetchLimits } from './page-fetch.js';

/** Larger robots.txt files are cut here (Google reads the first 500 KiB and ignores the rest). */
export const ROBOTS_MAX_BYTES = 500 * 1024;

/**
 * The site's robots.txt as text: '' when there is none, it answers an error status, or it cannot be read
 * (then everything is allowed, as crawlers treat an unreachable robots.txt after RFC 9309's 4xx rule).
 */
export async function fetchRobotsTxt(
  client: GuardedHttpClient,
  seedUrl: string,
  crawl: Pick<CrawlRequest, 'headers' | 'userAgent'>,
  limits: CrawlFetchLimits,
  poolKey: string,
): Promise<string> {
  const url = new URL('/robots.txt', seedUrl).href;
  try {
    // A huge robots.txt is not a failure: its first ROBOTS_MAX_BYTES are read.
    const answer = await fetchForCrawl(
      client,
      url,
      crawl,
      {
        ...limits,
        maxBodyBytes: Math.min(limits.maxBodyBytes, 4 * ROBOTS_MAX_BYTES),
        timeoutMs: Math.min(limits.timeoutMs, 10_000),
      },
      poolKey,
    );
    if (answer.status >= 400) return '';
    return answer.body.subarray(0, ROBOTS_MAX_BYTES).toString('utf8');
  } catch (error) {
    if (isApiError(error)) return '';
    throw error;
  }
}

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
