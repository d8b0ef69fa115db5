import { PageLostError, withTimeout, type BrowserInstance, type PageHandle } from './browser.js';

/**
 * Hang watch: the renderer must answer a trivial evaluation within rendererHangTimeoutMs. A page in an
 * endless script never does; it is declared lost (its context is destroyed with the job, killing it).
 */
export function watchRenderer(
  page: PageHandle,
  timeouts: { rendererHangTimeoutMs: number; browserHangTimeoutMs: number },
  onBrowserHung: (browser: BrowserInstance) => void,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = () => {
    if (stopped || page.lost) return;
    withTimeout(
      page.session.send('Runtime.evaluate', { expression: '0', returnByValue: true }),
      timeouts.rendererHangTimeoutMs,
      'renderer probe',
    ).then(
      () => {
        if (!stopped) timer = setTimeout(probe, 1_000);
      },
      async (error: unknown) => {
        if (stopped || page.lost) return;
        if (!(error as Error).message.includes('timed out')) {
          timer = setTimeout(probe, 1_000);
          return;
        }
        // Whose fault: a browser that does not answer either is the one to replace (every page of it is
        // lost and retried elsewhere); otherwise only this renderer is dead.
        const browser = page.browser;
        if (!(await browser.ping(Math.min(2_000, timeouts.browserHangTimeoutMs)))) {
          onBrowserHung(browser);
          return;
        }
        page.lose(
          new PageLostError(
            'renderer-hang',
            `the page's renderer did not answer for ${timeouts.rendererHangTimeoutMs} ms`,
          ),
        );
      },
    );
  };
  timer = setTimeout(probe, 1_000);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
