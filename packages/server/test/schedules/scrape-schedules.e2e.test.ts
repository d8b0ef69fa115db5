// Scrape schedules through Scrapfly's official TypeScript SDK (createScrapeSchedule and the cross-kind
// calls, docs/compat.md §6): each run is an asynchronous scrape delivered to the webhook. No browser.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleAPIError, ScrapflyClient, verifySignature } from 'scrapfly-sdk';
import { createWebhook, deliveryOf } from '../helpers/async-jobs.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

describe("scrape schedules through Scrapfly's official TypeScript SDK", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let client: ScrapflyClient;
  let secret: string;

  before(async () => {
    fixtures = await startFixtureServer();
    receiver = await startReceiver();
    service = await startService(
      { SNAPWIRE_QUEUE_POLL: '50ms', SNAPWIRE_SCHEDULER_POLL: '50ms' },
      {},
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    secret = await createWebhook(service.baseUrl, 'pages', receiver.url);
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  const runsOf = async (id: string) => {
    const response = await fetch(`${service.baseUrl}/schedules/${id}/runs?key=${LIVE_KEY}`);
    assert.equal(response.status, 200);
    return (await response.json()).runs as Array<{ status: string; job_uuid: string | null }>;
  };

  it('createScrapeSchedule: a run scrapes the page and delivers its envelope, signed', async () => {
    const schedule = await client.createScrapeSchedule(
      {
        url: `${fixtures.origin}/scrape-article`,
        format: 'markdown',
        format_options: ['no_links'],
        headers: { 'X-Team': 'lamps' },
      },
      { webhook_name: 'pages', recurrence: { interval: 1, unit: 'day' }, notes: 'daily article' },
    );
    assert.equal(schedule.kind, 'scrape');
    assert.equal(schedule.status, 'ACTIVE');
    const config = (schedule as unknown as { scrape_config: Record<string, string> }).scrape_config;
    assert.deepEqual(config, {
      url: `${fixtures.origin}/scrape-article`,
      format: 'markdown:no_links',
      'headers[x-team]': 'lamps',
    });
    assert.equal((schedule.metadata as { webhook_name: string }).webhook_name, 'pages');

    // The cross-kind calls see it; the screenshot list does not.
    assert.deepEqual(
      (await client.listScrapeSchedules()).map((s) => s.id),
      [schedule.id],
    );
    assert.deepEqual(await client.listScreenshotSchedules(), []);
    assert.equal((await client.getSchedule(schedule.id)).kind, 'scrape');

    await client.executeSchedule(schedule.id);
    const run = await waitUntil(
      async () => (await runsOf(schedule.id)).find((r) => r.status === 'succeeded'),
      { timeoutMs: 20_000, intervalMs: 50, what: 'the manual run succeeded' },
    );
    assert.ok(run.job_uuid);
    const delivery = await deliveryOf(receiver, run.job_uuid);
    assert.equal(delivery.headers['x-scrapfly-webhook-resource-type'], 'scrape');
    assert.ok(
      verifySignature(delivery.body, String(delivery.headers['x-scrapfly-webhook-signature']), secret),
    );
    const envelope = JSON.parse(delivery.body.toString('utf8'));
    assert.equal(envelope.result.success, true);
    assert.match(envelope.result.content, /# Lighthouse keepers/);
    assert.match(envelope.result.content, /oil lamps/);
    assert.doesNotMatch(envelope.result.content, /\[oil lamps\]\(/, 'format options kept: no links');
    assert.deepEqual(envelope.config.format_options, ['no_links']);
    assert.equal(envelope.context.webhook.name, 'pages');

    await client.cancelSchedule(schedule.id);
  });

  it('a scrape_config /scrape would refuse is refused with the SDK error naming the parameter', async () => {
    await assert.rejects(
      client.createScrapeSchedule(
        { url: `${fixtures.origin}/solid`, render_jss: true },
        { webhook_name: 'pages', recurrence: { interval: 1, unit: 'day' } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof ScheduleAPIError, `got ${(error as Error).constructor.name}`);
        assert.equal(error.code, 'ERR::SCHEDULER::INVALID_REQUEST');
        assert.match(error.message, /render_jss/);
        return true;
      },
    );
    const schedule = await client.createScrapeSchedule(
      { url: `${fixtures.origin}/solid` },
      { webhook_name: 'pages', recurrence: { interval: 1, unit: 'day' } },
    );
    await assert.rejects(
      client.updateSchedule(schedule.id, { screenshot_config: { url: `${fixtures.origin}/solid` } }),
      (error: unknown) =>
        error instanceof ScheduleAPIError &&
        error.code === 'ERR::SCHEDULER::INVALID_REQUEST' &&
        /scrape schedule takes scrape_config/.test(error.message),
    );
    const updated = await client.updateSchedule(schedule.id, {
      scrape_config: { url: `${fixtures.origin}/scrape-article`, format: 'text' },
    });
    assert.equal(
      (updated as unknown as { scrape_config: Record<string, string> }).scrape_config.format,
      'text',
    );
    await client.cancelSchedule(schedule.id);
  });
});
