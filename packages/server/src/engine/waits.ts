/**
 * The steps between the load event and the capture: the js parameter's script, the cookie-banner rules,
 * wait_for_selector, auto_scroll, the web fonts and hide_selectors. Each one keeps CAPTURE_RESERVE_MS of
 * the request's budget back for the capture that follows it.
 */
import { ApiError } from '../errors.js';
import { BANNER_DONE_EXPRESSION } from './banners.js';
import type { CaptureArea } from './capture-spec.js';
import type { CdpSession } from './cdp.js';
import type { AttemptScope } from './deadline.js';
import {
  describeTarget,
  evaluateIn,
  FIND_ELEMENT,
  IS_VISIBLE,
  PageScriptError,
  selectorError,
  type IsolatedWorld,
} from './isolated-world.js';
import { ensureHiddenExpression } from './page-setup.js';

/** Time kept back from the deadline for the capture itself when waiting for a selector or scrolling. */
const CAPTURE_RESERVE_MS = 1_500;

const FONTS_READY = `Promise.race([document.fonts ? document.fonts.ready.then(() => true) : true, new Promise((r) => setTimeout(() => r(false), 3000))])`;

export async function runUserScript(session: CdpSession, script: string, scope: AttemptScope): Promise<void> {
  try {
    // Runs as the body of an async function in the page's own world, so `return` and `await` work. What it
    // returns is dropped in the page: a value that cannot be serialized (a window, a node) is no failure.
    await evaluateIn(session, scope, `(async () => {\n${script}\n})().then(() => undefined)`, {
      awaitPromise: true,
      userGesture: true,
    });
  } catch (error) {
    if (!(error instanceof PageScriptError)) throw error;
    throw new ApiError(
      'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
      `The js parameter's script failed in the page: ${error.message}`,
    );
  }
}

/** The js parameter's script, keeping what it returns (JSON-serialisable values only; else its text). */
export async function runScriptForResult(
  session: CdpSession,
  script: string,
  scope: AttemptScope,
): Promise<unknown> {
  try {
    // Only what JSON can carry comes back (a node or a window is no failure: it comes back as text).
    const wrapped = `(async () => {\n${script}\n})().then((value) => { try { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); } catch { return String(value); } })`;
    return await evaluateIn(session, scope, wrapped, { awaitPromise: true, userGesture: true });
  } catch (error) {
    if (!(error instanceof PageScriptError)) throw error;
    throw new ApiError(
      'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
      `The js parameter's script failed in the page: ${error.message}`,
    );
  }
}

export async function waitForBanners(
  session: CdpSession,
  scope: AttemptScope,
  budgetMs: number,
): Promise<void> {
  const until = Date.now() + Math.min(budgetMs, Math.max(0, scope.remaining() - CAPTURE_RESERVE_MS));
  while (Date.now() < until) {
    const done = await evaluateIn<boolean>(session, scope, BANNER_DONE_EXPRESSION, {}).catch(() => true);
    if (done) return;
    await scope.sleep(100);
  }
}

export async function waitForElement(
  world: IsolatedWorld,
  target: CaptureArea,
  scope: AttemptScope,
): Promise<void> {
  const budget = Math.max(1, scope.remaining() - CAPTURE_RESERVE_MS);
  let found: boolean;
  try {
    found = await world.evaluate<boolean>(
      `(async (target, budget) => {
        const find = ${FIND_ELEMENT};
        const visible = ${IS_VISIBLE};
        find(target);
        const until = Date.now() + budget;
        while (Date.now() < until) {
          if (visible(find(target))) return true;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return false;
      })(${JSON.stringify(target)}, ${budget})`,
      { awaitPromise: true },
    );
  } catch (error) {
    throw selectorError(error, target);
  }
  if (!found) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
      `No visible element matched the ${describeTarget(target)} within ${budget} ms (wait_for_selector)`,
    );
  }
}

/**
 * auto_scroll: scrolls to the end one screen at a time (the page may grow as it goes), waits for the lazy
 * images and content the scroll woke up, then returns to the top.
 */
export async function autoScroll(world: IsolatedWorld, scope: AttemptScope): Promise<void> {
  const budget = Math.max(0, scope.remaining() - CAPTURE_RESERVE_MS);
  await world.evaluate(
    `(async (budget) => {
      const until = Date.now() + budget;
      const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const root = document.scrollingElement || document.documentElement;
      for (let step = 0; step < 500 && Date.now() < until; step += 1) {
        const before = root.scrollTop;
        window.scrollBy(0, Math.max(200, Math.floor(window.innerHeight * 0.9)));
        await pause(120);
        if (root.scrollTop === before && window.innerHeight + root.scrollTop >= root.scrollHeight - 2) {
          await pause(250);
          if (window.innerHeight + root.scrollTop >= root.scrollHeight - 2) break;
        }
      }
      const pending = () => [...document.images].filter((img) => !img.complete && img.loading !== 'lazy-never');
      const imagesUntil = Math.min(until, Date.now() + 5000);
      while (pending().length > 0 && Date.now() < imagesUntil) await pause(100);
      window.scrollTo(0, 0);
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await pause(50);
      return true;
    })(${budget})`,
    { awaitPromise: true },
  );
}

/** Web fonts still loading get up to three seconds (in the page); a page without fonts goes on at once. */
export async function waitForFonts(world: IsolatedWorld): Promise<void> {
  await world.evaluate(FONTS_READY, { awaitPromise: true }).catch(() => undefined);
}

/** Hides the selectors' elements; answers the selectors that matched nothing on the page. */
export async function ensureHidden(world: IsolatedWorld, selectors: readonly string[]): Promise<string[]> {
  const { invalid, unmatched } = await world.evaluate<{ invalid: string | null; unmatched: string[] }>(
    ensureHiddenExpression(selectors),
  );
  if (invalid !== null) {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVALID',
      `hide_selectors: "${invalid}" is not a valid CSS selector`,
    );
  }
  return unmatched;
}
