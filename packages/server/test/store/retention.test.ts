import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ProjectService } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { DashboardAuth, LOGIN_WINDOW_MS, sweepExpiredSignIns } from '../../src/dashboard/auth.js';
import { RetentionSweeper } from '../../src/retention/retention-sweeper.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { LocalBlobStore } from '../../src/results/blob-store.js';
import { ResultsJanitor } from '../../src/results/janitor.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';
import { insertWebhookRow } from '../helpers/webhook-rows.js';

const DAY_MS = 86_400_000;

for (const dialect of DIALECTS) {
  describe(`retention room on ${dialect.name}: every table bounded on the injected clock`, () => {
    const clock: Clock & { time: number } = { time: Date.now(), now: () => clock.time };
    let handle: TestStore;
    let blobDir: string;

    before(async () => {
      handle = await dialect.open();
      blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-retention-'));
    });
    after(async () => {
      await handle?.dispose();
      fs.rmSync(blobDir, { recursive: true, force: true });
    });

    it('sweeps logs, ended jobs, attempts, events, sessions, sign-in counts and images past the plan retention, and keeps pending jobs', async () => {
      const db = handle.store.db;
      const projects = new ProjectService(db, clock);
      // FREE keeps 7 days, PRO 14: one sweep eight days later empties the first project only.
      const { project: free } = await projects.create('short', 'FREE');
      const { project: pro } = await projects.create('long', 'PRO');
      const blobs = new LocalBlobStore(blobDir);
      const blob = await blobs.put(Buffer.from('an old image'));
      const queue = new JobQueue(db, handle.store.dialect, clock);
      const auth = new DashboardAuth(db, clock, 3_600_000);
      await auth.ensureAdmin('correct-horse-battery-staple');
      assert.ok(await auth.signIn('admin', 'correct-horse-battery-staple'));
      assert.equal(await auth.reserveAttempt('203.0.113.9'), undefined);

      const fill = async (projectId: string, name: string) => {
        const webhook = randomUUID();
        await insertWebhookRow(db, { uuid: webhook, projectId, name, createdAt: clock.now() });
        for (const state of ['done', 'failed', 'queued'] as const) {
          const id = randomUUID();
          const logUuid = randomUUID();
          await db
            .insertInto('screenshot_logs')
            .values({
              log_uuid: logUuid,
              project_id: projectId,
              env: 'LIVE',
              url: 'https://example.com/',
              params: '{}',
              http_status: state === 'queued' ? 201 : 200,
              error_code: null,
              error_reason: null,
              upstream_status: null,
              final_url: null,
              cost: 0,
              duration_ms: 0,
              blob_key: blob,
              content_type: 'image/jpeg',
              created_at: clock.now(),
              job_uuid: id,
            })
            .execute();
          await queue.enqueue(db, {
            id,
            project_id: projectId,
            env: 'LIVE',
            webhook_uuid: webhook,
            resource_type: 'screenshot',
            log_uuid: logUuid,
            request: '{}',
            state,
          });
          await db
            .insertInto('webhook_attempts')
            .values({
              id: randomUUID(),
              job_id: id,
              webhook_uuid: webhook,
              attempt: 1,
              started_at: clock.now(),
              duration_ms: 1,
              status_code: 500,
              success: 0,
              error: 'http: HTTP 500',
              response_excerpt: null,
            })
            .execute();
        }
        await db
          .insertInto('project_events')
          .values({
            id: randomUUID(),
            project_id: projectId,
            kind: 'webhook.failing',
            message: 'm',
            created_at: clock.now(),
          })
          .execute();
      };
      await fill(free.id, 'short-hook');
      await fill(pro.id, 'long-hook');

      const count = async (
        table: 'jobs' | 'webhook_attempts' | 'project_events' | 'screenshot_logs',
        projectId?: string,
      ) => {
        let query = db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
        if (projectId && table !== 'webhook_attempts') query = query.where('project_id', '=', projectId);
        return Number((await query.executeTakeFirstOrThrow()).n);
      };
      const room = new RetentionSweeper({
        db,
        clock,
        sweepSignIns: (now) => sweepExpiredSignIns(db, now, LOGIN_WINDOW_MS),
        projects: () => projects.list(),
        sweepResults: () =>
          new ResultsJanitor(
            blobs,
            undefined,
            async () => 14,
            () => clock.now(),
            pino({ level: 'silent' }),
          ).sweep(),
        logger: pino({ level: 'silent' }),
      });

      // Nothing is old yet.
      const fresh = await room.sweep();
      assert.deepEqual(fresh, {
        logs: 0,
        jobs: 0,
        attempts: 0,
        events: 0,
        sessions: 0,
        loginAttempts: 0,
        crawls: 0,
        audit: 0,
      });

      clock.time += 8 * DAY_MS;
      const first = await room.sweep();
      assert.equal(first.jobs, 2, 'the short project’s done and failed jobs');
      assert.equal(first.events, 1);
      assert.equal(first.logs, 2, 'the log of its queued job stays until the job ends');
      assert.equal(first.sessions, 1, 'the admin session expired');
      assert.equal(first.loginAttempts, 1);
      assert.equal(await count('jobs', free.id), 1, 'the queued job is never swept');
      assert.equal(await count('jobs', pro.id), 3);
      assert.equal(await count('project_events', pro.id), 1);
      assert.equal(await count('screenshot_logs', free.id), 1);
      assert.ok(await blobs.get(blob), 'the image is kept while the longest retention (14 days) runs');

      clock.time += 7 * DAY_MS;
      const second = await room.sweep();
      assert.equal(second.jobs, 2);
      assert.equal(await count('jobs'), 2, 'only the two queued jobs are left');
      assert.equal(await count('project_events'), 0);
      assert.equal(await count('screenshot_logs'), 2, 'only the logs of the queued jobs');
      assert.equal(await count('webhook_attempts'), 0, 'every attempt older than its project retention');
      assert.equal(
        Number(
          (
            await db
              .selectFrom('dashboard_sessions')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        ),
        0,
      );
      assert.equal(await new LocalBlobStore(blobDir).get(blob), undefined, 'the image is gone after 14 days');
    });
  });
}
