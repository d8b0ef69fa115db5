import type { CrawlRequest } from '../request/crawl-request.js';
import { SCRAPE_COSTS } from '../scrape/cost.js';

/** What one page of a crawl costs: a scrape's price (scrape/cost.ts), the browser's share on a browser crawl. */
export function crawlPageCost(request: Pick<CrawlRequest, 'renderJs'>): number {
  return SCRAPE_COSTS.base + (request.renderJs ? SCRAPE_COSTS.renderJs : 0);
}
