import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/chromium-flags.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { screenshot, startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD } from './support.js';
import { waitUntil } from '../helpers/wait-until.js';

const ALLOWED = '127.0.0.2';

/** Waits for `check` to hold, reloading the page before each later try; bounded. */
async function eventually(page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  let first = true;
  await waitUntil(
    async () => {
      if (!first) await page.reload();
      first = false;
      return check();
    },
    { timeoutMs, intervalMs: 200, what },
  );
}

describe('dashboard end to end in real Chromium: sign in, webhooks, deliveries, replay, re-enable, log page', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let flaky: Receiver;
  let browser: Browser;
  let page: Page;
  let base: string;

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    receiver = await startReceiver(ALLOWED);
    flaky = await startReceiver(ALLOWED, { kind: 'status', status: 500, body: 'receiver is down' });
    service = await startService({
      SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
      SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SNAPWIRE_QUEUE_POLL: '100ms',
      SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms',
      SNAPWIRE_WEBHOOK_DISABLE_AFTER: '3',
      SNAPWIRE_WEBHOOK_TIMEOUT: '2s',
    });
    base = service.baseUrl;
    browser = await chromium.launch({
      executablePath: findExecutable(process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'),
      headless: true,
      args: [...CHROMIUM_FLAGS],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await fixtures?.close();
    await receiver?.close();
    await flaky?.close();
  });

  it('sends an unsigned visitor to sign-in, then signs in', async () => {
    await page.goto(`${base}/dashboard/webhooks`);
    assert.match(page.url(), /\/dashboard\/login\?next=/, 'redirected to sign-in');
    // The page's icon is Snapwire's, drawn from the page itself (no request to a missing /favicon.ico).
    const icon = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel~=icon]');
      const image = new Image();
      image.src = link?.href ?? '';
      await image.decode().catch(() => undefined);
      return { type: link?.type, width: image.naturalWidth };
    });
    assert.deepEqual(icon, { type: 'image/svg+xml', width: 32 }, 'the favicon link resolves to the logo');
    // The sign-in card sits in the middle of the window.
    const card = await page.locator('.login').boundingBox();
    assert.ok(card, 'the sign-in card is shown');
    const centre = card.x + card.width / 2;
    assert.ok(Math.abs(centre - 640) <= 2, `the card is centred (its middle at ${centre} px of 1280)`);
    await page.fill('input[name=password]', 'wrong password!');
    await page.click('button[type=submit]');
    assert.match(
      (await page.textContent('body')) ?? '',
      /Wrong user or password/,
      'a wrong password is refused',
    );
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    assert.match(page.url(), /\/dashboard\/webhooks$/, 'back where the visitor wanted to go');
  });

  let logUrl = '';
  let logUuid = '';

  it('creates a webhook to a local receiver, sends an asynchronous screenshot and watches the delivery appear', async () => {
    await page.fill('#new-webhook input[name=name]', 'shots');
    await page.fill('#new-webhook input[name=url]', receiver.url);
    await page.click('#new-webhook button[type=submit]');
    const secret = (await page.textContent('#secret'))?.trim() ?? '';
    assert.match(secret, /^[0-9a-f]{64}$/, 'the secret is revealed after creation');
    await receiver.waitFor(1);

    const response = await screenshot(base, {
      url: `${fixtures.origin}/solid`,
      format: 'png',
      resolution: '800x500',
      rendering_wait: '0',
      webhook_name: 'shots',
    });
    assert.equal(response.status, 201, 'the asynchronous screenshot is accepted');
    const promise = (await response.json()) as { log_url: string; log_uuid: string };
    logUrl = promise.log_url;
    logUuid = promise.log_uuid;
    assert.equal(
      new URL(logUrl).pathname,
      `/dashboard/monitoring/log/${logUuid}`,
      'log_url points at the log page',
    );
    const [, shot] = await receiver.waitFor(2);
    assert.equal(
      shot?.headers['x-scrapfly-webhook-resource-type'],
      'screenshot',
      'the screenshot was delivered',
    );

    await page.click('text=Back to the webhook');
    await eventually(
      page,
      async () => (await page.locator('.attempts tr[data-status="200"]').count()) >= 2,
      'the ping and the screenshot delivery in the history',
    );
    assert.equal(await page.locator('#jobs tr[data-state="done"]').count(), 2, 'both jobs are done');
    // Job ids are time-ordered (UUIDv7): the two made a second apart share their first characters, so the
    // table shows their last ones, and the copy button copies the whole id.
    const jobs = await page.locator('#jobs tbody tr').evaluateAll((rows) =>
      rows.map((row) => ({
        id: row.getAttribute('data-job') ?? '',
        shown: row.querySelector('td[data-label=Job] code')?.textContent?.trim() ?? '',
      })),
    );
    // Not asserted: that the two ids share their first eight characters. Those carry the top 32 bits of the
    // millisecond clock, which turn over every 65.5 s, so two jobs a second apart straddle a turn now and then
    // (CI caught one). What the user relies on is below: the tails differ and copy gives the whole id.
    assert.equal(jobs.length, 2, 'two jobs listed');
    assert.notEqual(jobs[0]?.shown, jobs[1]?.shown, `two jobs read differently: ${JSON.stringify(jobs)}`);
    for (const job of jobs)
      assert.ok(job.id.endsWith(job.shown.replace('…', '')), 'the shown part is the tail');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.locator('#jobs tbody tr').first().locator('button[data-copy]').click();
    assert.equal(
      await page.evaluate(() => navigator.clipboard.readText()),
      jobs[0]?.id,
      'copy puts the whole id on the clipboard',
    );
  });

  it('replays a delivery from the dashboard', async () => {
    const before = receiver.received.length;
    const row = page.locator('#jobs tr', { hasText: 'screenshot' }).first();
    await row.locator('button[data-action=replay]').click();
    assert.match((await page.textContent('[role=status]')) ?? '', /Replay queued/, 'the replay is confirmed');
    const received = await receiver.waitFor(before + 1);
    assert.equal(received.at(-1)?.headers['x-scrapfly-log-uuid'], logUuid, 'the same log is delivered again');
    // No reload: the delivery history refreshes itself in place (data-refresh).
    await page.waitForFunction(
      () => document.querySelectorAll('.attempts tr[data-status="200"]').length >= 3,
      undefined,
      { timeout: 10_000, polling: 200 },
    );
  });

  it('shows a failing webhook disabled automatically, and re-enables it', async () => {
    await page.goto(`${base}/dashboard/webhooks`);
    await page.fill('#new-webhook input[name=name]', 'flaky');
    await page.fill('#new-webhook input[name=url]', flaky.url);
    await page.click('#new-webhook button[type=submit]');
    await page.click('text=Back to the webhook');
    await flaky.waitFor(3);
    await eventually(
      page,
      async () => (await page.locator('#disabled').count()) === 1,
      'the auto-disable warning',
    );
    assert.match(
      (await page.textContent('.attempts')) ?? '',
      /500/,
      'failed attempts show their status code',
    );
    assert.match((await page.textContent('.attempts')) ?? '', /receiver is down/, 'and a response excerpt');
    flaky.fallback = { kind: 'status', status: 200, body: 'back' };
    await page.click('button[data-action=enable]');
    assert.equal((await page.textContent('#state'))?.trim(), 'enabled', 'the webhook is enabled again');
    await page.click('button[data-action=ping]');
    await eventually(
      page,
      async () => (await page.locator('.attempts tr[data-status="200"]').count()) >= 1,
      'a delivered ping after re-enabling',
    );
  });

  it('opens the log_url of the 201 response: image, timings, curl, webhook tab', async () => {
    await page.goto(`${base}${new URL(logUrl).pathname}`);
    await page.waitForFunction(
      () => {
        const img = document.querySelector('#screenshot') as HTMLImageElement | null;
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 10_000 },
    );
    const width = await page.locator('#screenshot').evaluate((img) => (img as HTMLImageElement).naturalWidth);
    assert.equal(width, 800, 'the stored screenshot is shown');
    assert.match(
      (await page.textContent('#curl')) ?? '',
      /resolution=800x500/,
      'the curl carries the parameters',
    );
    assert.match((await page.textContent('#curl')) ?? '', /webhook_name=shots/, 'and the webhook name');
    // The timing bar has a legend: each phase with its colour and time.
    const bar = await page
      .locator('.bar span')
      .evaluateAll((spans) => spans.map((span) => getComputedStyle(span).backgroundColor));
    const legend = await page.locator('#timings li[data-phase]').evaluateAll((items) =>
      items.map((item) => ({
        phase: item.getAttribute('data-phase'),
        colour: item.querySelector('.swatch')
          ? getComputedStyle(item.querySelector('.swatch')!).backgroundColor
          : '',
        text: item.textContent?.replace(/\s+/g, ' ').trim() ?? '',
      })),
    );
    assert.ok(bar.length >= 2, 'the bar shows the phases');
    for (const colour of bar)
      assert.ok(
        legend.some((item) => item.colour === colour),
        `the legend names the bar's ${colour}`,
      );
    assert.match(
      legend.find((item) => item.phase === 'navigation')?.text ?? '',
      /^navigation \d+(\.\d)? m?s$/,
    );
    assert.match(legend.find((item) => item.phase === 'total')?.text ?? '', /^total \d/);
    await page.click('#tab-webhook');
    assert.equal(await page.locator('#webhook-tab [data-job-state=done]').count(), 1, 'the job is done');
    assert.ok(
      (await page.locator('#webhook-tab .attempts tr[data-status="200"]').count()) >= 2,
      'delivery and replay listed',
    );
    // The preview loads after the tab opens: wait for it (bounded) before measuring.
    await page.waitForFunction(
      () => {
        const img = document.querySelector('#payload') as HTMLImageElement | null;
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 10_000 },
    );
    const payloadWidth = await page
      .locator('#payload')
      .evaluate((img) => (img as HTMLImageElement).naturalWidth);
    assert.equal(payloadWidth, 800, 'the delivered payload is previewed');
  });

  it('filters the logs by outcome, URL pattern, domain and date', async () => {
    const failed = await screenshot(base, { url: `http://${ALLOWED}:1/nothing-here`, rendering_wait: '0' });
    assert.ok(failed.status >= 400, 'a failing capture is logged too');
    await page.goto(`${base}/dashboard/logs`);
    assert.ok((await page.locator('#logs tbody tr').count()) >= 2, 'every request is listed');
    await page.selectOption('select[name=outcome]', 'failure');
    await page.click('#log-filters button[type=submit]');
    assert.equal(
      await page.locator(`#logs tr[data-log="${logUuid}"]`).count(),
      0,
      'the success is filtered out',
    );
    assert.ok((await page.locator('#logs tbody tr').count()) >= 1, 'the failure stays');
    await page.goto(`${base}/dashboard/logs?outcome=success&domain=${ALLOWED}&url=*solid`);
    assert.equal(
      await page.locator(`#logs tr[data-log="${logUuid}"]`).count(),
      1,
      'domain and URL pattern match',
    );
    await page.goto(`${base}/dashboard/logs?domain=example.com`);
    assert.equal(await page.locator('#logs tbody tr').count(), 0, 'another domain matches nothing');
    const today = new Date().toISOString().slice(0, 10);
    await page.goto(`${base}/dashboard/logs?from=${today}&to=${today}`);
    assert.ok(
      (await page.locator(`#logs tr[data-log="${logUuid}"]`).count()) === 1,
      "today's logs include it",
    );
    await page.goto(`${base}/dashboard/logs?to=2000-01-01`);
    assert.equal(await page.locator('#logs tbody tr').count(), 0, 'nothing before 2000');
  });

  it('creates a project with reveal-once keys and rotates a key; the overview charts render', async () => {
    await page.goto(`${base}/dashboard/projects`);
    await page.fill('#new-project input[name=name]', 'acme');
    await page.click('#new-project button[type=submit]');
    const live = (await page.textContent('#revealed-keys [data-env=LIVE]'))?.trim() ?? '';
    assert.match(live, /^scp-live-/, 'the LIVE key is shown once');
    const account = await fetch(`${base}/account?key=${live}`);
    assert.equal(account.status, 200, 'the revealed key works');
    await page.goto(`${base}/dashboard/projects`);
    assert.equal(await page.locator('#revealed-keys').count(), 0, 'keys are not shown again');
    // Rotating a key asks first (the old key stops working at once).
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('tr[data-project=acme] form[action$=rotate-key]').first().locator('button').click();
    const rotated = (await page.textContent('#revealed-keys [data-env=LIVE]'))?.trim() ?? '';
    assert.notEqual(rotated, live, 'a new key');
    assert.equal((await fetch(`${base}/account?key=${live}`)).status, 401, 'the old key stops working');

    await page.goto(`${base}/dashboard?days=1`);
    assert.equal(await page.locator('svg[role=img]').count(), 4, 'four charts');
    assert.ok(Number(await page.textContent('[data-stat=requests]')) >= 2, 'requests are counted');
    // Every request of this run sits in the last hour of a 24-hour range: it is a bar, not a lone dot.
    const bars = await page
      .locator('figure[data-chart=requests] rect.chart-bar')
      .evaluateAll((rects) =>
        rects.map((rect) => rect.getBoundingClientRect()).map(({ width, height }) => ({ width, height })),
      );
    assert.ok(bars.length >= 1, 'the busy hour has a bar');
    assert.ok(
      bars.some(({ width, height }) => width >= 6 && height >= 40),
      `the bar is big enough to see: ${JSON.stringify(bars)}`,
    );
  });

  it('signs out', async () => {
    await page.click('header button[type=submit]');
    assert.match(page.url(), /\/dashboard\/login$/, 'back to sign-in');
    await page.goto(`${base}/dashboard`);
    assert.match(page.url(), /\/dashboard\/login/, 'the dashboard is closed again');
  });
});
