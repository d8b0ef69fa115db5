import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleAPIError, ScrapflyClient, verifySignature } from 'scrapfly-sdk';
import type { Clock } from '../../src/clock.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { decode } from '../helpers/images.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, TEST_KEY, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const MINUTE = 60_000;

/**
 * Schedules end to end through Scrapfly's official TypeScript SDK (changing only the host): a running
 * service with real Chromium, a real receiver on loopback, and an injected clock that moves minutes.
 */
describe("schedules through Scrapfly's official TypeScript SDK", () => {
  const clock: Clock & { time: number } = { time: Date.now(), now: () => clock.time };
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let client: ScrapflyClient;
  let secret: string;

  before(async () => {
    fixtures = await startFixtureServer({ host: '127.0.0.2' });
    receiver = await startReceiver('127.0.0.2');
    service = await startService(
      {
        SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32',
        SNAPWIRE_QUEUE_POLL: '50ms',
        SNAPWIRE_SCHEDULER_POLL: '50ms',
      },
      {},
      { clock },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'shots', url: receiver.url }),
    });
    assert.equal(created.status, 201);
    secret = (await created.json()).secret;
    await receiver.waitFor(1); // the ping
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  const screenshotsOf = (scheduleJobs: Set<string>) =>
    receiver.received.filter(
      (r) =>
        r.headers['x-scrapfly-webhook-resource-type'] === 'screenshot' &&
        scheduleJobs.has(String(r.headers['x-scrapfly-webhook-job-id'])),
    );
  const runsOf = async (id: string) => {
    const response = await fetch(`${service.baseUrl}/schedules/${id}/runs?key=${LIVE_KEY}`);
    assert.equal(response.status, 200);
    return (await response.json()).runs as Array<{
      status: string;
      trigger: string;
      attempt: number;
      job_uuid: string | null;
      log_uuid: string | null;
      error: { code: string } | null;
    }>;
  };
  const jobsOf = async (id: string) =>
    new Set((await runsOf(id)).flatMap((run) => (run.job_uuid ? [run.job_uuid] : [])));
  const moveClock = (ms: number) => {
    clock.time += ms;
    service.snapwire.services.scheduler.wake();
  };

  it('creates an interval schedule; signed deliveries arrive; pause, resume, execute, update, cancel', async () => {
    const created = await client.createScreenshotSchedule(
      { url: `${fixtures.origin}/solid`, format: 'png', resolution: '320x240', rendering_wait: 0 },
      { webhook_name: 'shots', recurrence: { interval: 1, unit: 'minute' }, notes: 'every minute' },
    );
    assert.equal(created.kind, 'screenshot');
    assert.equal(created.status, 'ACTIVE');
    assert.equal(created.allow_concurrency, false);
    assert.equal(created.notes, 'every minute');
    assert.equal(Date.parse(created.next_scheduled_date!), clock.time + MINUTE);
    assert.deepEqual(
      (await client.listScreenshotSchedules()).map((s) => s.id),
      [created.id],
    );
    assert.equal((await client.listSchedules({ status: 'ACTIVE' })).length, 1);
    assert.equal((await client.getSchedule(created.id)).id, created.id);

    // Two instants: two screenshots, each signed with the webhook's secret, each with its own log.
    for (const expected of [1, 2]) {
      moveClock(MINUTE);
      await waitUntil(async () => screenshotsOf(await jobsOf(created.id)).length >= expected, {
        timeoutMs: 30_000,
        what: `delivery ${expected}`,
      });
    }
    const deliveries = screenshotsOf(await jobsOf(created.id));
    for (const delivery of deliveries) {
      assert.ok(
        verifySignature(delivery.body, String(delivery.headers['x-scrapfly-webhook-signature']), secret),
        'the official SDK verifies the signature',
      );
      const image = await decode(delivery.body);
      assert.deepEqual([image.width, image.height], [320, 240]);
    }
    await waitUntil(async () => (await runsOf(created.id)).every((run) => run.status === 'succeeded'), {
      what: 'both runs succeeded',
    });
    const runs = await runsOf(created.id);
    assert.equal(new Set(runs.map((run) => run.log_uuid)).size, 2, 'each run has its own log');

    // Paused: instants pass, nothing runs.
    const paused = await client.pauseSchedule(created.id);
    assert.equal(paused.status, 'PAUSED');
    moveClock(3 * MINUTE);
    await service.snapwire.services.scheduler.tick();
    assert.equal((await runsOf(created.id)).length, 2, 'no run while paused');

    // Resumed: the next instant fires; execute fires at once whatever the next instant.
    const resumed = await client.resumeSchedule(created.id);
    assert.equal(resumed.status, 'ACTIVE');
    assert.ok(Date.parse(resumed.next_scheduled_date!) > clock.time);
    await client.executeSchedule(created.id);
    await waitUntil(async () => screenshotsOf(await jobsOf(created.id)).length >= 3, {
      timeoutMs: 30_000,
      what: 'the executed run delivered',
    });
    assert.equal((await runsOf(created.id))[0]!.trigger, 'manual');

    const updated = await client.updateSchedule(created.id, { notes: 'changed', max_retries: 1 });
    assert.equal(updated.notes, 'changed');
    assert.equal(updated.max_retries, 1);

    assert.equal(await client.cancelSchedule(created.id), undefined);
    const cancelled = await client.getSchedule(created.id);
    assert.equal(cancelled.status, 'CANCELLED');
    assert.ok(cancelled.cancelled_at);
    moveClock(5 * MINUTE);
    await service.snapwire.services.scheduler.tick();
    assert.equal(screenshotsOf(await jobsOf(created.id)).length, 3, 'nothing after cancel');

    await assert.rejects(client.pauseSchedule(created.id), (error: unknown) => {
      assert.ok(error instanceof ScheduleAPIError);
      assert.equal(error.code, 'ERR::SCHEDULER::INVALID_STATE');
      assert.equal(error.httpStatusCode, 409);
      return true;
    });
  });

  it('a failing capture is retried max_retries times, each failure delivered', async () => {
    const created = await client.createScreenshotSchedule(
      { url: `${fixtures.origin}/solid`, capture: '#missing', rendering_wait: 0 },
      {
        webhook_name: 'shots',
        scheduled_date: new Date(clock.time).toISOString(),
        retry_on_failure: true,
        max_retries: 2,
      },
    );
    service.snapwire.services.scheduler.wake();
    await waitUntil(
      async () => {
        const runs = await runsOf(created.id);
        return runs.length === 3 && runs.every((run) => run.status === 'failed');
      },
      { timeoutMs: 60_000, what: 'three failed runs' },
    );
    const runs = (await runsOf(created.id)).reverse();
    assert.deepEqual(
      runs.map((run) => [run.trigger, run.attempt, run.error?.code]),
      [
        ['schedule', 1, 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND'],
        ['retry', 2, 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND'],
        ['retry', 3, 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND'],
      ],
    );
    const jobs = await jobsOf(created.id);
    await waitUntil(() => screenshotsOf(jobs).length === 3, { what: 'three error deliveries' });
    for (const delivery of screenshotsOf(jobs)) {
      assert.equal(JSON.parse(delivery.body.toString()).code, 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND');
    }
    // No fourth try once max_retries is spent.
    await service.snapwire.services.scheduler.tick();
    assert.equal((await runsOf(created.id)).length, 3);
    const schedule = await client.getSchedule(created.id);
    assert.equal(schedule.status, 'COMPLETED');
    assert.equal(schedule.consecutive_failures, 3);
  });

  it('raises ScheduleAPIError with the code for a missing schedule, a bad request and a bad key', async () => {
    await assert.rejects(client.getSchedule('no-such-id'), (error: unknown) => {
      assert.ok(error instanceof ScheduleAPIError);
      assert.equal(error.code, 'ERR::SCHEDULER::NOT_FOUND');
      assert.equal(error.httpStatusCode, 404);
      return true;
    });
    await assert.rejects(
      client.createScreenshotSchedule(
        { url: `${fixtures.origin}/solid` },
        { webhook_name: 'shots', recurrence: { cron: 'every tuesday' } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof ScheduleAPIError);
        assert.equal(error.code, 'ERR::SCHEDULER::INVALID_REQUEST');
        assert.equal(error.httpStatusCode, 400);
        assert.match(error.message, /cron/);
        return true;
      },
    );
    await assert.rejects(
      client.createScreenshotSchedule(
        { url: `${fixtures.origin}/solid` },
        { webhook_name: 'nope', recurrence: { interval: 1, unit: 'hour' } },
      ),
      (error: unknown) => error instanceof ScheduleAPIError && error.code === 'ERR::WEBHOOK::NOT_FOUND',
    );
    // Scoped like webhooks: the TEST environment of the same project sees none of the LIVE schedules.
    const live = await client.listSchedules();
    assert.ok(live.length > 0);
    const testEnv = new ScrapflyClient({ key: TEST_KEY, host: service.baseUrl });
    assert.deepEqual(await testEnv.listSchedules(), []);
    await assert.rejects(
      testEnv.getSchedule(live[0]!.id),
      (error: unknown) => error instanceof ScheduleAPIError && error.code === 'ERR::SCHEDULER::NOT_FOUND',
    );
    const stranger = new ScrapflyClient({ key: 'scp-live-wrong', host: service.baseUrl });
    await assert.rejects(stranger.listSchedules(), (error: unknown) => {
      assert.ok(error instanceof ScheduleAPIError);
      assert.equal(error.httpStatusCode, 401);
      assert.equal(error.code, 'ERR::API::UNAUTHORIZED');
      return true;
    });
  });
  it('refuses a cron that fires every second with a 400 saying the minimum (SNAPWIRE_MIN_SCHEDULE_INTERVAL, 1m by default)', async () => {
    const tooOften = (error: unknown) => {
      assert.ok(error instanceof ScheduleAPIError);
      assert.equal(error.code, 'ERR::SCHEDULER::INVALID_REQUEST');
      assert.equal(error.httpStatusCode, 400);
      assert.match(error.message, /at most once every 1m.*SNAPWIRE_MIN_SCHEDULE_INTERVAL/);
      return true;
    };
    for (const cron of ['* * * * * *', '*/30 * * * * *']) {
      await assert.rejects(
        client.createScreenshotSchedule(
          { url: `${fixtures.origin}/solid` },
          { webhook_name: 'shots', recurrence: { cron } },
        ),
        tooOften,
      );
    }
    // Once a minute is allowed, in 6 fields too; a change to every second is refused like a create.
    const everyMinute = await client.createScreenshotSchedule(
      { url: `${fixtures.origin}/solid` },
      { webhook_name: 'shots', recurrence: { cron: '0 * * * * *' } },
    );
    try {
      assert.equal(everyMinute.status, 'ACTIVE');
      await assert.rejects(
        client.updateSchedule(everyMinute.id, { recurrence: { cron: '* * * * * *' } }),
        tooOften,
      );
    } finally {
      await client.cancelSchedule(everyMinute.id);
    }
  });

  it("Python SDK: list_schedules(kind='api.screenshot') lists them; an unknown kind or status is a 400", async () => {
    // Exactly what the Python SDK's _schedule_request sends: the key, then the filters, as query parameters.
    const list = (filters: Record<string, string>) =>
      fetch(`${service.baseUrl}/schedules?${new URLSearchParams({ key: LIVE_KEY, ...filters })}`, {
        headers: { accept: 'application/json' },
      });
    const made = await client.createScreenshotSchedule(
      { url: `${fixtures.origin}/solid` },
      { webhook_name: 'shots', recurrence: { interval: 1, unit: 'hour' } },
    );
    try {
      const ids = async (filters: Record<string, string>) => {
        const response = await list(filters);
        assert.equal(response.status, 200, JSON.stringify(filters));
        return ((await response.json()) as Array<{ id: string }>).map((schedule) => schedule.id);
      };
      const filterSets: Record<string, string>[] = [
        { kind: 'api.screenshot' },
        { kind: 'screenshot' },
        { status: 'ACTIVE' },
        { status: 'active' },
        { kind: 'api.screenshot', status: 'ACTIVE' },
      ];
      for (const filters of filterSets) {
        assert.ok((await ids(filters)).includes(made.id), JSON.stringify(filters));
      }
      assert.ok(!(await ids({ kind: 'api.screenshot', status: 'PAUSED' })).includes(made.id));
      // Kinds Snapwire does not run have no schedules here.
      assert.deepEqual(await ids({ kind: 'api.scrape' }), []);
      assert.deepEqual(await ids({ kind: 'api.crawler' }), []);
      for (const [filters, reason] of [
        [{ kind: 'api.screenshots' }, /kind "api.screenshots".*api\.screenshot/],
        [{ status: 'RUNNING' }, /status "RUNNING".*ACTIVE, PAUSED, CANCELLED, COMPLETED/],
      ] as const) {
        const refused = await list(filters);
        assert.equal(refused.status, 400, JSON.stringify(filters));
        const body = await refused.json();
        assert.equal(body.error, 'ERR::SCHEDULER::INVALID_REQUEST');
        assert.match(body.reason, reason);
      }
    } finally {
      await client.cancelSchedule(made.id);
    }
  });

  it('a 404 on a schedule route carries error: the SDKs raise it with its code', async () => {
    // A method or path no schedule route has (what the Python SDK's get_schedule('') calls, too).
    for (const [method, path] of [
      ['PUT', '/crawl/schedules'],
      ['PUT', '/schedules/some-id'],
      ['POST', '/schedules/some-id/unknown'],
      ['GET', '/schedules/'],
    ] as const) {
      const response = await fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      const body = await response.json();
      assert.match(body.error, /^ERR::(API|SCHEDULER)::NOT_FOUND$/, `${method} ${path}`);
      assert.equal(body.error, body.code);
    }
  });
});
