import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProjectService, type Caller } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { isApiError } from '../../src/errors.js';
import { ScheduleStore, type CreateScheduleInput } from '../../src/schedules/store.js';
import { WebhookRegistry } from '../../src/webhooks/registry.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const LIVE_KEY = 'scp-live-limits-00000000000000000000';
const MINUTE = 60_000;

const shot = (recurrence: CreateScheduleInput['recurrence']): CreateScheduleInput => ({
  screenshot_config: { url: 'https://example.com/' },
  webhook_name: 'hook',
  recurrence,
});

/** The code and reason of what `promise` was refused with. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number; reason: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isApiError(error), `a catalogue error, not ${String(error)}`);
    return { code: error.code, status: error.definition.httpStatus, reason: error.reason };
  }
  assert.fail('should have been refused');
}

/** The limits of schedules (SNAPWIRE_MAX_SCHEDULES, SNAPWIRE_MIN_SCHEDULE_INTERVAL) on both stores. */
for (const dialect of DIALECTS) {
  describe(`schedule limits on ${dialect.name}`, () => {
    const clock: Clock = { now: () => Date.UTC(2026, 10, 27, 12, 0, 0) };
    let testStore: TestStore;
    let caller: Caller;
    let webhooks: WebhookRegistry;
    const storeWith = (limits: { maxSchedules?: number; minIntervalMs?: number }) =>
      new ScheduleStore(testStore.store.db, testStore.store.dialect, webhooks, clock, {
        maxTimeoutMs: 120_000,
        maxSchedules: 100,
        minIntervalMs: MINUTE,
        ...limits,
      });

    before(async () => {
      testStore = await dialect.open();
      const projects = new ProjectService(testStore.store.db, clock);
      await projects.ensureDefault('PRO', { LIVE: LIVE_KEY });
      caller = (await projects.authenticate(LIVE_KEY)) as Caller;
      webhooks = new WebhookRegistry(testStore.store.db, clock, async () => {});
      await webhooks.create(caller, { name: 'hook', url: 'http://127.0.0.1:9/hook' });
    });
    after(async () => {
      await testStore?.dispose();
    });

    it('20 creates at once under a limit of 2 make exactly 2; the others are LIMIT_REACHED naming the setting', async () => {
      const schedules = storeWith({ maxSchedules: 2 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => schedules.create(caller, shot({ interval: 1, unit: 'hour' }))),
      );
      const made = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      assert.equal(made.length, 2, 'exactly the limit was made');
      assert.equal(await schedules.countLive(caller), 2);
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') continue;
        const error: unknown = outcome.reason;
        assert.ok(isApiError(error), `a catalogue error, not ${String(error)}`);
        assert.equal(error.code, 'ERR::SCHEDULER::LIMIT_REACHED');
        assert.equal(error.definition.retryable, false);
        assert.match(error.reason, /already has 2 active or paused schedules.*SNAPWIRE_MAX_SCHEDULES/);
      }
      // Cancelling one frees its place.
      await schedules.cancel(caller, (made[0] as PromiseFulfilledResult<{ id: string }>).value.id);
      await schedules.create(caller, shot({ interval: 1, unit: 'hour' }));
      assert.equal(await schedules.countLive(caller), 2);
    });

    it('refuses a cron or an interval that runs more often than the minimum, saying the minimum and its setting', async () => {
      const schedules = storeWith({ minIntervalMs: 5 * MINUTE });
      for (const recurrence of [
        { cron: '* * * * * *' },
        { cron: '*/2 * * * *' },
        // Every hour, but twice at its turn: 10:59 and 11:00 are a minute apart.
        { cron: '0,59 * * * *' },
        { cron: 'CRON_TZ=Europe/Paris */30 * * * * *' },
        { interval: 1, unit: 'minute' as const },
        { interval: 4, unit: 'minute' as const, days: ['monday'] },
      ]) {
        const refused = await refusal(schedules.create(caller, shot(recurrence)));
        assert.equal(refused.code, 'ERR::SCHEDULER::INVALID_REQUEST', JSON.stringify(recurrence));
        assert.equal(refused.status, 400);
        assert.match(refused.reason, /at most once every 5m.*SNAPWIRE_MIN_SCHEDULE_INTERVAL/);
      }
      for (const recurrence of [
        { cron: '*/5 * * * *' },
        { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' },
        { interval: 5, unit: 'minute' as const },
        { interval: 1, unit: 'month' as const },
      ]) {
        const made = await schedules.create(caller, shot(recurrence));
        assert.equal(made.status, 'ACTIVE', JSON.stringify(recurrence));
      }
      // A change is held to the same minimum.
      const made = await schedules.create(caller, shot({ interval: 1, unit: 'hour' }));
      const refused = await refusal(schedules.update(caller, made.id, { recurrence: { cron: '* * * * *' } }));
      assert.equal(refused.code, 'ERR::SCHEDULER::INVALID_REQUEST');
      assert.match(refused.reason, /1m apart.*5m/);
    });
  });
}
