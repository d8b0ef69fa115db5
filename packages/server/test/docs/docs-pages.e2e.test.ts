import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/chromium-flags.js';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { startService, type TestService } from '../helpers/service.js';

/** The page scrolls sideways when its content is wider than the window. */
async function assertNoHorizontalScroll(page: Page, what: string) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(scroll <= inner, `${what}: content ${scroll} px wide in a ${inner} px window`);
}

/** The page's icon: its link, and whether the browser can draw it. */
async function favicon(page: Page): Promise<{ href: string; width: number }> {
  return page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('link[rel~=icon]');
    if (!link) return { href: '', width: 0 };
    const image = new Image();
    image.src = link.href;
    await image.decode().catch(() => undefined);
    return { href: link.getAttribute('href') ?? '', width: image.naturalWidth };
  });
}

// The API reference and the error reference as a reader sees them, in real Chromium on a desktop and on a
// phone: Snapwire's header and icon (not Swagger's), the way back to the dashboard, the screenshot first.
describe('/docs and /docs/errors in a browser', () => {
  let service: TestService;
  let browser: Browser;

  before(async () => {
    service = await startService();
    browser = await chromium.launch({
      executablePath: findExecutable(process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'),
      headless: true,
      args: [...CHROMIUM_FLAGS],
    });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
  });

  for (const viewport of [
    { width: 1440, height: 900 },
    { width: 390, height: 844, isMobile: true },
  ]) {
    describe(`at ${viewport.width} px`, () => {
      let page: Page;
      before(async () => {
        page = await browser.newPage({
          viewport: { width: viewport.width, height: viewport.height },
          isMobile: viewport.isMobile ?? false,
        });
      });
      after(async () => page?.close());

      it("shows the API reference under Snapwire's header, the screenshot first, with a way back to the dashboard", async () => {
        await page.goto(`${service.baseUrl}/docs`);
        await page.locator('.opblock-tag').first().waitFor({ timeout: 20_000 });
        assert.equal(await page.locator('.swagger-ui .topbar').count(), 0, 'no Swagger top bar or logo');
        assert.equal((await page.locator('header .sw-brand').textContent())?.trim(), 'Snapwire');
        assert.equal(
          await page.locator('header a', { hasText: 'Dashboard' }).getAttribute('href'),
          '/dashboard',
          'a link back to the dashboard',
        );
        assert.match(await page.title(), /Snapwire/);
        const tags = await page
          .locator('.opblock-tag')
          .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-tag')));
        assert.equal(tags[0], 'screenshot', `screenshot comes first: ${tags.join(', ')}`);
        assert.equal(tags.at(-1), 'operations', 'operations last');
        assert.equal(
          await page.locator('meta[name=viewport]').getAttribute('content'),
          'width=device-width,initial-scale=1',
          'a phone renders it at its own width',
        );
        const icon = await favicon(page);
        assert.match(icon.href, /favicon\.svg$/, "Snapwire's icon, not Swagger's");
        assert.ok(icon.width > 0, 'the icon loads');
        await assertNoHorizontalScroll(page, '/docs');
        // Opened, the screenshot operation (its parameters and answers) still fits the window.
        await page.locator('.opblock-summary-path[data-path="/screenshot"]').first().click();
        await page.locator('.opblock-body').first().waitFor();
        await assertNoHorizontalScroll(page, '/docs with GET /screenshot open');
      });

      it('shows the error reference with an index of every code, styled like Snapwire', async () => {
        await page.goto(`${service.baseUrl}/docs/errors`);
        assert.equal(
          await page.locator('meta[name=viewport]').getAttribute('content'),
          'width=device-width,initial-scale=1',
        );
        const index = page.locator('nav.index');
        assert.equal(await index.count(), 1, 'an index');
        const targets = await index
          .locator('a')
          .evaluateAll((links) => links.map((link) => decodeURIComponent(link.getAttribute('href') ?? '')));
        assert.deepEqual(
          targets.sort(),
          Object.keys(ERROR_CATALOGUE)
            .map((code) => `#${code}`)
            .sort(),
          'every code in the index, each a link to its entry',
        );
        for (const target of targets.slice(0, 3))
          assert.equal(await page.locator(`[id="${target.slice(1)}"]`).count(), 1, `${target} exists`);
        assert.equal(
          await page.locator('header a', { hasText: 'Dashboard' }).getAttribute('href'),
          '/dashboard',
        );
        assert.equal(
          await page.locator('header a', { hasText: 'API reference' }).getAttribute('href'),
          '/docs',
        );
        const background = await page.evaluate(
          () => getComputedStyle(document.querySelector('header')!).backgroundColor,
        );
        assert.equal(background, 'rgb(29, 35, 48)', "the dashboard's header colour");
        assert.ok((await favicon(page)).width > 0, 'the icon loads');
        await assertNoHorizontalScroll(page, '/docs/errors');
      });
    });
  }

  it('lists the tags in the document in reading order', async () => {
    const document = (await (await fetch(`${service.baseUrl}/openapi.json`)).json()) as {
      tags?: Array<{ name: string }>;
    };
    assert.deepEqual(
      document.tags?.map((tag) => tag.name),
      [
        'screenshot',
        'webhooks',
        'schedules',
        'monitors',
        'scrape',
        'crawler',
        'extraction',
        'monitoring',
        'account',
        'mcp',
        'operations',
      ],
    );
  });
});
