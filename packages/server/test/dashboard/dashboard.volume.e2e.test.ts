import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/chromium-flags.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { ADMIN_PASSWORD } from './support.js';

const ALLOWED = '127.0.0.2';
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
    // A page whose logo comes from a private address: the egress guard blocks it (never contacted).
    fixtures = await startFixtureServer({
      host: ALLOWED,
      routes: {
        '/with-private-logo': (_req, res) =>
          res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
            .end(
              '<body style="margin:0;background:#0080ff"><img src="http://intranet.test/logo.png" width="1" height="1"></body>',
            ),
      },
    });
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
      { 'intranet.test': '10.0.0.5' },
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
    await service.snapwire.store.db.insertInto('screenshot_logs').values(rows).execute();
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
        if (viewport.name === 'desktop') {
          // The table uses the window's width, and a time stays on one line.
          const tableWidth = (await page.locator('#logs').boundingBox())?.width ?? 0;
          assert.ok(tableWidth >= 1300, `the table is ${tableWidth} px wide in a 1440 px window`);
          const lines = await page
            .locator('#logs td[data-label=Time] a')
            .evaluateAll((links) => links.map((link) => link.getClientRects().length));
          assert.deepEqual([...new Set(lines)], [1], 'every timestamp on one line');
        } else {
          // 50 rows of three short lines each: a few phone screens, not 17,000 px of labelled cards.
          const height = await page.evaluate(() => document.documentElement.scrollHeight);
          assert.equal(await page.locator('#logs tbody tr').count(), 50, 'a page of 50');
          assert.ok(height < 6000, `the page of 50 logs is ${height} px tall at 390 px`);
        }
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
          (await page.locator('figure[data-chart=latency] .y-axis').textContent()) ?? '',
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
        // One number format on every card (16,380 credits used, not "16.4 k" beside "999,820").
        const counts = await page
          .locator(
            '[data-stat=requests], [data-stat=failures], [data-stat=credits-used], [data-stat=credits-left]',
          )
          .allTextContents();
        assert.equal(counts.length, 4);
        for (const count of counts) assert.match(count.trim(), /^\d{1,3}(,\d{3})*$/, 'a count in full');
        // Axis labels stay readable on a phone (they do not shrink with the chart).
        const labels = await page.locator('.y-axis span, .x-axis span').evaluateAll((spans) =>
          spans
            .filter((span) => span.getClientRects().length > 0)
            .map((span) => ({
              text: span.textContent,
              size: parseFloat(getComputedStyle(span).fontSize),
              height: span.getBoundingClientRect().height,
            })),
        );
        assert.ok(labels.length >= 16, 'every chart has labels on both axes');
        for (const label of labels)
          assert.ok(label.size >= 11 && label.height >= 10, `label ${JSON.stringify(label)} is readable`);
        for (const range of ['1h', '24h', '30d']) {
          await page.goto(`${base}/dashboard?range=${range}`);
          assert.equal(await page.locator('svg[role=img]').count(), 4, `four charts for ${range}`);
          await assertNoHorizontalOverflow(page, `overview ${range}`);
        }
      });

      it('fits the audit log, the sessions and the two-factor set-up in the window', async () => {
        await page.goto(`${base}/dashboard/audit`);
        assert.ok((await page.locator('#audit tbody tr[data-action=sign_in]').count()) >= 1, 'the sign-in');
        await assertNoHorizontalOverflow(page, 'audit');
        await page.goto(`${base}/dashboard/sessions`);
        assert.equal(await page.locator('#sessions tr[data-current=yes]').count(), 1, 'this session');
        await assertNoHorizontalOverflow(page, 'sessions');
        await page.goto(`${base}/dashboard/two-factor`);
        // Set up only makes a pending secret: signing in stays password-only until a code confirms it.
        // (The first viewport's run set it up already: the second finds it pending.)
        const enrol = page.locator('button[data-action=enrol]');
        if ((await enrol.count()) > 0) await enrol.click();
        await page.waitForSelector('#otpauth-uri');
        await assertNoHorizontalOverflow(page, 'two-factor set-up');
      });

      it('takes a screenshot from the playground: image, answer headers, curl and SDK call', async () => {
        await page.goto(`${base}/dashboard/playground`);
        await assertNoHorizontalOverflow(page, 'playground form');
        // Closed lists are selects, booleans are boxes, and every field says what it does under it.
        for (const name of ['format', 'vision_deficiency', 'pdf_paper', 'viewport_device'])
          assert.equal(
            await page.locator(`#playground select[name=${name}]`).count(),
            1,
            `${name} is a select`,
          );
        for (const name of ['auto_scroll', 'cache', 'cache_clear', 'omit_background', 'pdf_landscape'])
          assert.equal(
            await page.locator(`#playground input[type=checkbox][name=${name}]`).count(),
            1,
            `${name} is a checkbox`,
          );
        assert.equal(await page.locator('#playground input[type=checkbox][name^="options["]').count(), 4);
        const helpless = await page
          .locator('#playground .field')
          .evaluateAll((fields) =>
            fields
              .filter((field) => (field.querySelector('.help')?.textContent?.trim().length ?? 0) < 10)
              .map((field) => field.getAttribute('data-field')),
          );
        assert.deepEqual(helpless, [], 'every field has its help text under it');
        assert.equal(
          await page.locator('#playground input[placeholder*="Egress country through"]').count(),
          0,
          'no help cut off in a placeholder',
        );
        await page.fill('#playground input[name=url]', `${fixtures.origin}/with-private-logo`);
        await page.selectOption('#playground select[name=format]', 'png');
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
          'the @snapwire/sdk call',
        );
        const scrapfly = (await page.textContent('#playground-scrapfly-sdk')) ?? '';
        assert.match(
          scrapfly,
          /new ScrapflyClient\(\{\s*key: process\.env\.SNAPWIRE_KEY!,\s*host: /,
          "scrapfly-sdk's client",
        );
        assert.match(
          scrapfly,
          /new ScreenshotConfig\(\{[\s\S]*resolution: "800x500"/,
          'and its ScreenshotConfig',
        );
        assert.equal(
          await page.inputValue('#playground input[name=url]'),
          `${fixtures.origin}/with-private-logo`,
          'the form keeps its values',
        );
        assert.equal(
          await page.inputValue('#playground select[name=format]'),
          'png',
          'the select keeps its value',
        );
        await assertNoHorizontalOverflow(page, 'playground answer');
        // The answer links its log, and the log page says in plain words what was blocked.
        const logLink = page.locator('#answer-log a');
        const logUuid = (await logLink.textContent())?.trim() ?? '';
        assert.match(logUuid, /^[0-9A-Z]{26}$/, 'the log uuid');
        assert.equal(await logLink.getAttribute('href'), `/dashboard/monitoring/log/${logUuid}`);
        await logLink.click();
        await page.waitForURL(new RegExp(`/dashboard/monitoring/log/${logUuid}$`));
        const blocked = page.locator('#refused');
        assert.match(
          ((await blocked.textContent()) ?? '').replace(/\s+/g, ' '),
          /^1 blocked \(intranet\.test\): the address is private or not allowed/,
          'what the egress guard blocked, in plain words',
        );
        assert.equal(
          await blocked.locator('a').getAttribute('href'),
          '/docs/errors#ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
          'with the page that explains it',
        );
        assert.doesNotMatch((await page.textContent('main')) ?? '', /egress guard/i, 'no jargon');
        await assertNoHorizontalOverflow(page, 'log page with a blocked request');
        // A refused parameter is explained next to its field; the form keeps what was typed.
        await page.goto(`${base}/dashboard/playground`);
        await page.fill('#playground input[name=url]', `${fixtures.origin}/solid`);
        await page.fill('#playground input[name=resolution]', 'big');
        await page.click('button[data-action=take]');
        assert.match(
          (await page.textContent('#playground-error')) ?? '',
          /CONFIG_ERROR/,
          'refused, said on top',
        );
        const field = page.locator('#playground .field[data-field=resolution]');
        assert.match(
          (await field.locator('.field-error').textContent()) ?? '',
          /resolution/,
          'the reason by the field',
        );
        assert.equal(await field.locator('input').getAttribute('aria-invalid'), 'true');
        assert.equal(
          await page.inputValue('#playground input[name=resolution]'),
          'big',
          'the typed value stays',
        );
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
      await assertNoHorizontalOverflow(page, 'webhook page in dark mode');
      // Attempts are paged 25 at a time: 30 more failed ones (as a long outage leaves) make two pages.
      // (Written straight into the table, on the same job: only the page's paging is tested here.)
      const webhookUuid = new URL(webhookPage).pathname.split('/').pop() ?? '';
      await service.snapwire.store.db
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
