import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/chromium-flags.js';
import { ADMIN_PASSWORD } from '../dashboard/support.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const page = { box: '#d62828' };
const watched = () => `<!doctype html><html><body style="margin:0;background:#fff">
<div style="position:absolute;left:100px;top:200px;width:80px;height:60px;background:${page.box}"></div></body></html>`;

/** The page scrolls sideways when its content is wider than the window. */
async function assertNoHorizontalOverflow(tab: Page, what: string) {
  await tab.waitForLoadState('load');
  const { scroll, inner } = await tab.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(scroll <= inner, `${what}: content ${scroll} px wide in a ${inner} px window`);
}

/** The Monitors pages in real Chromium at 1440 and 390 px: timeline, viewer, slider, approval. */
describe('dashboard: monitors', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let browser: Browser;
  let monitorId: string;
  let pendingRun: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`, {
      method,
      ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return (await response.json()) as Record<string, unknown>;
  };

  before(async () => {
    fixtures = await startFixtureServer({
      host: '127.0.0.2',
      routes: {
        '/watched': (_req: http.IncomingMessage, res: http.ServerResponse) => {
          res.writeHead(200, { 'content-type': 'text/html' }).end(watched());
        },
      },
    });
    service = await startService({
      SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32',
      SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    const monitor = await api('POST', '/monitors', {
      url: `${fixtures.origin}/watched`,
      screenshot_config: { resolution: '800x600' },
      require_approval: true,
    });
    monitorId = String(monitor.id);
    await api('POST', `/monitors/${monitorId}/run`);
    page.box = '#1d3557';
    const changed = await api('POST', `/monitors/${monitorId}/run`);
    assert.equal(changed.approval, 'pending', JSON.stringify(changed));
    pendingRun = String(changed.id);
    browser = await chromium.launch({
      executablePath: findExecutable(process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'),
      headless: true,
      args: [...CHROMIUM_FLAGS],
    });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await fixtures?.close();
  });

  for (const viewport of [
    { width: 1440, height: 900 },
    { width: 390, height: 844 },
  ]) {
    it(`shows the timeline and the before/after/diff viewer at ${viewport.width} px`, async () => {
      const context = await browser.newContext({ viewport });
      try {
        const tab = await context.newPage();
        await tab.goto(`${service.baseUrl}/dashboard/login?next=/dashboard/monitors`);
        await tab.fill('input[name=password]', ADMIN_PASSWORD);
        await tab.click('button[type=submit]');
        assert.match(tab.url(), /\/dashboard\/monitors$/);
        assert.equal(await tab.locator('#monitors tbody tr').count(), 1);
        await assertNoHorizontalOverflow(tab, 'monitors list');
        await tab.click(`#monitors a[href="/dashboard/monitors/${monitorId}"]`);

        const rows = tab.locator('#runs tbody tr');
        assert.equal(await rows.count(), 2, 'two runs in the timeline');
        assert.equal(await rows.first().getAttribute('data-status'), 'compared');
        assert.ok(Math.abs(Number(await rows.first().getAttribute('data-score')) - 0.01) < 0.0005);
        for (const which of ['before', 'after', 'diff']) {
          const selector = `.mon-sides img[src$="/image/${which}"]`;
          await tab.waitForFunction(
            (sel) => {
              const img = document.querySelector(sel) as HTMLImageElement | null;
              return img !== null && img.complete && img.naturalWidth > 0;
            },
            selector,
            { timeout: 20_000 },
          );
          const natural = await tab
            .locator(selector)
            .evaluate((img) => (img as HTMLImageElement).naturalWidth);
          assert.equal(natural, 800, `${which} image`);
          const shown = (await tab.locator(selector).boundingBox())?.width ?? 0;
          assert.ok(shown <= viewport.width, `${which} fits the window`);
        }
        // The slider uncovers the capture under the baseline.
        await tab.locator('.mon-slider input').fill('20');
        const share = await tab
          .locator('.mon-slider .mon-top')
          .evaluate((top) => (top as HTMLElement).style.width);
        assert.equal(share, '20%');
        // The baseline's layer never covers the range: its left part answers a pointer too.
        const reachable = await tab.locator('.mon-slider input').evaluate((input) => {
          input.scrollIntoView({ block: 'center' });
          const box = input.getBoundingClientRect();
          return document.elementFromPoint(box.left + box.width * 0.1, box.top + box.height / 2) === input;
        });
        assert.ok(reachable, 'the left part of the slider can be dragged');
        await assertNoHorizontalOverflow(tab, 'monitor page');
      } finally {
        await context.close();
      }
    });
  }

  it('approves the pending change from the page', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const tab = await context.newPage();
      await tab.goto(`${service.baseUrl}/dashboard/login?next=/dashboard/monitors/${monitorId}`);
      await tab.fill('input[name=password]', ADMIN_PASSWORD);
      await tab.click('button[type=submit]');
      await tab.click(`form[action$="/runs/${pendingRun}/approve"] button`);
      await tab.waitForLoadState('load');
      assert.match(await tab.content(), /Approved: the new baseline/);
      const monitor = await api('GET', `/monitors/${monitorId}`);
      assert.equal(monitor.baseline_run_id, pendingRun);
      assert.equal(monitor.pending_run_id, null);
    } finally {
      await context.close();
    }
  });
});
