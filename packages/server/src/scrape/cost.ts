import { ApiError } from '../errors.js';
import type { ScrapeRequest } from '../request/scrape-request.js';

/**
 * What a scrape costs, after Scrapfly's table for the Web Scraping API (README, "Scraping pages"): 1 credit
 * for the request, 5 more when a browser renders it. The answer lists the lines in context.cost.details.
 * js_scenario, screenshots[NAME] and session have no line of their own in that table: they cost nothing more.
 */
export const SCRAPE_COSTS = {
  base: 1,
  renderJs: 5,
} as const;

export interface CostLine {
  code: string;
  amount: number;
  description: string;
}

export function scrapeCost(request: ScrapeRequest): { total: number; details: CostLine[] } {
  const details: CostLine[] = [{ code: 'SCRAPE', amount: SCRAPE_COSTS.base, description: 'Scrape request' }];
  if (request.renderJs) {
    details.push({
      code: 'RENDER_JS',
      amount: SCRAPE_COSTS.renderJs,
      description: 'Rendered in a browser (render_js)',
    });
  }
  return { total: details.reduce((sum, line) => sum + line.amount, 0), details };
}

/** A scrape over its cost_budget is refused before any work (at acceptance too, for an asynchronous one). */
export function checkCostBudget(request: ScrapeRequest): void {
  const cost = scrapeCost(request);
  if (request.costBudget !== undefined && cost.total > request.costBudget) {
    throw new ApiError(
      'ERR::THROTTLE::MAX_API_CREDIT_BUDGET_EXCEEDED',
      `This scrape costs ${cost.total} credits (${cost.details.map((line) => `${line.code} ${line.amount}`).join(' + ')}), over cost_budget=${request.costBudget}; raise cost_budget or drop render_js`,
    );
  }
}
