import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProjectService, type Caller } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { isApiError } from '../../src/errors.js';
import { MonitorStore, newMonitorRun } from '../../src/monitors/store.js';
import { WebhookRegistry } from '../../src/webhooks/registry.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const LIVE_KEY = 'scp-live-monitors-00000000000000000000';
const TEST_KEY = 'scp-test-monitors-00000000000000000000';
const MINUTE = 60_000;
const URL_A = 'https://example.com/pricing';

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number; reason: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isApiError(error), `a catalogue error, not ${String(error)}`);
    return { code: error.code, status: error.definition.httpStatus, reason: error.reason };
  }
  assert.fail('should have been refused');
}

/** Monitors and their runs (migration 0022) on both stores: scoping, settings, recurrence, approvals. */
for (const dialect of DIALECTS) {
  describe(`monitors store on ${dialect.name}`, () => {
    let now = Date.UTC(2026, 11, 7, 4, 0, 30);
    const clock: Clock = { now: () => now };
    let testStore: TestStore;
    let live: Caller;
    let test: Caller;
    let other: Caller;
    let monitors: MonitorStore;

    before(async () => {
      testStore = await dialect.open();
      const projects = new ProjectService(testStore.store.db, clock);
      await projects.ensureDefault('PRO', { LIVE: LIVE_KEY, TEST: TEST_KEY });
      live = (await projects.authenticate(LIVE_KEY)) as Caller;
      test = (await projects.authenticate(TEST_KEY)) as Caller;
      other = (await projects.authenticate((await projects.create('other', 'PRO')).keys.LIVE)) as Caller;
      const webhooks = new WebhookRegistry(testStore.store.db, clock, async () => {});
      monitors = new MonitorStore(testStore.store.db, webhooks, clock, {
        maxTimeoutMs: 60_000,
        minIntervalMs: MINUTE,
        maxMonitors: 3,
      });
    });
    after(async () => {
      await testStore?.dispose();
    });

    it('keeps a monitor to its project and environment', async () => {
      const row = await monitors.create(live, {
        url: URL_A,
        screenshot_config: { resolution: '800x600' },
        hide_selectors: ['.clock', '#ads'],
        ignore: [{ x: 0, y: 0, width: 10, height: 10 }],
        confirm_runs: 2,
      });
      assert.equal(row.url, URL_A);
      assert.deepEqual(JSON.parse(row.config), {
        format: 'png',
        resolution: '800x600',
        url: URL_A,
        hide_selectors: '.clock,#ads',
      });
      assert.equal(row.change_threshold, 0.001);
      assert.equal(row.confirm_runs, 2);
      assert.equal(row.next_run_at, null, 'without a recurrence it runs only when asked');
      assert.deepEqual((await monitors.require(live, row.id)).ignore_regions, row.ignore_regions);
      assert.deepEqual(
        (await monitors.list(live)).map((m) => m.id),
        [row.id],
      );
      for (const stranger of [test, other]) {
        assert.deepEqual(await monitors.list(stranger), []);
        for (const call of [
          () => monitors.require(stranger, row.id),
          () => monitors.update(stranger, row.id, { change_threshold: 0.5 }),
          () => monitors.pause(stranger, row.id),
          () => monitors.delete(stranger, row.id),
          () => monitors.runs(stranger, row.id),
        ]) {
          const refused = await refusal(call());
          assert.equal(refused.code, 'ERR::MONITOR::NOT_FOUND');
          assert.equal(refused.status, 404);
        }
      }
      await monitors.delete(live, row.id);
      assert.equal((await refusal(monitors.require(live, row.id))).code, 'ERR::MONITOR::NOT_FOUND');
    });

    it('refuses bad settings with what to fix', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ url: '' }, /url is required/],
        [{ url: URL_A, change_threshold: -0.1 }, /change_threshold/],
        [{ url: URL_A, confirm_runs: 11 }, /confirm_runs/],
        [{ url: URL_A, ignore: 'top' }, /ignore is a list/],
        [{ url: URL_A, screenshot_config: { format: 'pdf' } }, /pdf/],
        [{ url: URL_A, screenshot_config: { cache: true } }, /cache/],
        [{ url: URL_A, screenshot_config: { url: URL_A } }, /as url/],
        [{ url: 'ftp://example.com/' }, /http/],
        [{ url: URL_A, recurrence: { interval: 1, unit: 'second' } }, /recurrence/],
      ];
      for (const [input, reason] of cases) {
        const refused = await refusal(monitors.create(live, input as never));
        assert.equal(refused.code, 'ERR::MONITOR::INVALID_REQUEST', refused.reason);
        assert.match(refused.reason, reason);
      }
      const unknown = await refusal(monitors.create(live, { url: URL_A, webhook_name: 'nope' }));
      assert.equal(unknown.code, 'ERR::WEBHOOK::NOT_FOUND');
    });

    it('runs on its recurrence: paused runs nothing, resumed runs from the next instant', async () => {
      const row = await monitors.create(live, { url: URL_A, recurrence: { interval: 5, unit: 'minute' } });
      assert.ok(row.next_run_at !== null && row.next_run_at > now && row.next_run_at <= now + 5 * MINUTE);
      const paused = await monitors.pause(live, row.id);
      assert.equal(paused.status, 'PAUSED');
      assert.equal((await monitors.require(live, row.id)).next_run_at, null);
      now += 60 * MINUTE;
      const resumed = await monitors.resume(live, row.id);
      assert.equal(resumed.status, 'ACTIVE');
      assert.ok(resumed.next_run_at !== null && resumed.next_run_at > now, 'missed instants are not owed');
      await monitors.delete(live, row.id);
    });

    it('holds a pending change until it is approved or rejected, and keeps what it needs', async () => {
      const { db } = testStore.store;
      const row = await monitors.create(live, { url: URL_A, require_approval: true });
      const baseline = {
        ...newMonitorRun(row, 'manual', now),
        status: 'baseline' as const,
        after_blob: 'a'.repeat(64),
      };
      const change = {
        ...newMonitorRun(row, 'manual', now + 1),
        status: 'compared' as const,
        changed: 1,
        approval: 'pending' as const,
        before_blob: 'a'.repeat(64),
        after_blob: 'b'.repeat(64),
        diff_blob: 'c'.repeat(64),
      };
      await db.insertInto('monitor_runs').values([baseline, change]).execute();
      await db
        .updateTable('monitors')
        .set({ baseline_run_id: baseline.id, baseline_blob: baseline.after_blob, pending_run_id: change.id })
        .where('id', '=', row.id)
        .execute();
      assert.deepEqual(
        (await monitors.keptBlobs()).sort(),
        ['a', 'b', 'c'].map((c) => c.repeat(64)),
      );

      const notPending = await refusal(monitors.approve(live, row.id, baseline.id));
      assert.equal(notPending.code, 'ERR::MONITOR::INVALID_STATE');
      assert.equal(notPending.status, 409);
      assert.equal(
        (await refusal(monitors.approve(test, row.id, change.id))).code,
        'ERR::MONITOR::NOT_FOUND',
      );

      const approved = await monitors.approve(live, row.id, change.id);
      assert.equal(approved.approval, 'approved');
      const after = await monitors.require(live, row.id);
      assert.equal(after.baseline_run_id, change.id);
      assert.equal(after.baseline_blob, 'b'.repeat(64));
      assert.equal(after.pending_run_id, null);
      assert.equal(
        (await refusal(monitors.reject(live, row.id, change.id))).code,
        'ERR::MONITOR::INVALID_STATE',
      );

      // Another url is another picture: the next run starts a new baseline.
      const moved = await monitors.update(live, row.id, { url: 'https://example.com/other' });
      assert.equal(moved.baseline_run_id, null);
      assert.equal(moved.url, 'https://example.com/other');
      assert.deepEqual(
        (await monitors.runs(live, row.id)).map((r) => r.id),
        [change.id, baseline.id],
      );
      await monitors.delete(live, row.id);
      const left = await db
        .selectFrom('monitor_runs')
        .select('id')
        .where('monitor_id', '=', row.id)
        .execute();
      assert.deepEqual(left, [], 'runs go with their monitor');
    });

    it('holds a project to its monitor limit', async () => {
      for (let i = 0; i < 3; i += 1) await monitors.create(live, { url: `${URL_A}?n=${i}` });
      const refused = await refusal(monitors.create(live, { url: URL_A }));
      assert.equal(refused.code, 'ERR::MONITOR::INVALID_STATE');
      assert.match(refused.reason, /SNAPWIRE_MAX_SCHEDULES/);
      assert.ok(await monitors.create(test, { url: URL_A }), 'the TEST environment counts its own');
    });
  });
}
