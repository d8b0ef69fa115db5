import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/browser-pool.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { ADMIN_PASSWORD } from './support.js';

const ALLOWED = '127.0.0.2';
const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SEEDED = 300;

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** The page scrolls sideways when its content is wider than the window. */
async function assertNoHorizontalOverflow(page: Page, what: string) {
  await page.waitForLoadState('load');
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(scroll <= inner, `${what}: content ${scroll} px wide in a ${inner} px window`);
}

async function snap(page: Page, name: string, fullPage = false) {
  const file = path.join(DOCS, `dashboard-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  assert.ok(fs.statSync(file).size < 400 * 1024, `${file} stays under 400 KB`);
}

async function imageLoaded(page: Page, selector: string): Promise<number> {
  await page.waitForFunction(
    (sel) => {
      const img = document.querySelector(sel) as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth > 0;
    },
    selector,
    { timeout: 20_000 },
  );
  return page.locator(selector).evaluate((img) => (img as HTMLImageElement).naturalWidth);
}

describe('dashboard at real volume, in real Chromium at 1440 px and 390 px', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let browser: Browser;
  let base: string;
  // The service's clock: the retry test moves it an hour on instead of waiting an hour.
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  const seededNewest = 'seed-000';
  const seededOldest = `seed-${String(SEEDED - 1).padStart(3, '0')}`;

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    receiver = await startReceiver(ALLOWED);
    service = await startService(
      {
        SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
        SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        SNAPWIRE_QUEUE_POLL: '100ms',
        SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '1h',
        SNAPWIRE_WEBHOOK_DISABLE_AFTER: '50',
        SNAPWIRE_WEBHOOK_TIMEOUT: '2s',
      },
      {},
      { clock },
    );
    base = service.baseUrl;
    const project = await service.snapwire.services.projects.findByName('default');
    assert.ok(project, 'the default project exists');
    // 300 logs: two thirds over the last day, the rest four to five days ago (days 1-3 have no traffic).
    const now = Date.now();
    const rows = Array.from({ length: SEEDED }, (_, i) => {
      const failed = i % 10 === 3;
      return {
        log_uuid: `seed-${String(i).padStart(3, '0')}`,
        project_id: project.id,
        env: 'LIVE' as const,
        url: `https://${i % 3 === 0 ? 'www.' : ''}seed.test/page/${i}`,
        params: JSON.stringify({ format: i % 2 ? 'png' : 'webp' }),
        http_status: failed ? 422 : 200,
        error_code: failed ? 'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT' : null,
        error_reason: failed ? 'seeded failure' : null,
        upstream_status: failed ? null : i % 7 === 0 ? 404 : 200,
        final_url: null,
        cost: failed ? 0 : 60,
        duration_ms: 800 + ((i * 37) % 2000),
        blob_key: null,
        content_type: null,
        created_at: i < 200 ? now - 60_000 - i * 7 * 60_000 : now - 4 * DAY - (i - 200) * 10 * 60_000,
        job_uuid: i % 5 === 0 ? `job-${i}` : null,
      };
    });
    await service.snapwire.services.store.db.insertInto('screenshot_logs').values(rows).execute();
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
    await receiver?.close();
  });

  for (const viewport of VIEWPORTS) {
    describe(`at ${viewport.width} px`, () => {
      let context: BrowserContext;
      let page: Page;

      before(async () => {
        context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height } });
        page = await context.newPage();
      });
      after(async () => context?.close());

      it('signs in', async () => {
        await page.goto(`${base}/dashboard/logs`);
        assert.match(page.url(), /\/dashboard\/login/, 'sent to sign-in first');
        await assertNoHorizontalOverflow(page, 'sign-in');
        await page.fill('input[name=password]', ADMIN_PASSWORD);
        await page.click('button[type=submit]');
        assert.match(page.url(), /\/dashboard\/logs$/, 'back on the logs');
      });

      it('pages through 300 logs to the last, with a total count and the upstream status', async () => {
        await page.goto(`${base}/dashboard/logs?domain=seed.test`);
        assert.equal(
          await page.getAttribute('#log-position', 'data-total'),
          String(SEEDED),
          'the total count',
        );
        assert.equal(
          await page.locator(`#logs tbody tr`).first().getAttribute('data-log'),
          seededNewest,
          'newest first',
        );
        const upstream404 = page.locator('#logs tr[data-log="seed-007"] td[data-label=Upstream] .bad');
        assert.equal((await upstream404.textContent())?.trim(), '404', 'a 404 page is not a green 200');
        await assertNoHorizontalOverflow(page, 'logs');
        if (viewport.name === 'phone') await snap(page, 'logs-phone');
        const seen = new Set<string>();
        let pages = 0;
        for (;;) {
          pages += 1;
          for (const id of await page
            .locator('#logs tbody tr')
            .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-log') ?? '')))
            seen.add(id);
          const next = page.locator('#next-page').first();
          if ((await next.count()) === 0) break;
          assert.ok(pages < 20, 'paging ends');
          await next.click();
        }
        assert.equal(pages, 6, 'six pages of 50');
        assert.equal(seen.size, SEEDED, 'every log seen exactly once');
        assert.match(
          (await page.textContent('#log-position')) ?? '',
          /251–300 of 300/,
          'the last page says so',
        );
        assert.equal(
          await page.locator('#logs tbody tr').last().getAttribute('data-log'),
          seededOldest,
          'the oldest log is last',
        );
      });

      it('exports the filtered rows as CSV and JSON', async () => {
        const csv = await (
          await context.request.get(`${base}/dashboard/logs/export.csv?domain=seed.test&outcome=failure`)
        ).text();
        const lines = csv.trim().split('\r\n');
        assert.equal(lines[0]?.split(',')[0], 'log_uuid', 'a header line');
        assert.equal(lines.length - 1, 30, 'the 30 failures, and only them');
        const json = (await (
          await context.request.get(`${base}/dashboard/logs/export.json?domain=seed.test`)
        ).json()) as Array<{ log_uuid: string; upstream_status: number | null; mode: string }>;
        assert.equal(json.length, SEEDED, 'every matching row');
        assert.equal(json.find((r) => r.log_uuid === 'seed-005')?.mode, 'async', 'sync or async is exported');
      });

      it('draws the overview per range with gaps, human units, top errors, top domains and credits left', async () => {
        await page.goto(`${base}/dashboard?range=7d`);
        const rate = page.locator('svg[aria-label="Success rate"]');
        assert.ok((await rate.locator('polyline').count()) >= 2, 'days without traffic split the line');
        assert.match(
          (await page.locator('svg[aria-label="Latency"]').textContent()) ?? '',
          /\d s/,
          'latency in seconds',
        );
        assert.match(
          (await page.textContent('#top-errors')) ?? '',
          /UNABLE_TO_TAKE_SCREENSHOT/,
          'top errors',
        );
        assert.match((await page.textContent('#top-domains')) ?? '', /seed\.test/, 'top domains');
        assert.ok(
          Number(((await page.textContent('[data-stat=credits-left]')) ?? '').replace(/\D/g, '')) > 0,
          'credits left',
        );
        await assertNoHorizontalOverflow(page, 'overview 7d');
        await snap(page, `overview-${viewport.name}`, viewport.name === 'desktop');
        for (const range of ['1h', '24h', '30d']) {
          await page.goto(`${base}/dashboard?range=${range}`);
          assert.equal(await page.locator('svg[role=img]').count(), 4, `four charts for ${range}`);
          await assertNoHorizontalOverflow(page, `overview ${range}`);
        }
      });

      it('takes a screenshot from the playground: image, answer headers, curl and SDK call', async () => {
        await page.goto(`${base}/dashboard/playground`);
        await assertNoHorizontalOverflow(page, 'playground form');
        await page.fill('#playground input[name=url]', `${fixtures.origin}/solid`);
        await page.fill('#playground input[name=format]', 'png');
        await page.fill('#playground input[name=resolution]', '800x500');
        await page.fill('#playground input[name=rendering_wait]', '0');
        await page.click('button[data-action=take]');
        assert.equal(await imageLoaded(page, '#playground-image'), 800, 'the screenshot is shown');
        const headers = (await page.textContent('#answer-headers')) ?? '';
        assert.match(headers, /x-scrapfly-upstream-http-code\s*200/, 'the answer headers');
        assert.match(headers, /x-scrapfly-api-cost/, 'with the cost');
        assert.match((await page.textContent('#playground-curl')) ?? '', /resolution=800x500/, 'the curl');
        assert.match(
          (await page.textContent('#playground-sdk')) ?? '',
          /resolution: "800x500"/,
          'the SDK call',
        );
        assert.equal(
          await page.inputValue('#playground input[name=url]'),
          `${fixtures.origin}/solid`,
          'the form keeps its values',
        );
        await assertNoHorizontalOverflow(page, 'playground answer');
        await snap(page, `playground-${viewport.name}`);
        // A refused parameter is explained next to the form, which keeps what was typed.
        await page.fill('#playground input[name=format]', 'bmp');
        await page.click('button[data-action=take]');
        assert.match((await page.textContent('[role=alert]')) ?? '', /CONFIG_ERROR/, 'the error is inline');
        assert.equal(await page.inputValue('#playground input[name=format]'), 'bmp', 'the typed value stays');
        // The new log has a thumbnail in the logs.
        await page.goto(`${base}/dashboard/logs`);
        assert.equal(
          await imageLoaded(page, '#logs tbody tr:first-child img.thumb'),
          128,
          'a small thumbnail, not the full capture',
        );
        await assertNoHorizontalOverflow(page, 'logs with a thumbnail');
        await page.click('#logs tbody tr:first-child td[data-label=Time] a');
        assert.equal(await imageLoaded(page, '#screenshot'), 800, 'the log page shows the screenshot');
        const shown = await page.locator('#screenshot').evaluate((img) => img.getBoundingClientRect().width);
        assert.ok(shown <= viewport.width, 'the screenshot fits the window');
        await assertNoHorizontalOverflow(page, 'log page');
        if (viewport.name === 'phone') await snap(page, 'log-phone');
      });

      it('asks before deleting a webhook, and keeps typed input on an error', async () => {
        const name = `hook-${viewport.name}`;
        await page.goto(`${base}/dashboard/webhooks`);
        await page.fill('#new-webhook input[name=name]', name);
        await page.fill('#new-webhook input[name=url]', 'ftp://not-a-webhook');
        await page.click('#new-webhook button[type=submit]');
        assert.ok(((await page.textContent('[role=alert]')) ?? '').length > 0, 'the error is shown inline');
        assert.equal(await page.inputValue('#new-webhook input[name=name]'), name, 'the name stays typed');
        await page.fill('#new-webhook input[name=url]', receiver.url);
        await page.click('#new-webhook button[type=submit]');
        await assertNoHorizontalOverflow(page, 'the secret page');
        await page.click('text=Back to the webhook');
        await page.waitForURL(/\/dashboard\/webhooks\/[^/?]+$/);
        await assertNoHorizontalOverflow(page, 'webhook page');
        const webhookUrl = page.url();
        page.once('dialog', (dialog) => void dialog.dismiss());
        await page.click('button[data-action=delete]');
        assert.equal(page.url(), webhookUrl, 'dismissed: nothing happened');
        let question = '';
        page.once('dialog', (dialog) => {
          question = dialog.message();
          void dialog.accept();
        });
        await page.click('button[data-action=delete]');
        assert.match(
          question,
          new RegExp(`Delete the webhook ${name}`),
          'the question names what is deleted',
        );
        assert.match((await page.textContent('[role=status]')) ?? '', /deleted/, 'deleted once confirmed');
        assert.equal(await page.locator(`#webhooks >> text=${name}`).count(), 0, 'gone from the list');
        await assertNoHorizontalOverflow(page, 'webhooks list');
        await page.goto(`${base}/dashboard/projects`);
        await assertNoHorizontalOverflow(page, 'projects');
        if (viewport.name === 'phone') await snap(page, 'projects-phone');
      });
    });
  }

  it('says "retrying at T" for a waiting job, filters attempts, and replays every failed delivery since T', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    const page = await context.newPage();
    try {
      await page.goto(`${base}/dashboard/login`);
      await page.fill('input[name=password]', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(background, 'rgb(245, 246, 248)', 'dark mode swaps the palette');
      receiver.fallback = { kind: 'status', status: 503, body: 'down for now' };
      await page.goto(`${base}/dashboard/webhooks`);
      await page.fill('#new-webhook input[name=name]', 'flaky');
      await page.fill('#new-webhook input[name=url]', receiver.url);
      await page.click('#new-webhook button[type=submit]');
      await page.click('text=Back to the webhook');
      await page.waitForURL(/\/dashboard\/webhooks\/[^/?]+$/);
      const webhookPage = page.url();
      await waitUntil(
        async () => {
          await page.goto(webhookPage);
          return /retrying at/.test((await page.textContent('#jobs')) ?? '');
        },
        { what: 'the ping waiting for its retry', timeoutMs: 15_000, intervalMs: 200 },
      );
      await page.goto(`${webhookPage}?attempts=succeeded`);
      assert.match(
        (await page.textContent('#live-deliveries')) ?? '',
        /No succeeded attempt/,
        'an empty filter says so',
      );
      await page.goto(`${webhookPage}?attempts=failed`);
      assert.ok((await page.locator('.attempts tr[data-status="503"]').count()) >= 1, 'the failed attempt');
      // The retry is due an hour later (±10 % jitter): move the clock, not the test.
      clock.offsetMs += 2 * HOUR;
      const jobId = (await page.locator('#jobs tbody tr').first().getAttribute('data-job')) ?? '';
      await waitUntil(async () => (await service.snapwire.services.queue.get(jobId))?.state === 'failed', {
        what: 'the ping failed after its retry',
      });
      await page.goto(webhookPage);
      await snap(page, 'webhook-dark-phone', true);
      await assertNoHorizontalOverflow(page, 'webhook page in dark mode');
      // Attempts are paged 25 at a time: 30 more failed ones (as a long outage leaves) make two pages.
      // (Written straight into the table, on the same job: only the page's paging is tested here.)
      const webhookUuid = new URL(webhookPage).pathname.split('/').pop() ?? '';
      await service.snapwire.services.store.db
        .insertInto('webhook_attempts')
        .values(
          Array.from({ length: 30 }, (_, i) => ({
            id: `old-attempt-${i}`,
            job_id: jobId,
            webhook_uuid: webhookUuid,
            attempt: 3 + i,
            started_at: Date.now() - DAY - i * 60_000,
            duration_ms: 12,
            status_code: 500,
            success: 0,
            error: 'http: HTTP 500',
            response_excerpt: 'old outage',
          })),
        )
        .execute();
      await page.goto(`${webhookPage}?attempts=failed`);
      assert.match((await page.textContent('#attempt-position')) ?? '', /1–25 of 32/, 'the first page of 32');
      await page.click('#older-attempts');
      assert.match((await page.textContent('#attempt-position')) ?? '', /26–32 of 32/, 'the last page');
      assert.equal(await page.locator('.attempts tbody tr').count(), 7, 'seven on the last page');
      receiver.fallback = { kind: 'status', status: 200, body: 'back' };
      const before = receiver.received.length;
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('button[data-action=replay-failed]');
      assert.match(
        (await page.textContent('[role=status]')) ?? '',
        /1 failed delivery since .* queued again/,
        'replayed',
      );
      await receiver.waitFor(before + 1);
      await waitUntil(async () => (await service.snapwire.services.queue.get(jobId))?.state === 'done', {
        what: 'the replayed ping delivered',
      });
    } finally {
      await context.close();
    }
  });
});
