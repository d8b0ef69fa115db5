import { isApiError } from '../errors.js';
import type { GuardedHttpClient } from '../egress/http-client.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import { fetchForCrawl, type CrawlFetchLimits } from './page-fetch.js';

export const SITEMAP_LIMITS = { maxFiles: 20, maxUrls: 50_000 } as const;

/**
 * use_sitemaps: the page URLs listed by the site's sitemaps (those robots.txt names, else /sitemap.xml).
 * A sitemap index is followed; every sitemap file is read once (an index that lists itself ends), at
 * most SITEMAP_LIMITS.maxFiles files and maxUrls URLs. A sitemap that fails is skipped.
 */
export async function sitemapUrls(
  client: GuardedHttpClient,
  seedUrl: string,
  declared: string[],
  crawl: Pick<CrawlRequest, 'headers' | 'userAgent'>,
  limits: CrawlFetchLimits,
  poolKey: string,
): Promise<string[]> {
  const queue = declared.length > 0 ? [...declared] : [new URL('/sitemap.xml', seedUrl).href];
  const seen = new Set<string>();
  const pages: string[] = [];
  while (queue.length > 0 && seen.size < SITEMAP_LIMITS.maxFiles && pages.length < SITEMAP_LIMITS.maxUrls) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    let xml: string;
    try {
      const answer = await fetchForCrawl(client, next, crawl, limits, poolKey);
      if (answer.status >= 400) continue;
      xml = answer.body.toString('utf8');
    } catch (error) {
      if (isApiError(error)) continue;
      throw error;
    }
    const locations = [...xml.matchAll(/<loc>\s*([^<]+?)\s*<\/loc>/gi)].map((match) => decodeXml(match[1]!));
    if (/<sitemapindex[\s>]/i.test(xml)) queue.push(...locations);
    else pages.push(...locations.slice(0, SITEMAP_LIMITS.maxUrls - pages.length));
  }
  return pages;
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
