import { ApiError } from '../errors.js';
import type { AttemptScope } from './deadline.js';
import type { CdpSession } from './cdp.js';

type ClickTarget = { kind: 'selector'; selector: string } | { kind: 'xpath'; xpath: string };

/**
 * click: one real left click (mouse moved, pressed, released through Input.dispatchMouseEvent, so the page
 * sees trusted events) at the centre of the element, scrolled into view when it is not. The element may
 * appear a little after load: it is looked for up to 2 s.
 */
export async function clickElement(
  session: CdpSession,
  scope: AttemptScope,
  evaluate: <T>(expression: string) => Promise<T>,
  findElementSource: string,
  target: ClickTarget,
  describe: string,
): Promise<void> {
  const point = await evaluate<{ x: number; y: number } | 'missing' | 'empty'>(
    `(async (target) => {
      const find = ${findElementSource};
      let element = find(target);
      const until = Date.now() + 2000;
      while (!element && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        element = find(target);
      }
      if (!element) return 'missing';
      element.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const rect = element.getBoundingClientRect();
      if (rect.width < 1 || rect.height < 1) return 'empty';
      return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
    })(${JSON.stringify(target)})`,
  );
  if (point === 'missing')
    throw new ApiError('ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND', `No element matched the ${describe} (click)`);
  if (point === 'empty') {
    throw new ApiError(
      'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE',
      `The element matched by the ${describe} has no size on the page, so it cannot be clicked (click)`,
    );
  }
  const at = { x: point.x, y: point.y };
  await scope.run(session.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...at }));
  await scope.run(
    session.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...at, button: 'left', clickCount: 1 }),
  );
  await scope.run(
    session.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...at, button: 'left', clickCount: 1 }),
  );
}
