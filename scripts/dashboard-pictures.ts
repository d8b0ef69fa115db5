/**
 * The pictures of the dashboard and the API reference in docs/ (docs/dashboard-*.png), taken in real
 * Chromium at 1440 px and 390 px from a service this script starts on loopback: 300 seeded logs over a
 * week, real captures of a local page, a webhook that delivers and one that fails until it is disabled.
 *
 *   npm run docs:pictures                       # writes docs/dashboard-*.png
 *   npm run docs:pictures -- --out /tmp/shots   # somewhere else (to look before committing)
 *
 * Run on purpose when a page changes; the tests never write pictures. Nothing but loopback is contacted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ulid } from 'ulid';
import { CHROMIUM_FLAGS, findExecutable } from '../packages/server/src/engine/chromium-flags.js';
import { timeOrderedId } from '../packages/server/src/store/time-ordered-id.js';
import { startFixtureServer } from '../packages/server/test/helpers/fixture-server.js';
import { startReceiver } from '../packages/server/test/helpers/receiver.js';
import {
  LIVE_KEY,
  screenshot,
  startService,
  type TestService,
} from '../packages/server/test/helpers/service.js';
import { waitUntil } from '../packages/server/test/helpers/wait-until.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const OUT = path.resolve(outIndex > 0 ? (process.argv[outIndex + 1] ?? '') : path.join(ROOT, 'docs'));
const ALLOWED = '127.0.0.2';
const PASSWORD = 'correct-horse-battery-staple';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Pictures stay small enough for a README. */
const MAX_BYTES = 400 * 1024;

// A page that looks like a site: the captures in the pictures show it. Its logo comes from a private
// address, which the egress guard blocks (the log page says so).
const PRICING = `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;font:16px system-ui,sans-serif;color:#1d2330;background:#fff}
header{display:flex;gap:24px;align-items:center;padding:18px 40px;background:#0f172a;color:#fff}
header b{font-size:20px}header span{opacity:.7}
h1{font-size:40px;margin:48px 40px 8px}p.lead{margin:0 40px 32px;color:#5a6375;font-size:18px}
.plans{display:grid;grid-template-columns:repeat(3,1fr);gap:24px;margin:0 40px}
.plan{border:1px solid #dde1e8;border-radius:10px;padding:24px}.plan.best{border:2px solid #2d5be3}
.price{font-size:34px;font-weight:700;margin:10px 0}button{background:#2d5be3;color:#fff;border:0;border-radius:6px;padding:10px 18px;font:inherit}
</style></head><body><header><img src="http://intranet.test/logo.png" alt="" width="1" height="1"><b>Acme Cloud</b><span>Product</span><span>Pricing</span><span>Docs</span></header>
<h1>Simple pricing</h1><p class="lead">Start free, upgrade when your traffic grows.</p>
<div class="plans"><div class="plan"><h2>Hobby</h2><div class="price">$0</div><p>1 project, community support</p><button>Start</button></div>
<div class="plan best"><h2>Team</h2><div class="price">$29</div><p>10 projects, email support</p><button>Try it</button></div>
<div class="plan"><h2>Scale</h2><div class="price">$99</div><p>Unlimited projects, SLA</p><button>Contact us</button></div></div>
</body></html>`;

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const fixtures = await startFixtureServer({
    host: ALLOWED,
    routes: {
      '/pricing': (_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PRICING),
      // A small documentation site for the crawl picture: an index and six pages two levels deep.
      ...Object.fromEntries(
        ['', 'install', 'api', 'api/screenshot', 'api/scrape', 'api/crawl', 'faq'].map((name) => [
          `/docs/${name}`,
          (_req: unknown, res: import('node:http').ServerResponse) =>
            res
              .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
              .end(
                `<!doctype html><title>Docs ${name}</title><h1>Docs ${name}</h1>` +
                  (name === ''
                    ? '<a href="/docs/install">Install</a> <a href="/docs/api">API</a> <a href="/docs/faq">FAQ</a>'
                    : name === 'api'
                      ? '<a href="/docs/api/screenshot">Screenshot</a> <a href="/docs/api/scrape">Scrape</a> <a href="/docs/api/crawl">Crawl</a>'
                      : '<a href="/docs/">Back</a>'),
              ),
        ]),
      ),
    },
  });
  const receiver = await startReceiver(ALLOWED);
  const flaky = await startReceiver(ALLOWED, { kind: 'status', status: 500, body: 'receiver is down' });
  const service = await startService(
    {
      SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
      SNAPWIRE_ADMIN_PASSWORD: PASSWORD,
      SNAPWIRE_QUEUE_POLL: '100ms',
      SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms',
      SNAPWIRE_WEBHOOK_DISABLE_AFTER: '3',
      SNAPWIRE_WEBHOOK_TIMEOUT: '2s',
    },
    { 'intranet.test': '10.0.0.5' },
  );
  let browser: Browser | undefined;
  try {
    const base = service.baseUrl;
    const { services } = service.snapwire;
    const project = await services.projects.findByName('default');
    assert.ok(project, 'the default project exists');
    await seedLogs(service.snapwire.store.db, project.id);

    // Real traffic: a synchronous capture (its logo blocked), an asynchronous one delivered to a webhook,
    // a failure, and a webhook that keeps failing until it is disabled.
    const caller = { project, env: 'LIVE' as const };
    await services.webhookService.create(caller, { name: 'shots', url: receiver.url });
    await services.webhookService.create(caller, { name: 'flaky', url: flaky.url });
    const page = { url: `${fixtures.origin}/pricing`, resolution: '1280x800', rendering_wait: '0' };
    const sync = await screenshot(base, { ...page, format: 'png' });
    assert.equal(sync.status, 200, `the synchronous capture: ${await sync.text()}`);
    const syncLog = sync.headers.get('x-scrapfly-log-uuid') ?? '';
    const async = await screenshot(base, { ...page, format: 'webp', webhook_name: 'shots' });
    assert.equal(async.status, 201, 'the asynchronous capture is accepted');
    const { log_uuid: asyncLog } = (await async.json()) as { log_uuid: string };
    await receiver.waitFor(2);
    await screenshot(base, { url: `http://${ALLOWED}:1/checkout`, rendering_wait: '0' });
    await flaky.waitFor(3);
    const webhooks = await services.webhooks.list(caller);
    const shots = webhooks.find((w) => w.name === 'shots');
    const broken = webhooks.find((w) => w.name === 'flaky');
    assert.ok(shots && broken, 'both webhooks exist');
    await waitUntil(async () => (await services.webhooks.byUuid(broken.uuid))?.enabled === 0, {
      what: 'the failing webhook disabled',
      timeoutMs: 20_000,
    });

    // The other APIs' faces: a scrape's log, a saved extraction template, a finished crawl.
    const key = `key=${LIVE_KEY}`;
    const scraped = await fetch(
      `${base}/scrape?${key}&format=markdown&url=${encodeURIComponent(`${fixtures.origin}/pricing`)}`,
    );
    assert.equal(scraped.status, 200, `the scrape: ${await scraped.text()}`);
    const scrapeLog = scraped.headers.get('x-scrapfly-log-uuid') ?? '';
    const saved = await fetch(`${base}/extraction/templates/pricing?${key}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        template: {
          selectors: [
            { name: 'title', type: 'css', query: 'h1::text' },
            { name: 'plans', type: 'css', query: '.plan h2::text', multiple: true },
            { name: 'prices', type: 'css', query: '.price::text', multiple: true },
          ],
        },
      }),
    });
    assert.ok(saved.ok, `the template: ${await saved.text()}`);
    const started = await fetch(`${base}/crawl?${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${fixtures.origin}/docs/`,
        page_limit: 20,
        content_formats: ['markdown'],
      }),
    });
    const { crawler_uuid: crawlUuid } = (await started.json()) as { crawler_uuid: string };
    await waitUntil(
      async () =>
        ((await (await fetch(`${base}/crawl/${crawlUuid}/status?${key}`)).json()) as { is_finished: boolean })
          .is_finished,
      { what: 'the crawl finished', timeoutMs: 30_000 },
    );

    browser = await chromium.launch({
      executablePath: findExecutable(process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'),
      headless: true,
      args: [...CHROMIUM_FLAGS],
    });
    const desktop = await signedIn(browser, base, { width: 1440, height: 900 }, 'login');
    const phone = await signedIn(browser, base, { width: 390, height: 844 }, 'login-phone');
    const d = await desktop.newPage();
    const p = await phone.newPage();

    await shoot(d, `${base}/dashboard?range=7d`, 'overview-desktop', { fullPage: true });
    await shoot(p, `${base}/dashboard?range=7d`, 'overview-phone');
    await shoot(d, `${base}/dashboard/logs`, 'logs');
    await shoot(p, `${base}/dashboard/logs`, 'logs-phone');
    await shoot(d, `${base}/dashboard/monitoring/log/${syncLog}`, 'log', { image: '#screenshot' });
    await shoot(p, `${base}/dashboard/monitoring/log/${syncLog}`, 'log-phone', { image: '#screenshot' });
    await shoot(d, `${base}/dashboard/monitoring/log/${asyncLog}?tab=webhook`, 'log-webhook', {
      image: '#payload',
    });
    await shoot(d, `${base}/dashboard/webhooks/${shots.uuid}`, 'webhook');
    await shoot(d, `${base}/dashboard/webhooks/${broken.uuid}`, 'webhook-disabled');
    await shoot(d, `${base}/dashboard/projects`, 'projects');
    await shoot(p, `${base}/dashboard/projects`, 'projects-phone');
    for (const [target, name] of [
      [d, 'playground-desktop'],
      [p, 'playground-phone'],
    ] as const) {
      await target.goto(`${base}/dashboard/playground`);
      await target.fill('#playground input[name=url]', page.url);
      await target.selectOption('#playground select[name=format]', 'png');
      await target.fill('#playground input[name=resolution]', '1280x800');
      await target.fill('#playground input[name=rendering_wait]', '0');
      await target.click('button[data-action=take]');
      await shoot(target, undefined, name, { image: '#playground-image', fullPage: target === d });
    }
    await shoot(d, `${base}/dashboard/monitoring/log/${scrapeLog}`, 'log-scrape');
    await shoot(d, `${base}/dashboard/templates`, 'templates');
    await shoot(d, `${base}/dashboard/crawls/${crawlUuid}`, 'crawl', { fullPage: true });
    await shoot(d, `${base}/docs`, 'api-reference', { wait: '.opblock-tag' });
    await shoot(p, `${base}/docs/errors`, 'api-errors-phone');

    const dark = await signedIn(browser, base, { width: 390, height: 844 }, undefined, 'dark');
    await shoot(await dark.newPage(), `${base}/dashboard/webhooks/${broken.uuid}`, 'webhook-dark-phone', {
      fullPage: true,
    });
    console.log(`pictures written to ${OUT}`);
  } finally {
    await browser?.close();
    await service.close();
    await fixtures.close();
    await receiver.close();
    await flaky.close();
  }
}

/** 300 logs: two thirds over the last day, the rest four to five days ago (days 1-3 have no traffic). */
async function seedLogs(db: TestService['snapwire']['store']['db'], projectId: string) {
  const now = Date.now();
  const rows = Array.from({ length: 300 }, (_, i) => {
    const failed = i % 10 === 3;
    const createdAt = i < 200 ? now - 3 * MINUTE - i * 7 * MINUTE : now - 4 * DAY - (i - 200) * 10 * MINUTE;
    const site = ['www.example.org', 'shop.example.com', 'docs.example.net', 'news.example.io'][i % 4];
    return {
      log_uuid: ulid(createdAt),
      project_id: projectId,
      env: 'LIVE' as const,
      url: `https://${site}/${['pricing', 'blog/launch-week', 'about', 'products/42'][i % 4]}`,
      params: JSON.stringify({ format: i % 2 ? 'png' : 'webp' }),
      http_status: failed ? 422 : 200,
      error_code: failed ? 'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT' : null,
      error_reason: failed ? 'the page crashed while it was captured' : null,
      upstream_status: failed ? null : i % 7 === 0 ? 404 : 200,
      final_url: null,
      cost: failed ? 0 : 60,
      duration_ms: 800 + ((i * 37) % 2000),
      blob_key: null,
      content_type: null,
      created_at: createdAt,
      job_uuid: i % 5 === 0 ? timeOrderedId(createdAt) : null,
    };
  });
  await db.insertInto('screenshot_logs').values(rows).execute();
}

async function signedIn(
  browser: Browser,
  base: string,
  viewport: { width: number; height: number },
  picture: string | undefined,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  await page.goto(`${base}/dashboard/login`);
  if (picture) await save(page, picture, false);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/dashboard\/?$/);
  await page.close();
  return context;
}

async function shoot(
  page: Page,
  url: string | undefined,
  name: string,
  options: { fullPage?: boolean; image?: string; wait?: string } = {},
): Promise<void> {
  if (url) await page.goto(url);
  await page.waitForLoadState('load');
  if (options.wait) await page.waitForSelector(options.wait, { timeout: 20_000 });
  if (options.image) {
    await page.waitForFunction(
      (selector) => {
        const img = document.querySelector(selector) as HTMLImageElement | null;
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      options.image,
      { timeout: 20_000 },
    );
  }
  await save(page, name, options.fullPage ?? false);
}

async function save(page: Page, name: string, fullPage: boolean): Promise<void> {
  const file = path.join(OUT, `dashboard-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  const size = fs.statSync(file).size;
  assert.ok(size < MAX_BYTES, `${file} is ${size} bytes, over ${MAX_BYTES}`);
  console.log(`  ${path.relative(process.cwd(), file)} (${Math.round(size / 1024)} KB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
