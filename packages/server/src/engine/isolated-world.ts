import { ApiError } from '../errors.js';
import type { CaptureArea } from './capture-spec.js';
import type { CdpSession } from './cdp.js';
import type { AttemptScope } from './deadline.js';

/** A script that threw in the page (its first line); the steps turn it into the catalogue error that fits. */
export class PageScriptError extends Error {}

/** Our own helpers run in an isolated world: page scripts cannot tamper with querySelector or scrollTo. */
export class IsolatedWorld {
  private contextId: number | undefined;

  constructor(
    private readonly session: CdpSession,
    private readonly frameId: string,
    private readonly scope: AttemptScope,
  ) {}

  async evaluate<T = unknown>(expression: string, options: { awaitPromise?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      this.contextId ??= (
        await this.scope.run(
          this.session.send<{ executionContextId: number }>('Page.createIsolatedWorld', {
            frameId: this.frameId,
            worldName: '__snapwire__',
          }),
        )
      ).executionContextId;
      try {
        return await evaluateIn(this.session, this.scope, expression, {
          ...options,
          contextId: this.contextId,
        });
      } catch (error) {
        // The page navigated by itself: the world went with the old document; make a new one once.
        if (
          attempt === 0 &&
          /Cannot find context|context with specified id|Execution context was destroyed/i.test(
            (error as Error).message,
          )
        ) {
          this.contextId = undefined;
          continue;
        }
        throw error;
      }
    }
  }
}

/** Evaluates in the page's own world (no contextId) or the given one; a thrown script is a PageScriptError. */
export async function evaluateIn<T>(
  session: CdpSession,
  scope: AttemptScope,
  expression: string,
  options: { awaitPromise?: boolean; contextId?: number; userGesture?: boolean },
): Promise<T> {
  const result = await scope.run(
    session.send<{
      result: { value?: T; description?: string };
      exceptionDetails?: { text: string; exception?: { description?: string; value?: unknown } };
    }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: options.awaitPromise ?? false,
      ...(options.contextId !== undefined ? { contextId: options.contextId } : {}),
      ...(options.userGesture ? { userGesture: true } : {}),
    }),
  );
  if (result.exceptionDetails) {
    const details = result.exceptionDetails;
    const description =
      details.exception?.description ??
      (details.exception?.value !== undefined ? String(details.exception.value) : details.text);
    throw new PageScriptError(String(description).split('\n')[0]);
  }
  return result.result.value as T;
}

/** In-page test of an element a person could see (connected, shown, with an area): the waits use it. */
export const IS_VISIBLE = `(el) => {
  if (!el || !el.isConnected) return false;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') return false;
  const rect = el.getBoundingClientRect();
  return rect.width > 0 && rect.height > 0;
}`;

/** In-page element lookup shared by the waits and the element capture. */
export const FIND_ELEMENT = `(target) => {
  let node;
  if (target.kind === 'xpath') {
    node = document.evaluate(target.xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  } else {
    node = document.querySelector(target.selector);
  }
  if (node && !(node instanceof Element)) node = node.parentElement;
  return node || null;
}`;

export function describeTarget(target: CaptureArea): string {
  return target.kind === 'xpath'
    ? `XPath ${target.xpath}`
    : target.kind === 'selector'
      ? `selector ${target.selector}`
      : target.kind;
}

/** A selector's failure in the page: an invalid selector, or a lookup that failed; other errors pass. */
export function selectorError(error: unknown, target: CaptureArea): unknown {
  if (!(error instanceof PageScriptError)) return error;
  if (
    /SyntaxError|not a valid|Failed to execute|is not a valid XPath|The string .* is not/i.test(error.message)
  ) {
    return new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVALID',
      `The ${describeTarget(target)} is not valid: ${error.message}`,
    );
  }
  return new ApiError(
    'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
    `Looking for the ${describeTarget(target)} failed: ${error.message}`,
  );
}
