import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProjectService, type Caller } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { EgressGuard } from '../../src/egress/guard.js';
import { checkWebhookUrl } from '../../src/egress/http-client.js';
import { parseNetworkList } from '../../src/egress/networks.js';
import { EgressPolicy } from '../../src/egress/policy.js';
import { StaticResolver } from '../../src/egress/resolver.js';
import { AsyncScreenshots } from '../../src/jobs/async-screenshots.js';
import { createLogger } from '../../src/logger.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { LocalBlobStore } from '../../src/results/blob-store.js';
import { RUN_RETENTION_MS, Scheduler } from '../../src/schedules/scheduler.js';
import { ScheduleStore, type CreateScheduleInput } from '../../src/schedules/store.js';
import { openStore, type Store } from '../../src/store/database.js';
import { WebhookRegistry } from '../../src/webhooks/registry.js';
import { DIALECTS, dropSchema, TEST_DATABASE_URL, type TestStore } from '../helpers/stores.js';

const LIVE_KEY = 'scp-live-sched-000000000000000000000';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type ManualClock = Clock & { time: number };

/** The schedule room over a real store, without a worker: runs become queued jobs that nobody captures. */
async function world(store: Store, clock: ManualClock) {
  const projects = new ProjectService(store.db, clock);
  await projects.ensureDefault('PRO', { LIVE: LIVE_KEY });
  const caller = (await projects.authenticate(LIVE_KEY)) as Caller;
  const guard = new EgressGuard(new EgressPolicy(parseNetworkList('127.0.0.0/8')), new StaticResolver({}));
  const webhooks = new WebhookRegistry(store.db, clock, async (url) => {
    await checkWebhookUrl(url, guard);
  });
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-sched-'));
  const queue = new JobQueue(store.db, store.dialect, clock);
  const asyncScreenshots = new AsyncScreenshots(
    store.db,
    queue,
    webhooks,
    new LocalBlobStore(blobDir),
    clock,
    'http://localhost:8080',
    () => {},
  );
  const scheduler = new Scheduler(
    store.db,
    store.dialect,
    asyncScreenshots,
    projects,
    clock,
    { pollMs: 1_000, maxTimeoutMs: 120_000 },
    createLogger('silent'),
  );
  const schedules = new ScheduleStore(store.db, store.dialect, webhooks, clock, {
    maxTimeoutMs: 120_000,
    maxSchedules: 100,
    minIntervalMs: MINUTE,
  });
  const db = store.db;
  return {
    caller,
    webhooks,
    scheduler,
    schedules,
    /** Runs of a schedule, oldest first. */
    runs: async (id: string) =>
      db
        .selectFrom('schedule_runs')
        .selectAll()
        .where('schedule_id', '=', id)
        .orderBy('due_at')
        .orderBy('created_at')
        // Retries made at one clock instant share due_at and created_at.
        .orderBy('attempt')
        .execute(),
    jobCount: async () =>
      Number(
        (
          await store.db
            .selectFrom('jobs')
            .select((eb) => eb.fn.countAll<string | number>().as('n'))
            .where('resource_type', '=', 'screenshot')
            .executeTakeFirstOrThrow()
        ).n,
      ),
    dispose: () => fs.rmSync(blobDir, { recursive: true, force: true }),
  };
}

const shot = (extra: Partial<CreateScheduleInput> = {}): CreateScheduleInput => ({
  screenshot_config: { url: 'https://example.com/', format: 'png' },
  webhook_name: 'hook',
  allow_concurrency: true,
  ...extra,
});

for (const dialect of DIALECTS) {
  describe(`scheduler on ${dialect.name}, injected clock`, () => {
    const clock: ManualClock = { time: Date.UTC(2026, 10, 27, 12, 0, 0), now: () => clock.time };
    let testStore: TestStore;
    let w: Awaited<ReturnType<typeof world>>;

    before(async () => {
      testStore = await dialect.open();
      w = await world(testStore.store, clock);
      await w.webhooks.create(w.caller, { name: 'hook', url: 'http://127.0.0.1:9/hook' });
    });
    after(async () => {
      w?.dispose();
      await testStore?.dispose();
    });

    /** Moves the clock in `step` increments up to `until`, ticking the scheduler at each. */
    const runClock = async (until: number, step: number) => {
      while (clock.time < until) {
        clock.time = Math.min(until, clock.time + step);
        await w.scheduler.tick();
      }
    };

    it('an every-minute schedule over a simulated hour fires 60 runs, each one job', async () => {
      const start = clock.time;
      const jobsBefore = await w.jobCount();
      const schedule = await w.schedules.create(
        w.caller,
        shot({ recurrence: { interval: 1, unit: 'minute' } }),
      );
      await runClock(start + HOUR, 15_000);
      await w.scheduler.tick(); // a second look at the same instant adds nothing
      const runs = await w.runs(schedule.id);
      assert.equal(runs.length, 60);
      assert.deepEqual(
        runs.map((run) => run.due_at - start),
        Array.from({ length: 60 }, (_, i) => (i + 1) * MINUTE),
      );
      assert.ok(runs.every((run) => run.status === 'running' && run.job_uuid && run.log_uuid));
      assert.equal((await w.jobCount()) - jobsBefore, 60);
      await w.schedules.cancel(w.caller, schedule.id);
    });

    it('a Europe/Paris cron fires at 09:00 local across the last-Sunday-of-October change', async () => {
      clock.time = Date.UTC(2026, 9, 22, 12);
      const daily = await w.schedules.create(
        w.caller,
        shot({ recurrence: { cron: '0 9 * * *', timezone: 'Europe/Paris' } }),
      );
      // The repeated hour (02:00-03:00 happens twice on 25 October 2026) fires once; CRON_TZ= prefix form.
      const repeated = await w.schedules.create(
        w.caller,
        shot({ recurrence: { cron: 'CRON_TZ=Europe/Paris 30 2 * * *' } }),
      );
      await runClock(Date.UTC(2026, 9, 27, 0), 10 * MINUTE);
      const instants = async (id: string) =>
        (await w.runs(id)).map((run) => new Date(run.due_at).toISOString());
      assert.deepEqual(await instants(daily.id), [
        '2026-10-23T07:00:00.000Z', // 09:00 CEST (UTC+2)
        '2026-10-24T07:00:00.000Z',
        '2026-10-25T08:00:00.000Z', // 09:00 CET (UTC+1), the day clocks went back
        '2026-10-26T08:00:00.000Z',
      ]);
      assert.deepEqual(await instants(repeated.id), [
        '2026-10-23T00:30:00.000Z',
        '2026-10-24T00:30:00.000Z',
        '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of the two 02:30s: fired once
        '2026-10-26T01:30:00.000Z',
      ]);
      await w.schedules.cancel(w.caller, daily.id);
      await w.schedules.cancel(w.caller, repeated.id);
    });

    it('a paused schedule skips its instants and resumes without a burst', async () => {
      const start = clock.time;
      const schedule = await w.schedules.create(
        w.caller,
        shot({ recurrence: { interval: 1, unit: 'minute' } }),
      );
      await runClock(start + 3 * MINUTE, 30_000);
      assert.equal((await w.runs(schedule.id)).length, 3);
      const paused = await w.schedules.pause(w.caller, schedule.id);
      assert.equal(paused.status, 'PAUSED');
      await runClock(start + 10 * MINUTE, 30_000);
      assert.equal((await w.runs(schedule.id)).length, 3, 'nothing fires while paused');
      const resumed = await w.schedules.resume(w.caller, schedule.id);
      assert.equal(resumed.next_run_at, start + 11 * MINUTE, 'resumes at the next instant after now');
      await runClock(start + 12 * MINUTE, 30_000);
      const runs = await w.runs(schedule.id);
      assert.deepEqual(
        runs.map((run) => (run.due_at - start) / MINUTE),
        [1, 2, 3, 11, 12],
      );
      await w.schedules.cancel(w.caller, schedule.id);
    });

    it('ends by count: stops after N runs and completes', async () => {
      const start = clock.time;
      const schedule = await w.schedules.create(
        w.caller,
        shot({ recurrence: { interval: 1, unit: 'minute', ends: { type: 'count', count: 3 } } }),
      );
      await runClock(start + 10 * MINUTE, 30_000);
      assert.equal((await w.runs(schedule.id)).length, 3);
      const done = await w.schedules.require(w.caller, schedule.id);
      assert.equal(done.status, 'COMPLETED');
      assert.equal(done.next_run_at, null);
    });

    it('ends by date: no run after it', async () => {
      const start = clock.time;
      const schedule = await w.schedules.create(
        w.caller,
        shot({
          recurrence: {
            interval: 1,
            unit: 'minute',
            ends: { type: 'date', date: new Date(start + 4.5 * MINUTE).toISOString() },
          },
        }),
      );
      await runClock(start + 10 * MINUTE, 30_000);
      assert.equal((await w.runs(schedule.id)).length, 4);
      assert.equal((await w.schedules.require(w.caller, schedule.id)).status, 'COMPLETED');
    });

    it('after downtime, missed instants fire once, not as a burst', async () => {
      const start = clock.time;
      const schedule = await w.schedules.create(
        w.caller,
        shot({ recurrence: { interval: 1, unit: 'minute' } }),
      );
      clock.time = start + 3 * HOUR + 30_000; // three hours without a tick
      await w.scheduler.tick();
      const runs = await w.runs(schedule.id);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.due_at, start + MINUTE, 'the run is for the first missed instant');
      const row = await w.schedules.require(w.caller, schedule.id);
      assert.equal(row.next_run_at, start + 3 * HOUR + MINUTE, 'next is the first instant after now');
      await w.schedules.cancel(w.caller, schedule.id);
    });

    it('allow_concurrency=false skips an instant while the previous run is still capturing', async () => {
      const start = clock.time;
      const schedule = await w.schedules.create(
        w.caller,
        shot({ allow_concurrency: false, recurrence: { interval: 1, unit: 'minute' } }),
      );
      await runClock(start + 3 * MINUTE, 30_000);
      // No worker runs here, so the first run's capture never ends.
      const runs = await w.runs(schedule.id);
      assert.deepEqual(
        runs.map((run) => run.status),
        ['running', 'skipped', 'skipped'],
      );
      assert.match(runs[1]!.error_reason ?? '', /allow_concurrency/);
      await w.schedules.cancel(w.caller, schedule.id);
      // Ended runs are swept after the retention; the unfinished one stays.
      clock.time += RUN_RETENTION_MS + HOUR;
      await w.scheduler.tick();
      assert.deepEqual(
        (await w.runs(schedule.id)).map((run) => run.status),
        ['running'],
      );
    });

    it('allow_concurrency=false fires the next instant once the previous capture ended, settled or not', async () => {
      const start = clock.time;
      const schedule = await w.schedules.create(
        w.caller,
        shot({ allow_concurrency: false, recurrence: { interval: 1, unit: 'minute' } }),
      );
      clock.time = start + MINUTE;
      await w.scheduler.tick();
      const [first] = await w.runs(schedule.id);
      assert.equal(first!.status, 'running');
      // The worker's part, done by hand (no worker runs here): the capture ended and its delivery is due.
      // No tick has settled the run yet when the next instant comes.
      await testStore.store.db
        .updateTable('jobs')
        .set({ state: 'delivering' })
        .where('id', '=', first!.job_uuid!)
        .execute();
      clock.time = start + 2 * MINUTE;
      await w.scheduler.tick();
      assert.deepEqual(
        (await w.runs(schedule.id)).map((run) => run.status),
        ['succeeded', 'running'],
      );
      await w.schedules.cancel(w.caller, schedule.id);
    });

    it('a run refused before capture (webhook disabled) fails and is retried max_retries times', async () => {
      await w.webhooks.create(w.caller, { name: 'off', url: 'http://127.0.0.1:9/off' });
      await w.webhooks.update(w.caller, 'off', { enabled: false });
      const schedule = await w.schedules.create(
        w.caller,
        shot({
          webhook_name: 'off',
          retry_on_failure: true,
          max_retries: 2,
          scheduled_date: new Date(clock.time).toISOString(),
        }),
      );
      for (let i = 0; i < 6; i++) await w.scheduler.tick();
      const runs = await w.runs(schedule.id);
      assert.deepEqual(
        runs.map((run) => [run.trigger, run.attempt, run.status, run.error_code]),
        [
          ['schedule', 1, 'failed', 'ERR::WEBHOOK::DISABLED'],
          ['retry', 2, 'failed', 'ERR::WEBHOOK::DISABLED'],
          ['retry', 3, 'failed', 'ERR::WEBHOOK::DISABLED'],
        ],
      );
      assert.equal((await w.schedules.require(w.caller, schedule.id)).consecutive_failures, 3);
    });
  });
}

describe('two scheduler processes on one PostgreSQL', () => {
  const clock: ManualClock = { time: Date.UTC(2026, 10, 27, 12, 0, 0), now: () => clock.time };
  const schema = `snapwire_sched_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let stores: Store[] = [];
  let worlds: Array<Awaited<ReturnType<typeof world>>> = [];

  before(async () => {
    // Two stores (two connection pools) on one schema: what two processes of a fleet share.
    for (let i = 0; i < 2; i++) {
      stores.push(
        await openStore({ databaseUrl: TEST_DATABASE_URL, dataDir: os.tmpdir(), postgresSchema: schema }),
      );
      if (i === 0) {
        const { migrateToLatest } = await import('../../src/store/database.js');
        await migrateToLatest(stores[0]!);
      }
      worlds.push(await world(stores[i]!, clock));
    }
    await worlds[0]!.webhooks.create(worlds[0]!.caller, { name: 'hook', url: 'http://127.0.0.1:9/hook' });
  });
  after(async () => {
    for (const w of worlds) w.dispose();
    for (const store of stores) await store.close();
    await dropSchema(schema);
    stores = [];
    worlds = [];
  });

  it('fires each due run exactly once', async () => {
    const [a, b] = worlds as [Awaited<ReturnType<typeof world>>, Awaited<ReturnType<typeof world>>];
    const start = clock.time;
    const ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        (await a.schedules.create(a.caller, shot({ recurrence: { interval: 1, unit: 'minute' } }))).id,
      );
    }
    for (let minute = 1; minute <= 20; minute++) {
      clock.time = start + minute * MINUTE;
      // Both processes look at the same moment, several times over.
      await Promise.all([a.scheduler.tick(), b.scheduler.tick(), a.scheduler.tick(), b.scheduler.tick()]);
    }
    for (const id of ids) {
      const runs = await a.runs(id);
      assert.deepEqual(
        runs.map((run) => (run.due_at - start) / MINUTE),
        Array.from({ length: 20 }, (_, i) => i + 1),
        'one run per instant',
      );
      assert.ok(runs.every((run) => run.status === 'running' && run.job_uuid));
      assert.equal(new Set(runs.map((run) => run.job_uuid)).size, 20, 'one job per run');
    }
    assert.equal(await a.jobCount(), 80, 'no job without its run');
  });
});
