/**
 * The dashboard's monitoring log at volume, on the embedded SQLite store, side by side in one run:
 *
 *   cursor   logs/log-queries.ts `page`: newest first by (created_at, log_uuid) after a cursor;
 *   offset   the same query with LIMIT/OFFSET (the usual alternative, the baseline) at the same depth.
 *
 * Also: the total count behind "rows X-Y of N" (unfiltered and with a domain filter), and the export's
 * rows per second (`all`, read in pages of 1,000).
 *
 *   node --import tsx bench/dashboard-logs.ts                 # 200,000 logs
 *   node --import tsx bench/dashboard-logs.ts --logs 500000
 *
 * Nothing is contacted; the store lives in a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogQueries, type LogCursor } from '../packages/server/src/logs/log-queries.js';
import { migrateToLatest, openStore } from '../packages/server/src/store/database.js';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const LOGS = argument('logs', 200_000);
const PAGE = 50;
const REPEAT = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < REPEAT; i += 1) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-bench-logs-'));
const store = await openStore({ dataDir: dir });
try {
  await migrateToLatest(store);
  const now = Date.now();
  await store.db
    .insertInto('projects')
    .values(
      ['main', 'other'].map((id) => ({ id, name: id, plan: 'PRO', limit_overrides: '{}', created_at: now })),
    )
    .execute();
  for (let start = 0; start < LOGS; start += 1_000) {
    const rows = Array.from({ length: Math.min(1_000, LOGS - start) }, (_, k) => {
      const i = start + k;
      return {
        log_uuid: `log-${String(i).padStart(9, '0')}`,
        project_id: i % 10 === 0 ? 'other' : 'main',
        env: 'LIVE' as const,
        url: `https://site${i % 50}.example/page/${i}`,
        params: '{"format":"jpg"}',
        http_status: i % 13 === 0 ? 422 : 200,
        error_code: i % 13 === 0 ? 'ERR::SCRAPE::OPERATION_TIMEOUT' : null,
        error_reason: null,
        upstream_status: 200,
        final_url: null,
        cost: 60,
        duration_ms: 900 + (i % 700),
        blob_key: null,
        content_type: null,
        created_at: now - i * 1_000,
      };
    });
    await store.db.insertInto('screenshot_logs').values(rows).execute();
  }
  const logs = new LogQueries(store.db);
  const depth = LOGS - PAGE; // the last page
  // The cursor of the last page, found once (a person gets it by following "Older" links).
  const boundary = await store.db
    .selectFrom('screenshot_logs')
    .select(['created_at', 'log_uuid'])
    .orderBy('created_at', 'desc')
    .orderBy('log_uuid', 'desc')
    .offset(depth - 1)
    .limit(1)
    .executeTakeFirstOrThrow();
  const cursor: LogCursor = { createdAt: boundary.created_at, logUuid: boundary.log_uuid };

  const firstCursor = await timed(() => logs.page({}, PAGE));
  const lastCursor = await timed(() => logs.page({}, PAGE, cursor));
  const lastOffset = await timed(() =>
    store.db
      .selectFrom('screenshot_logs')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('log_uuid', 'desc')
      .limit(PAGE)
      .offset(depth)
      .execute(),
  );
  const countAll = await timed(() => logs.count({}));
  const countDomain = await timed(() => logs.count({ domain: 'site7.example', projectId: 'main' }));
  const started = process.hrtime.bigint();
  let exported = 0;
  for await (const _row of logs.all({})) exported += 1;
  const exportSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  const lines = [
    `logs: ${LOGS.toLocaleString('en-US')} rows (SQLite), page ${PAGE}, median of ${REPEAT}`,
    `first page (cursor):           ${firstCursor.toFixed(2)} ms`,
    `last page, cursor:             ${lastCursor.toFixed(2)} ms`,
    `last page, OFFSET (baseline):  ${lastOffset.toFixed(2)} ms   -> cursor is ${(lastOffset / lastCursor).toFixed(1)}x faster`,
    `count, unfiltered:             ${countAll.toFixed(2)} ms`,
    `count, project + domain:       ${countDomain.toFixed(2)} ms`,
    `export (all rows, pages of 1000): ${exported.toLocaleString('en-US')} rows in ${exportSeconds.toFixed(2)} s = ${Math.round(exported / exportSeconds).toLocaleString('en-US')} rows/s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
