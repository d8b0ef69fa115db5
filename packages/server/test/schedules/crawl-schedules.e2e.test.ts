// Crawler schedules through Scrapfly's official TypeScript SDK (createCrawlerSchedule and the cross-kind
// calls, docs/compat.md §6): each run starts a crawl, whose crawler_uuid is the run's job_uuid. The
// schedule fires when the service's injected clock is moved past its instant; the crawl's events go to the
// schedule's webhook. No browser.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCrawlerWebhook, ScheduleAPIError, ScrapflyClient } from 'scrapfly-sdk';
import type { Clock } from '../../src/clock.js';
import { startSite, type Site } from '../crawl/site.js';
import { createWebhook } from '../helpers/async-jobs.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

interface Run {
  status: string;
  trigger: string;
  job_uuid: string | null;
  error: { code: string; reason: string | null } | null;
}

describe("crawler schedules through Scrapfly's official TypeScript SDK", () => {
  const clock: Clock & { offset: number } = { offset: 0, now: () => Date.now() + clock.offset };
  let service: TestService;
  let site: Site;
  let receiver: Receiver;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSite('site.test');
    receiver = await startReceiver();
    service = await startService(
      { SNAPWIRE_QUEUE_POLL: '50ms', SNAPWIRE_SCHEDULER_POLL: '50ms' },
      { 'site.test': '127.0.0.1' },
      { browsers: false, clock },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    await createWebhook(service.baseUrl, 'crawls', receiver.url);
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await site?.close();
  });

  const runsOf = async (id: string) => {
    const response = await fetch(`${service.baseUrl}/schedules/${id}/runs?key=${LIVE_KEY}`);
    assert.equal(response.status, 200);
    return (await response.json()).runs as Run[];
  };

  it('createCrawlerSchedule: when the clock reaches its instant, a run crawls the site and succeeds', async () => {
    const config = {
      url: `${site.origin}/`,
      page_limit: 12,
      max_concurrency: 3,
      content_formats: ['markdown'],
    };
    const schedule = await client.createCrawlerSchedule(config, {
      webhook_name: 'crawls',
      recurrence: { interval: 1, unit: 'hour' },
      notes: 'hourly crawl',
    });
    assert.equal(schedule.kind, 'crawler');
    assert.equal(schedule.status, 'ACTIVE');
    assert.deepEqual((schedule as unknown as { crawler_config: unknown }).crawler_config, config);
    assert.deepEqual((schedule.metadata as { crawler_config: unknown }).crawler_config, config);

    // The crawler list and the cross-kind list see it; the scrape list does not.
    assert.deepEqual(
      (await client.listCrawlerSchedules()).map((s) => s.id),
      [schedule.id],
    );
    assert.deepEqual(
      (await client.listSchedules({ kind: 'api.crawler' })).map((s) => s.id),
      [schedule.id],
    );
    assert.deepEqual(await client.listScrapeSchedules(), []);

    // Nothing before its instant.
    assert.deepEqual(await runsOf(schedule.id), []);
    clock.offset += 3_600_000 + 1_000;
    const run = await waitUntil(
      async () => (await runsOf(schedule.id)).find((r) => r.status === 'succeeded'),
      { timeoutMs: 30_000, intervalMs: 50, what: 'the scheduled crawl run succeeded' },
    );
    assert.equal(run.trigger, 'schedule');
    assert.ok(run.job_uuid, 'the run names its crawl');
    const status = await client.crawlStatus(run.job_uuid);
    assert.equal(status.status, 'DONE');
    assert.equal(status.state.stop_reason, 'page_limit');
    assert.equal(status.state.urls_visited, 12);
    const home = await client.crawlContents(run.job_uuid, {
      format: 'markdown',
      url: `${site.origin}/`,
      plain: true,
    });
    assert.match(String(home), /# Home/);
    assert.equal((await client.getSchedule(schedule.id)).metadata?.fired_count, 1);
    // The crawl's events went to the schedule's webhook, read as the SDK reads them.
    const events = await waitUntil(
      () => {
        const names = receiver.received
          .filter((delivery) => delivery.headers['x-scrapfly-crawler-uuid'] === run.job_uuid)
          .map((delivery) => parseCrawlerWebhook(JSON.parse(delivery.body.toString('utf8'))).event);
        return names.includes('crawler_finished') ? names : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: "the scheduled crawl's crawler_finished event" },
    );
    assert.equal(events[0], 'crawler_started');
    assert.equal(events.filter((name) => name === 'crawler_url_visited').length, 12);

    // executeSchedule starts another crawl at once.
    await client.executeSchedule(schedule.id);
    const manual = await waitUntil(
      async () => (await runsOf(schedule.id)).find((r) => r.trigger === 'manual' && r.status === 'succeeded'),
      { timeoutMs: 30_000, intervalMs: 50, what: 'the manual crawl run succeeded' },
    );
    assert.notEqual(manual.job_uuid, run.job_uuid, 'a crawl of its own');
    await client.cancelSchedule(schedule.id);
  });

  it('a run whose crawl does not succeed fails, naming the stop reason', async () => {
    const schedule = await client.createCrawlerSchedule(
      { url: `${site.origin}/missing-page` },
      { webhook_name: 'crawls', scheduled_date: new Date(clock.now() + 60_000).toISOString() },
    );
    clock.offset += 61_000;
    const run = await waitUntil(async () => (await runsOf(schedule.id)).find((r) => r.status === 'failed'), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the failed crawl run',
    });
    assert.equal(run.error?.code, 'ERR::SCHEDULER::CRAWL_FAILED');
    assert.match(run.error?.reason ?? '', /seed_url_failed/);
    assert.equal((await client.crawlStatus(run.job_uuid!)).state.stop_reason, 'seed_url_failed');
    assert.equal((await client.getSchedule(schedule.id)).status, 'COMPLETED');
  });

  it('a crawler_config POST /crawl would refuse is refused with the SDK error naming the parameter', async () => {
    for (const [config, reason] of [
      [{ url: `${site.origin}/`, page_limt: 10 }, /page_limt/],
      [{ url: `${site.origin}/`, webhook_name: 'crawls' }, /crawler_config\.webhook_name is not allowed/],
      [{ page_limit: 10 }, /url/],
    ] as const) {
      await assert.rejects(
        client.createCrawlerSchedule(config, {
          webhook_name: 'crawls',
          recurrence: { interval: 1, unit: 'day' },
        }),
        (error: unknown) => {
          assert.ok(error instanceof ScheduleAPIError, `got ${(error as Error).constructor.name}`);
          assert.equal(error.code, 'ERR::SCHEDULER::INVALID_REQUEST');
          assert.match(error.message, reason);
          return true;
        },
      );
    }
    const schedule = await client.createCrawlerSchedule(
      { url: `${site.origin}/` },
      { webhook_name: 'crawls', recurrence: { interval: 1, unit: 'day' } },
    );
    await assert.rejects(
      client.updateSchedule(schedule.id, { scrape_config: { url: `${site.origin}/` } }),
      (error: unknown) =>
        error instanceof ScheduleAPIError &&
        error.code === 'ERR::SCHEDULER::INVALID_REQUEST' &&
        /crawler schedule takes crawler_config/.test(error.message),
    );
    const updated = await client.updateSchedule(schedule.id, {
      crawler_config: { url: `${site.origin}/`, page_limit: 5 },
    });
    assert.equal(
      (updated as unknown as { crawler_config: { page_limit: number } }).crawler_config.page_limit,
      5,
    );
    await client.cancelSchedule(schedule.id);
  });
});
