import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ProjectService } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';
import { insertWebhookRow } from '../helpers/webhook-rows.js';

for (const dialect of DIALECTS) {
  describe(`fair delivery claims on ${dialect.name}`, () => {
    const clock: Clock & { time: number } = { time: 1_000_000, now: () => clock.time };
    let handle: TestStore;

    before(async () => {
      handle = await dialect.open();
    });
    after(async () => handle?.dispose());

    it('lists the projects with deliveries waiting and claims per project', async () => {
      const db = handle.store.db;
      const queue = new JobQueue(db, handle.store.dialect, clock);
      const projects = new ProjectService(db, clock);
      const ids: string[] = [];
      for (const name of ['alpha', 'beta', 'gamma']) {
        const { project } = await projects.create(name, 'PRO');
        ids.push(project.id);
        const webhook = randomUUID();
        await insertWebhookRow(db, { uuid: webhook, projectId: project.id, name });
        // alpha has a backlog, beta one delivery, gamma only a finished job.
        const count = name === 'alpha' ? 50 : 1;
        for (let i = 0; i < count; i += 1) {
          await queue.enqueue(db, {
            id: randomUUID(),
            project_id: project.id,
            env: 'LIVE',
            webhook_uuid: webhook,
            resource_type: 'ping',
            log_uuid: null,
            request: '{}',
            state: name === 'gamma' ? 'queued' : 'delivering',
            payload_blob: 'x',
          });
        }
      }
      const waiting = await queue.projectsWithDeliveries();
      assert.deepEqual([...waiting].sort(), [ids[0], ids[1]].sort());
      const beta = await queue.claim('delivering', 'w', 20_000, 8, ids[1]);
      assert.equal(beta.length, 1);
      assert.equal(beta[0]?.job.project_id, ids[1]);
      const alpha = await queue.claim('delivering', 'w', 20_000, 8, ids[0]);
      assert.equal(alpha.length, 8);
      assert.ok(alpha.every((claim) => claim.job.project_id === ids[0]));
    });
  });
}
