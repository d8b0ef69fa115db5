import { ApiError } from '../errors.js';
import { CdpClosedError, CdpError } from './cdp.js';

/** CDP's words for "the page went away under the call": a navigation, a reload, a close. */
const NAVIGATED =
  /navigated or closed|Execution context was destroyed|Cannot find context with specified id|Target closed|Session closed|No frame with given id|Frame (?:was )?detached|Inspected target navigated/i;

/**
 * The catalogue error for what a page's own behaviour made the browser protocol answer (a page that
 * navigates or reloads while a step runs, closes itself, crashes), so that no page can make the API answer
 * 500. Returns undefined for anything that is not a browser-protocol failure (a real bug stays one).
 */
export function pageFailureToApiError(error: unknown): ApiError | undefined {
  if (error instanceof CdpClosedError) {
    return new ApiError(
      'ERR::SCRAPE::DRIVER_CRASHED',
      'The browser stopped during the capture (the page may have crashed it); retry, and check the page if it happens again',
      { cause: error, retryAfterSeconds: 1 },
    );
  }
  if (!(error instanceof CdpError)) return undefined;
  if (NAVIGATED.test(error.message)) {
    return new ApiError(
      'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
      `The page navigated away, reloaded or closed itself while the capture ran (${error.method}); capture the final URL instead, or remove what makes it navigate (a js that changes location, a meta refresh, a reload timer)`,
      { cause: error, retryAfterSeconds: 1 },
    );
  }
  return new ApiError(
    'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
    `The browser could not finish the capture of this page (${error.method} failed); retry, and check what the page does if it happens again`,
    { cause: error, retryAfterSeconds: 1 },
  );
}
