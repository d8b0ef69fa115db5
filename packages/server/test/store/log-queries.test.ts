import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.js';
import { ProjectService } from '../../src/accounts/projects.js';
import { decodeCursor, encodeCursor, LogQueries, type LogCursor } from '../../src/logs/log-queries.js';
import { overviewOf } from '../../src/logs/log-metrics.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const HOUR = 3_600_000;
const clock: Clock = { now: () => Date.UTC(2026, 10, 27, 12) };

for (const dialect of DIALECTS) {
  describe(`monitoring log queries on ${dialect.name}`, () => {
    let handle: TestStore;
    let logs: LogQueries;
    let projectId = '';
    const now = clock.now();

    before(async () => {
      handle = await dialect.open();
      logs = new LogQueries(handle.store.db);
      const { project } = await new ProjectService(handle.store.db, clock).create('paged', 'PRO');
      projectId = project.id;
      // 130 logs; every time is shared by two logs, so the cursor's tie-break on log_uuid matters.
      await handle.store.db
        .insertInto('screenshot_logs')
        .values(
          Array.from({ length: 130 }, (_, i) => ({
            log_uuid: `log-${String(i).padStart(3, '0')}`,
            project_id: projectId,
            env: i % 4 === 0 ? ('TEST' as const) : ('LIVE' as const),
            url: `https://${i % 2 ? 'a' : 'b'}.example/${i}`,
            params: '{}',
            http_status: i % 5 === 0 ? 422 : 200,
            error_code: i % 5 === 0 ? 'ERR::SCRAPE::OPERATION_TIMEOUT' : null,
            error_reason: null,
            upstream_status: 200,
            final_url: null,
            cost: 60,
            duration_ms: 1000 + i,
            blob_key: null,
            content_type: null,
            // Hours 0-2 and 6-8 before now have traffic; hours 3-5 have none.
            created_at: now - Math.floor(i / 2) * 60_000 - (i >= 70 ? 3 * HOUR : 0),
          })),
        )
        .execute();
    });
    after(async () => handle.dispose());

    it('pages newest first through every log exactly once, ties broken by log_uuid', async () => {
      const seen: string[] = [];
      let cursor: LogCursor | undefined;
      let pages = 0;
      do {
        const page = await logs.page({ projectId }, 50, cursor);
        seen.push(...page.rows.map((row) => row.log_uuid));
        cursor = page.next;
        pages += 1;
      } while (cursor && pages < 10);
      assert.equal(pages, 3, '50 + 50 + 30');
      assert.equal(new Set(seen).size, 130, 'no log twice, none missing');
      assert.deepEqual(seen.slice(0, 3), ['log-001', 'log-000', 'log-003'], 'newest first, then by log_uuid');
      assert.equal(seen.at(-1), 'log-128', 'the oldest last');
    });

    it('counts and exports exactly what the filters match', async () => {
      assert.equal(await logs.count({ projectId }), 130);
      assert.equal(await logs.count({ projectId, outcome: 'failure' }), 26);
      assert.equal(await logs.count({ projectId, env: 'TEST', domain: 'b.example' }), 33);
      // a.example has the odd numbers: 1, 11-19 (5), 101-129 (15)
      assert.equal(await logs.count({ projectId, urlPattern: 'a.example/1*' }), 21);
      const exported: string[] = [];
      for await (const row of logs.all({ projectId, outcome: 'failure' }, 7)) exported.push(row.log_uuid);
      assert.equal(exported.length, 26, 'every failure, read in pages of 7');
    });

    it('round-trips a cursor and ignores one it did not write', () => {
      const cursor = { createdAt: now, logUuid: 'log-042' };
      assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor);
      assert.equal(decodeCursor('bm90IGEgY3Vyc29y'), undefined);
      assert.equal(decodeCursor(undefined), undefined);
    });

    it('buckets the overview with gaps where nothing finished, and ranks errors and domains', async () => {
      const overview = await overviewOf(handle.store.db, projectId, now - 9 * HOUR, now + HOUR, HOUR);
      const empty = overview.buckets.filter((bucket) => bucket.requests === 0);
      assert.ok(empty.length >= 3, 'hours without traffic');
      assert.ok(
        empty.every((bucket) => bucket.p50 === null),
        'no latency where nothing finished (a gap, not 0)',
      );
      assert.deepEqual(overview.topErrors, [{ code: 'ERR::SCRAPE::OPERATION_TIMEOUT', count: 26 }]);
      assert.deepEqual(
        overview.topDomains.map((d) => [d.domain, d.requests]),
        [
          ['a.example', 65],
          ['b.example', 65],
        ],
      );
    });
  });
}
