import { ApiError } from '../errors.js';

/** Where the README explains what is not served (its heading's anchor). */
export const NOT_SERVED_DOC = 'README.md#what-snapwire-does-not-do';

/** What Snapwire serves, named in every 404 so that a wrong path says where to go instead. */
export const SERVED =
  "Snapwire serves Scrapfly's Screenshot API (/screenshot, /screenshot/schedules and /schedules, /webhooks, /screenshot/logs, /screenshot/monitoring/metrics, /account), the Web Scraping API's /scrape and /scrape/schedules, the Crawler API's /crawl and the Extraction API's POST /extraction and /extraction/templates, each synchronous or asynchronous to a webhook (plus a scrape's screenshots at /scrape/screenshot/{log_uuid}/{name} and large contents at /scrape/content/{log_uuid}, /devices, /mcp and /dashboard); see /docs for the API reference";

/**
 * Scrapfly products whose routes the official SDKs call but Snapwire does not serve, by path prefix (the
 * SDKs' own paths). The README's "What Snapwire does not do" section lists the same products.
 */
export const NOT_SERVED_PRODUCTS: ReadonlyArray<{
  product: string;
  prefixes: readonly string[];
  why: string;
}> = [
  // /scrape and POST /extraction are served; these parts of those products are not built yet.
  {
    product: 'Web Scraping API',
    prefixes: ['/scrape/batch', '/scrape/monitoring'],
    why: 'its batch and monitoring routes are not built yet; /scrape and /scrape/schedules are served',
  },
  {
    product: 'Extraction API',
    prefixes: ['/extraction/monitoring'],
    why: 'its monitoring routes are not built yet; POST /extraction itself is served',
  },
  {
    product: 'Crawler API',
    prefixes: ['/crawl/monitoring'],
    why: 'its monitoring routes are not built yet; POST /crawl, the routes of a crawl and /crawl/schedules are served',
  },
  { product: 'Classify API', prefixes: ['/classify'], why: 'not served: Snapwire has no anti-bot features' },
  {
    product: 'Cloud Browser API',
    prefixes: ['/browser', '/unblock', '/session', '/sessions', '/extension', '/vault', '/run'],
    why: 'not served: Snapwire drives its own browsers and lends none out',
  },
];

/** Paths of the schedule routes: their errors carry `error` too (the SDKs' ScheduleAPIError reads it). */
const SCHEDULE_PATH = /^\/(?:(?:screenshot|scrape|crawl)\/)?schedules(?:\/|$)/;

const productOf = (path: string) =>
  NOT_SERVED_PRODUCTS.find(({ prefixes }) =>
    prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)),
  );

/**
 * The answer to a path no route serves: a Scrapfly product Snapwire does not serve is named as such
 * (ERR::API::NOT_SERVED), anything else is ERR::API::NOT_FOUND; both say what Snapwire serves.
 */
export function notFoundAnswer(
  method: string,
  path: string,
): { error: ApiError; extraBody: Record<string, unknown> } {
  const served = productOf(path);
  const error = served
    ? new ApiError(
        'ERR::API::NOT_SERVED',
        `${method} ${path} belongs to Scrapfly's ${served.product}, which Snapwire does not serve (${served.why}). ${SERVED}. What Snapwire does not do: the README's "What Snapwire does not do" section (${NOT_SERVED_DOC})`,
      )
    : new ApiError('ERR::API::NOT_FOUND', `No route ${method} ${path}. ${SERVED}`);
  return { error, extraBody: SCHEDULE_PATH.test(path) ? { error: error.code } : {} };
}
