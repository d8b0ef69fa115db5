import { ApiError } from '../errors.js';
import type { CaptureSpec } from './capture-spec.js';
import type { AttemptScope } from './deadline.js';
import type { CdpSession } from './cdp.js';

/** One selector of a request, with the parameter that gave it. `style`: a hide_selectors entry. */
interface SelectorItem {
  parameter: string;
  kind: 'selector' | 'xpath' | 'style';
  value: string;
}

function selectorsOf(request: CaptureSpec): SelectorItem[] {
  const items: SelectorItem[] = [];
  const add = (parameter: string, target: CaptureSpec['waitForSelector']) => {
    if (target?.kind === 'selector') items.push({ parameter, kind: 'selector', value: target.selector });
    if (target?.kind === 'xpath') items.push({ parameter, kind: 'xpath', value: target.xpath });
  };
  if (!request.pdf) add('capture', request.capture);
  add('wait_for_selector', request.waitForSelector);
  add('click', request.click);
  for (const selector of request.hideSelectors ?? []) {
    items.push({ parameter: 'hide_selectors', kind: 'style', value: selector });
  }
  return items;
}

/**
 * Runs in the blank page before navigation. The browser is the judge of what it parses: a CSS selector
 * must pass querySelector, an XPath document.evaluate down to one node, and a hide_selectors entry must
 * also make exactly one style rule (`* /*` passes querySelector, its comment then swallows the rule).
 */
const CHECK = `(items) => {
  const NOT_ONE_RULE = 'it does not make one style rule: an unclosed comment, string or bracket swallows the rule';
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index];
    try {
      if (item.kind === 'xpath') {
        document.evaluate(item.value, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null);
        continue;
      }
      document.querySelector(item.value);
      if (item.kind === 'style') {
        const sheet = new CSSStyleSheet();
        try {
          sheet.insertRule(item.value + ' { display: none !important; }');
        } catch {
          throw new SyntaxError(NOT_ONE_RULE);
        }
        const rule = sheet.cssRules[0];
        if (
          sheet.cssRules.length !== 1 ||
          !(rule instanceof CSSStyleRule) ||
          rule.style.getPropertyValue('display') !== 'none' ||
          rule.style.getPropertyPriority('display') !== 'important'
        ) {
          throw new SyntaxError(NOT_ONE_RULE);
        }
      }
    } catch (error) {
      return { index, message: String((error && error.message) || error).split('\\n')[0] };
    }
  }
  return null;
}`;

/**
 * Every selector and XPath of the request (capture, wait_for_selector, click, hide_selectors), checked by
 * the browser before the page is loaded: one it refuses is DOM_SELECTOR_INVALID (400) naming the parameter
 * and the selector, never a failure later in the capture.
 */
export async function checkSelectors(
  session: CdpSession,
  scope: AttemptScope,
  request: CaptureSpec,
): Promise<void> {
  const items = selectorsOf(request);
  if (items.length === 0) return;
  const result = await scope.run(
    session.send<{
      result: { value?: { index: number; message: string } | null };
      exceptionDetails?: { text: string };
    }>('Runtime.evaluate', {
      expression: `(${CHECK})(${JSON.stringify(items.map(({ kind, value }) => ({ kind, value })))})`,
      returnByValue: true,
    }),
  );
  if (result.exceptionDetails) {
    throw new Error(`The selector check failed in the page: ${result.exceptionDetails.text}`);
  }
  const refused = result.result.value;
  if (!refused) return;
  const item = items[refused.index];
  if (!item) return;
  throw new ApiError('ERR::SCRAPE::DOM_SELECTOR_INVALID', invalidSelectorReason(item, refused.message));
}

function invalidSelectorReason(item: SelectorItem, browserMessage: string): string {
  const value = item.value.length > 200 ? `${item.value.slice(0, 200)}…` : item.value;
  if (item.kind === 'xpath') {
    return `${item.parameter}: the XPath "${value}" is not valid (${browserMessage}); give an XPath that selects elements, or a CSS selector (an XPath starts with / or ( or xpath=)`;
  }
  return `${item.parameter}: "${value}" is not a valid CSS selector (${browserMessage}); check its brackets, quotes and comments (an XPath starts with / or ( or xpath=)`;
}
