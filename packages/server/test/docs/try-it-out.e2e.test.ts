import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/chromium-flags.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

// In a real Chromium: the API reference's "Try it out" works although SNAPWIRE_PUBLIC_URL names another
// address, and a page of another origin can call the API and read the X-Scrapfly-* headers (CORS).
describe('/docs in a browser', () => {
  let fixtures: FixtureServer;
  let service: TestService;
  let browser: Browser;
  let page: Page;
  let target: string;

  before(async () => {
    fixtures = await startFixtureServer();
    target = `http://fixtures.test:${fixtures.port}/solid`;
    service = await startService({ SNAPWIRE_PUBLIC_URL: 'http://snapwire.invalid:9' });
    browser = await chromium.launch({
      executablePath: findExecutable(process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'),
      headless: true,
      args: [...CHROMIUM_FLAGS],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await fixtures?.close();
  });

  it('"Try it out" on GET /screenshot answers the image and shows the X-Scrapfly-* headers', async () => {
    await page.goto(`${service.baseUrl}/docs`);
    // Authorize with the key (the apiKey security scheme), as a person would.
    // The modal also holds the bearer scheme (/mcp): use the apiKey one.
    await page.locator('button.authorize').first().click();
    const apiKeyForm = page.locator('.auth-container').filter({ hasText: 'apiKey (apiKey)' });
    await apiKeyForm.locator('input').first().fill(LIVE_KEY);
    await apiKeyForm.locator('.auth-btn-wrapper button.authorize').click();
    await apiKeyForm.locator('.auth-btn-wrapper button.btn-done').click();

    const operation = page.locator('.opblock-get', {
      has: page.locator('.opblock-summary-path[data-path="/screenshot"]'),
    });
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('tr[data-param-name="url"] input').fill(target);
    await operation.locator('button.execute').click();

    const status = operation.locator('.live-responses-table .response .response-col_status');
    await status.waitFor({ timeout: 60_000 });
    const body = await operation
      .locator('.live-responses-table .response td.response-col_description')
      .textContent();
    const sent = await operation.locator('.request-url pre').textContent();
    assert.equal((await status.textContent())?.trim(), '200', `${sent}: ${body}`);
    const headers =
      (await operation
        .locator('.live-responses-table .response td.response-col_description')
        .textContent()) ?? '';
    assert.match(headers, /x-scrapfly-api-cost: 60/i);
    assert.match(headers, /content-type: image\/jpeg/i);
    // The request went to the address the page was opened at, not to SNAPWIRE_PUBLIC_URL.
    const url = (await operation.locator('.request-url pre').textContent()) ?? '';
    assert.ok(url.startsWith(`${service.baseUrl}/screenshot?`), url);
  });

  it('lets a page of another origin call the API and read the X-Scrapfly-* headers', async () => {
    await page.goto(`${fixtures.origin}/solid`);
    const api = `${service.baseUrl}/screenshot?key=${LIVE_KEY}&url=${encodeURIComponent(target)}`;
    const seen = await page.evaluate(async (address) => {
      const ok = await fetch(address);
      const failed = await fetch(`${address}&format=bmp`);
      return {
        status: ok.status,
        cost: ok.headers.get('x-scrapfly-api-cost'),
        upstream: ok.headers.get('x-scrapfly-upstream-http-code'),
        rejectCode: failed.headers.get('x-scrapfly-reject-code'),
        failedStatus: failed.status,
      };
    }, api);
    assert.deepEqual(seen, {
      status: 200,
      cost: '60',
      upstream: '200',
      rejectCode: 'ERR::SCRAPE::CONFIG_ERROR',
      failedStatus: 400,
    });
  });
});
