// Over 400 lines as one coherent thing: js_scenario's runner and its eight actions (click, fill, select,
// waits, scroll, execute) share the ScenarioPage, the navigation watch and the step errors; split up,
// each action file would import all three and add nothing on its own.
import { ApiError, isApiError } from '../errors.js';
import type { CdpSession } from './cdp.js';
import { CdpClosedError } from './cdp.js';
import { clickElement } from './click.js';
import type { AttemptScope } from './deadline.js';
import { IS_VISIBLE } from './isolated-world.js';
import {
  ScenarioError,
  type ElementTarget,
  type ScenarioOutcome,
  type ScenarioStep,
  type ScenarioStepOutcome,
} from './scenario-spec.js';

/** What a scenario needs of the rendered page (given by PageSession.runScenario, engine/page-session.ts). */
export interface ScenarioPage {
  session: CdpSession;
  scope: AttemptScope;
  mainFrameId: string;
  /** An expression in Snapwire's isolated world (page scripts cannot tamper with it); promises awaited. */
  evaluate<T>(expression: string): Promise<T>;
  /** An expression in the page's own world, as a user gesture (execute steps); promises awaited. */
  evaluateInPage<T>(expression: string): Promise<T>;
  /** Source of `(target) => Element | null`. */
  findElementSource: string;
}

/** Time kept back from the request's deadline for serialising the page after the last step. */
const RESERVE_MS = 1_500;
/** Errors that end the scrape as they are: the deadline, a lost browser. */
const PASSED_THROUGH = new Set([
  'ERR::SCRAPE::OPERATION_TIMEOUT',
  'ERR::SCRAPE::DRIVER_CRASHED',
  'ERR::SCRAPE::DRIVER_TIMEOUT',
  'ERR::SCRAPE::NO_BROWSER_AVAILABLE',
]);

/** CDP's words for "the document this ran in went away": a step's click or form started a navigation. */
const NAVIGATED =
  /navigated or closed|Execution context was destroyed|Cannot find context|context with specified id/i;
/** How long a step waits for the next document to take over after its page navigated away. */
const NAVIGATION_SETTLE_MS = 5_000;

/**
 * The page's evaluate, carried over a navigation: a step running while a previous one's click leaves the
 * page runs again in the new document (within NAVIGATION_SETTLE_MS and the deadline).
 */
function acrossNavigations(page: ScenarioPage): ScenarioPage {
  const retrying =
    (evaluate: <T>(expression: string) => Promise<T>) =>
    async <T>(expression: string): Promise<T> => {
      const until = Date.now() + NAVIGATION_SETTLE_MS;
      for (;;) {
        try {
          return await evaluate<T>(expression);
        } catch (error) {
          if (!NAVIGATED.test((error as Error).message) || Date.now() >= until) throw error;
          await page.scope.sleep(100);
        }
      }
    };
  return {
    ...page,
    evaluate: retrying((expression) => page.evaluate(expression)),
    evaluateInPage: retrying((expression) => page.evaluateInPage(expression)),
  };
}

/** Stops the scenario early: a condition step with exit_success met. */
class ScenarioExit {}

/**
 * Runs the steps in order on the loaded page under the request's deadline. A failing step ends the scrape
 * with ERR::SCRAPE::SCENARIO_EXECUTION naming its index and action; the outcome lists every step, those
 * after an exit as not executed. Returns the main document's last status when a step navigated.
 */
export async function runScenario(
  given: ScenarioPage,
  steps: readonly ScenarioStep[],
): Promise<{ outcome: ScenarioOutcome; navigatedStatus: number | undefined }> {
  const started = Date.now();
  const page = acrossNavigations(given);
  const navigation = watchNavigation(page.session, page.mainFrameId);
  const outcomes: ScenarioStepOutcome[] = steps.map((step) => ({
    action: step.action,
    config: step.config,
    duration: 0,
    executed: false,
    result: null,
    success: false,
  }));
  let executed = 0;
  try {
    for (const [index, step] of steps.entries()) {
      const outcome = outcomes[index] as ScenarioStepOutcome;
      const stepStarted = Date.now();
      outcome.executed = true;
      executed += 1;
      try {
        outcome.result = await runStep(page, step, navigation);
        outcome.success = true;
      } catch (error) {
        if (error instanceof ScenarioExit) {
          outcome.success = true;
          outcome.result = true;
          break;
        }
        const failure = stepError(error, index, step);
        if (!isApiError(failure)) throw failure;
        outcome.result = failure.reason;
        outcome.duration = seconds(Date.now() - stepStarted);
        throw new ScenarioError(
          failure.code,
          failure.reason,
          { duration: seconds(Date.now() - started), executed, response: null, steps: outcomes },
          {
            ...(failure.retryAfterSeconds ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
            cause: error,
          },
        );
      } finally {
        outcome.duration = seconds(Date.now() - stepStarted);
      }
    }
  } finally {
    navigation.stop();
  }
  return {
    outcome: { duration: seconds(Date.now() - started), executed, response: null, steps: outcomes },
    navigatedStatus: navigation.lastStatus(),
  };
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}

function stepError(error: unknown, index: number, step: ScenarioStep): unknown {
  const name = `js_scenario[${index}] (${step.action}${targetText(step)})`;
  if (error instanceof CdpClosedError) return error;
  if (isApiError(error) && PASSED_THROUGH.has(error.code)) {
    if (error.code !== 'ERR::SCRAPE::OPERATION_TIMEOUT') return error;
    return new ApiError(
      'ERR::SCRAPE::OPERATION_TIMEOUT',
      `The scrape's timeout ran out during ${name}; raise the timeout parameter or shorten the scenario`,
      { retryAfterSeconds: 1 },
    );
  }
  const reason = isApiError(error) ? error.reason : (error as Error).message;
  return new ApiError('ERR::SCRAPE::SCENARIO_EXECUTION', `${name} failed: ${reason}`, { cause: error });
}

function targetText(step: ScenarioStep): string {
  if (!('target' in step) || step.target === 'bottom') return '';
  return ` ${describe(step.target)}`;
}

function describe(target: ElementTarget): string {
  return target.kind === 'xpath' ? target.xpath : target.selector;
}

/** The step's own wait, within what the deadline leaves. */
function budget(page: ScenarioPage, timeoutMs: number): number {
  return Math.max(1, Math.min(timeoutMs, page.scope.remaining() - RESERVE_MS));
}

async function runStep(
  page: ScenarioPage,
  step: ScenarioStep,
  navigation: NavigationWatch,
): Promise<unknown> {
  switch (step.action) {
    case 'wait':
      await page.scope.sleep(step.ms);
      return null;
    case 'click':
      return click(page, step.target, step.ignoreIfNotVisible, step.multiple);
    case 'fill':
      return fill(page, step.target, step.value, step.clear);
    case 'select':
      return select(page, step.target, step.values);
    case 'wait_for_selector':
      return waitForSelector(page, step.target, step.state, step.timeoutMs);
    case 'wait_for_navigation':
      return waitForNavigation(page, navigation, step.timeoutMs);
    case 'scroll':
      return scroll(page, step.target, step.infinite);
    case 'execute':
      return execute(page, step.script, step.timeoutMs);
    case 'condition': {
      const exists = await page.evaluate<boolean>(
        `(${page.findElementSource})(${JSON.stringify(step.target)}) !== null`,
      );
      const met = exists === (step.state === 'existing');
      if (met && step.then === 'exit_success') throw new ScenarioExit();
      if (met && step.then === 'exit_failed') {
        throw new Error(
          `the condition was met (${describe(step.target)} ${step.state === 'existing' ? 'exists' : 'does not exist'}) and its action is exit_failed`,
        );
      }
      return met;
    }
  }
}

/** Finds the element, waiting up to 2 s for it to appear (as a click does). */
const FIND_SOON = (findSource: string, target: ElementTarget) => `(async () => {
  const find = ${findSource};
  const target = ${JSON.stringify(target)};
  let element = find(target);
  const until = Date.now() + 2000;
  while (!element && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    element = find(target);
  }
  return element;
})()`;

async function click(
  page: ScenarioPage,
  target: ElementTarget,
  ignoreIfNotVisible: boolean,
  multiple: boolean,
): Promise<unknown> {
  if (multiple) {
    const clicked = await page.evaluate<number>(
      `(() => {
        const target = ${JSON.stringify(target)};
        const found = target.kind === 'xpath'
          ? (() => { const r = document.evaluate(target.xpath, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null); return Array.from({ length: r.snapshotLength }, (_, i) => r.snapshotItem(i)); })()
          : [...document.querySelectorAll(target.selector)];
        let count = 0;
        for (const element of found) if (element instanceof HTMLElement) { element.click(); count += 1; }
        return count;
      })()`,
    );
    if (clicked === 0 && !ignoreIfNotVisible) throw new Error(`no element matched ${describe(target)}`);
    return clicked;
  }
  try {
    await clickElement(
      page.session,
      page.scope,
      (expression) => page.evaluate(expression),
      page.findElementSource,
      target,
      `selector ${describe(target)}`,
    );
    return true;
  } catch (error) {
    const notThere =
      isApiError(error) &&
      (error.code === 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND' ||
        error.code === 'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE');
    if (notThere && ignoreIfNotVisible) return false;
    throw error;
  }
}

async function fill(
  page: ScenarioPage,
  target: ElementTarget,
  value: string,
  clear: boolean,
): Promise<unknown> {
  const ready = await page.evaluate<string>(
    `${FIND_SOON(page.findElementSource, target)}.then((element) => {
      if (!element) return 'missing';
      const editable = element.isContentEditable || element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement;
      if (!editable || element.disabled || element.readOnly) return 'not-editable';
      element.scrollIntoView({ block: 'nearest' });
      element.focus();
      if (${clear}) {
        if (element.isContentEditable) element.textContent = '';
        else element.value = '';
        element.dispatchEvent(new Event('input', { bubbles: true }));
      }
      if (!element.isContentEditable) {
        const end = element.value.length;
        try { element.setSelectionRange(end, end); } catch {}
      }
      return 'ready';
    })`,
  );
  if (ready === 'missing') throw new Error(`no element matched ${describe(target)}`);
  if (ready === 'not-editable') {
    throw new Error(`${describe(target)} is not an enabled text field, text area or editable element`);
  }
  // Typed as a user types: the page sees trusted input events.
  await page.scope.run(page.session.send('Input.insertText', { text: value }));
  await page.evaluate(
    `(() => { const element = document.activeElement; if (element) element.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`,
  );
  return true;
}

async function select(page: ScenarioPage, target: ElementTarget, values: string[]): Promise<unknown> {
  const answer = await page.evaluate<{ error?: string; selected?: string[] }>(
    `${FIND_SOON(page.findElementSource, target)}.then((element) => {
      if (!element) return { error: 'missing' };
      if (!(element instanceof HTMLSelectElement)) return { error: 'not-select' };
      const wanted = ${JSON.stringify(values)};
      const options = [...element.options];
      const unknown = wanted.filter((w) => !options.some((o) => o.value === w || o.label === w));
      if (unknown.length > 0) return { error: 'no option ' + JSON.stringify(unknown[0]) + ' (options: ' + options.map((o) => o.value).join(', ') + ')' };
      if (wanted.length > 1 && !element.multiple) return { error: 'several values for a select that takes one' };
      for (const option of options) option.selected = wanted.includes(option.value) || wanted.includes(option.label);
      element.dispatchEvent(new Event('input', { bubbles: true }));
      element.dispatchEvent(new Event('change', { bubbles: true }));
      return { selected: options.filter((o) => o.selected).map((o) => o.value) };
    })`,
  );
  if (answer.error === 'missing') throw new Error(`no element matched ${describe(target)}`);
  if (answer.error === 'not-select') throw new Error(`${describe(target)} is not a <select> element`);
  if (answer.error) throw new Error(`${describe(target)}: ${answer.error}`);
  return answer.selected ?? [];
}

async function waitForSelector(
  page: ScenarioPage,
  target: ElementTarget,
  state: 'visible' | 'hidden',
  timeoutMs: number,
): Promise<unknown> {
  const within = budget(page, timeoutMs);
  const reached = await page.evaluate<boolean>(
    `(async () => {
      const find = ${page.findElementSource};
      const target = ${JSON.stringify(target)};
      const visible = ${IS_VISIBLE};
      const wanted = ${JSON.stringify(state)} === 'visible';
      const until = Date.now() + ${within};
      for (;;) {
        if (visible(find(target)) === wanted) return true;
        if (Date.now() >= until) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })()`,
  );
  if (!reached) {
    throw new Error(
      `${describe(target)} was not ${state} within ${within} ms${within < timeoutMs ? " (the scrape's timeout left no more)" : ''}`,
    );
  }
  return true;
}

async function waitForNavigation(
  page: ScenarioPage,
  navigation: NavigationWatch,
  timeoutMs: number,
): Promise<unknown> {
  const within = budget(page, timeoutMs);
  const until = Date.now() + within;
  // A navigation a step before started (a click on a link, a form sent) counts: it is what this waits for.
  while (!navigation.takeNavigation()) {
    if (Date.now() >= until) throw new Error(`no navigation happened within ${within} ms`);
    await page.scope.sleep(50);
  }
  for (;;) {
    const state = await page.evaluate<string>('document.readyState').catch(() => 'loading');
    if (state === 'complete') return navigation.lastUrl() ?? true;
    if (Date.now() >= until) throw new Error(`the new page did not finish loading within ${within} ms`);
    await page.scope.sleep(50);
  }
}

async function scroll(
  page: ScenarioPage,
  target: ElementTarget | 'bottom',
  infinite: number,
): Promise<unknown> {
  if (target !== 'bottom') {
    const found = await page.evaluate<boolean>(
      `${FIND_SOON(page.findElementSource, target)}.then((element) => { if (!element) return false; element.scrollIntoView({ block: 'center' }); return true; })`,
    );
    if (!found) throw new Error(`no element matched ${describe(target)}`);
    return true;
  }
  const within = budget(page, Number.MAX_SAFE_INTEGER);
  return page.evaluate<number>(
    `(async () => {
      const root = document.scrollingElement || document.documentElement;
      const until = Date.now() + ${within};
      window.scrollTo(0, root.scrollHeight);
      let grown = 0;
      for (let round = 0; round < ${infinite} && Date.now() < until; round += 1) {
        const height = root.scrollHeight;
        const waitUntil = Math.min(until, Date.now() + 1000);
        while (root.scrollHeight === height && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
        if (root.scrollHeight === height) break;
        grown += 1;
        window.scrollTo(0, root.scrollHeight);
      }
      return root.scrollTop;
    })()`,
  );
}

async function execute(page: ScenarioPage, script: string, timeoutMs: number): Promise<unknown> {
  const within = budget(page, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the script did not finish within ${within} ms`)), within);
  });
  try {
    // The body of an async function, so `return` and `await` work; only what JSON carries comes back.
    return await Promise.race([
      page.evaluateInPage(
        `(async () => {\n${script}\n})().then((value) => { try { return value === undefined ? null : JSON.parse(JSON.stringify(value)); } catch { return String(value); } })`,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface NavigationWatch {
  /** Whether the main frame navigated since the last call (consumes it). */
  takeNavigation(): boolean;
  lastStatus(): number | undefined;
  lastUrl(): string | undefined;
  stop(): void;
}

function watchNavigation(session: CdpSession, mainFrameId: string): NavigationWatch {
  let navigations = 0;
  let taken = 0;
  let status: number | undefined;
  let url: string | undefined;
  const onNavigated = (event: { frame: { id: string; url: string; parentId?: string } }) => {
    if (event.frame.id !== mainFrameId) return;
    navigations += 1;
    url = event.frame.url;
  };
  const onResponse = (event: { type: string; frameId?: string; response: { status: number } }) => {
    if (event.type === 'Document' && event.frameId === mainFrameId) status = event.response.status;
  };
  session.on('Page.frameNavigated', onNavigated);
  session.on('Network.responseReceived', onResponse);
  return {
    takeNavigation: () => {
      if (navigations === taken) return false;
      taken = navigations;
      return true;
    },
    lastStatus: () => status,
    lastUrl: () => url,
    stop: () => {
      session.off('Page.frameNavigated', onNavigated);
      session.off('Network.responseReceived', onResponse);
    },
  };
}
