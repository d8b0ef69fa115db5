import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ProjectService } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { JobQueue, type NewJob } from '../../src/queue/job-queue.js';
import { timeOrderedId } from '../../src/store/time-ordered-id.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';
import { insertWebhookRow } from '../helpers/webhook-rows.js';

for (const dialect of DIALECTS) {
  describe(`job queue on ${dialect.name}`, () => {
    const clock: Clock & { time: number } = { time: 1_000_000, now: () => clock.time };
    let handle: TestStore;
    let queue: JobQueue;
    let projectId: string;
    let webhookUuid: string;

    before(async () => {
      handle = await dialect.open();
      queue = new JobQueue(handle.store.db, handle.store.dialect, clock);
      const { project } = await new ProjectService(handle.store.db, clock).create('q', 'PRO');
      projectId = project.id;
      webhookUuid = randomUUID();
      await insertWebhookRow(handle.store.db, { uuid: webhookUuid, projectId, secret: 's' });
    });
    after(async () => handle.dispose());
    beforeEach(async () => {
      await handle.store.db.deleteFrom('jobs').execute();
      clock.time = 1_000_000;
    });

    const job = (state: 'queued' | 'delivering' = 'queued', extra: Partial<NewJob> = {}): NewJob => ({
      id: randomUUID(),
      project_id: projectId,
      env: 'LIVE',
      webhook_uuid: webhookUuid,
      resource_type: 'screenshot',
      log_uuid: null,
      request: '{}',
      state,
      ...extra,
    });

    it("delivers a webhook's crawl events one after another, in order, retries included; other kinds are not held", async () => {
      const ids = [1, 2, 3].map((n) => timeOrderedId(clock.time + n));
      for (const id of ids) {
        await queue.enqueue(
          handle.store.db,
          job('delivering', { id, resource_type: 'crawler', payload_blob: 'b' }),
        );
      }
      const scrape = job('delivering', { resource_type: 'scrape', payload_blob: 'b' });
      await queue.enqueue(handle.store.db, scrape);
      const first = await queue.claim('delivering', 'w', 60_000, 10);
      assert.deepEqual(first.map((c) => c.job.id).sort(), [ids[0], scrape.id].sort(), 'the first event only');
      const event = first.find((c) => c.job.id === ids[0])!;
      // A failed attempt keeps it first: the next event waits for its retry.
      await queue.afterAttempt(handle.store.db, event, {
        state: 'delivering',
        runAt: clock.time + 1_000,
        error: 'x',
      });
      assert.equal((await queue.claim('delivering', 'w', 60_000, 10)).length, 0);
      assert.equal(await queue.nextDueAt(['delivering']), clock.time + 1_000, 'no wake-up for a held event');
      clock.time += 1_000;
      const retried = await queue.claim('delivering', 'w', 60_000, 10);
      assert.deepEqual(
        retried.map((c) => c.job.id),
        [ids[0]],
      );
      await queue.afterAttempt(handle.store.db, retried[0]!, { state: 'done' });
      assert.deepEqual(
        (await queue.claim('delivering', 'w', 60_000, 10)).map((c) => c.job.id),
        [ids[1]],
      );
    });

    it('never hands the same job to two workers claiming at once', async () => {
      for (let i = 0; i < 40; i += 1) await queue.enqueue(handle.store.db, job());
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, w) => queue.claim('queued', `w${w}`, 60_000, 10)),
      );
      const ids = claims.flat().map((c) => c.job.id);
      assert.equal(ids.length, 40, 'every job claimed');
      assert.equal(new Set(ids).size, 40, 'no job claimed twice');
      assert.ok(
        claims.flat().every((c) => c.job.capture_attempts === 1),
        'the claim counts the capture attempt',
      );
    });

    it('does not claim jobs that are not due yet, and claims them once due', async () => {
      await queue.enqueue(handle.store.db, job('queued', { run_at: clock.time + 5_000 }));
      assert.equal((await queue.claim('queued', 'w', 60_000, 10)).length, 0);
      assert.equal(await queue.nextDueAt(), clock.time + 5_000);
      clock.time += 5_000;
      assert.equal((await queue.claim('queued', 'w', 60_000, 10)).length, 1);
    });

    it('gives a job whose lease ran out to another worker, and fences the old owner out', async () => {
      await queue.enqueue(handle.store.db, job());
      const [first] = await queue.claim('queued', 'dead-worker', 10_000, 1);
      assert.ok(first);
      assert.equal(
        (await queue.claim('queued', 'other', 10_000, 1)).length,
        0,
        'leased jobs are not claimable',
      );
      clock.time += 10_001;
      const [second] = await queue.claim('queued', 'other', 10_000, 1);
      assert.equal(second?.job.id, first.job.id);
      assert.equal(second?.job.capture_attempts, 2);
      assert.equal(
        await queue.captured(first, { blob: 'x', contentType: 'image/png', headers: {} }),
        false,
        'stale token refused',
      );
      assert.equal(await queue.captured(second!, { blob: 'y', contentType: 'image/png', headers: {} }), true);
      const stored = await queue.get(first.job.id);
      assert.equal(stored?.state, 'delivering');
      assert.equal(stored?.payload_blob, 'y');
    });

    it('a heartbeat keeps the lease; a lease taken over cannot be renewed', async () => {
      await queue.enqueue(handle.store.db, job());
      const [claim] = await queue.claim('queued', 'slow-worker', 10_000, 1);
      assert.ok(claim);
      clock.time += 8_000;
      assert.equal(await queue.extend(claim, 10_000), true);
      clock.time += 8_000;
      assert.equal((await queue.claim('queued', 'other', 10_000, 1)).length, 0, 'renewed: still held');
      clock.time += 3_000;
      const [taken] = await queue.claim('queued', 'other', 10_000, 1);
      assert.equal(taken?.job.id, claim.job.id, 'after the renewed lease ran out it is taken over');
      assert.equal(await queue.extend(claim, 10_000), false);
    });

    it('records attempts, reschedules, ends, and replays', async () => {
      await queue.enqueue(
        handle.store.db,
        job('delivering', { payload_blob: 'b', payload_content_type: 'image/png' }),
      );
      const [claim] = await queue.claim('delivering', 'w', 60_000, 1);
      assert.ok(claim);
      assert.equal(
        await queue.afterAttempt(handle.store.db, claim, {
          state: 'delivering',
          runAt: clock.time + 30_000,
          error: '500',
        }),
        true,
      );
      let stored = await queue.get(claim.job.id);
      assert.equal(stored?.delivery_attempts, 1);
      assert.equal(stored?.run_at, clock.time + 30_000);
      assert.equal(await queue.pendingCount(webhookUuid), 1);
      clock.time += 30_000;
      const [again] = await queue.claim('delivering', 'w', 60_000, 1);
      assert.ok(again);
      await queue.afterAttempt(handle.store.db, again, { state: 'failed', error: 'ERR::WEBHOOK::MAX_RETRY' });
      stored = await queue.get(claim.job.id);
      assert.equal(stored?.state, 'failed');
      assert.equal(stored?.delivery_attempts, 2);
      assert.equal(await queue.pendingCount(webhookUuid), 0);
      const before = (await queue.get(claim.job.id))?.delivery_id;
      assert.equal(await queue.replay(claim.job.id, 'replayed-delivery'), true);
      const replayed = await queue.get(claim.job.id);
      assert.equal(replayed?.state, 'delivering');
      // A new delivery id: receivers dedup on it, so the replay is not taken for a duplicate.
      assert.equal(replayed?.delivery_id, 'replayed-delivery');
      assert.notEqual(before, 'replayed-delivery');
    });

    it('keeps jobs of a disabled webhook waiting until it is enabled again', async () => {
      await queue.enqueue(handle.store.db, job('delivering', { payload_blob: 'b' }));
      await handle.store.db
        .updateTable('webhooks')
        .set({ enabled: 0 })
        .where('uuid', '=', webhookUuid)
        .execute();
      assert.equal((await queue.claim('delivering', 'w', 60_000, 10)).length, 0);
      await handle.store.db
        .updateTable('webhooks')
        .set({ enabled: 1 })
        .where('uuid', '=', webhookUuid)
        .execute();
      assert.equal((await queue.claim('delivering', 'w', 60_000, 10)).length, 1);
    });

    it('a released job costs no attempt and is due when asked', async () => {
      await queue.enqueue(handle.store.db, job());
      const [claim] = await queue.claim('queued', 'w', 60_000, 1);
      assert.ok(claim);
      await queue.release(claim, clock.time + 500);
      const stored = await queue.get(claim.job.id);
      assert.equal(stored?.capture_attempts, 0);
      assert.equal(stored?.locked_by, null);
      assert.equal(stored?.run_at, clock.time + 500);
    });
  });
}
