/**
 * A fleet on one PostgreSQL, measured two ways in one run:
 *
 *   queue    the job queue's own ceiling, no browser: N screenshot jobs go through both claims (capture lane,
 *            delivery lane) and both completions (captured; the attempt row + the job's end + the webhook's
 *            count in one transaction, as DeliveryService writes them) with L loops per lane in this
 *            process. Jobs/s, and claims + completions per second.
 *   nodes    asynchronous throughput of real Snapwire processes (dist/main.js) on one database and one
 *            S3-compatible bucket (s3rver on loopback): N jobs accepted, time until the receiver has all
 *            of them; one node, then two, in interleaved rounds, each on a fresh database. Also the CPU time the
 *            node(s) and their Chromium spent per capture (from /proc), which with the queue's ceiling
 *            gives the paper estimate of nodes per PostgreSQL.
 *
 *   npm run build && npm run bench:fleet                       # 4000 queue jobs, 120 capture jobs
 *   npm run bench:fleet -- --queue-jobs 8000 --jobs 200 --loops 8 --rounds 3
 *
 * Only loopback is contacted. Writes bench/results/fleet.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
// s3rver: an S3-compatible server in Node from the npm registry (see packages/server/test/helpers/s3-server.ts).
import S3rver from 's3rver';
import { ProjectService } from '../packages/server/src/accounts/projects.js';
import { systemClock } from '../packages/server/src/clock.js';
import { JobQueue, type Claim } from '../packages/server/src/queue/job-queue.js';
import { migrateToLatest, openStore } from '../packages/server/src/store/database.js';
import { insertWebhookRow } from '../packages/server/test/helpers/webhook-rows.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'packages', 'server', 'dist', 'main.js');
const DATABASE_URL = process.env.SNAPWIRE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const KEY = 'scp-live-bench-000000000000000000000';

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}
const QUEUE_JOBS = Number(arg('queue-jobs', '4000'));
const LOOPS = Number(arg('loops', '8'));
const BATCH = Number(arg('batch', '8'));
const JOBS = Number(arg('jobs', '120'));
const ROUNDS = Number(arg('rounds', '2'));

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- the queue's ceiling
async function queueCeiling() {
  const schema = `snapwire_bench_${process.pid}`;
  const store = await openStore({ databaseUrl: DATABASE_URL, dataDir: os.tmpdir(), postgresSchema: schema });
  try {
    await migrateToLatest(store);
    const { project } = await new ProjectService(store.db, systemClock).create('bench', 'ENTERPRISE');
    const webhookUuid = randomUUID();
    await insertWebhookRow(store.db, {
      uuid: webhookUuid,
      projectId: project.id,
      name: 'bench',
      secret: 's',
      createdAt: Date.now(),
    });
    const queue = new JobQueue(store.db, store.dialect, systemClock);
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < QUEUE_JOBS; i += 1) {
        await queue.enqueue(trx, {
          id: randomUUID(),
          project_id: project.id,
          env: 'LIVE',
          webhook_uuid: webhookUuid,
          resource_type: 'screenshot',
          log_uuid: null,
          request: '{"url":"http://127.0.0.1/"}',
          state: 'queued',
        });
      }
    });
    let claims = 0;
    let completions = 0;
    let done = 0;
    const blob = 'a'.repeat(64);
    const complete = async (claim: Claim) => {
      await store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('webhook_attempts')
          .values({
            id: randomUUID(),
            job_id: claim.job.id,
            webhook_uuid: webhookUuid,
            attempt: 1,
            started_at: Date.now(),
            duration_ms: 1,
            status_code: 200,
            success: 1,
            error: null,
            response_excerpt: null,
          })
          .execute();
        await queue.afterAttempt(trx, claim, { state: 'done' });
        await trx
          .updateTable('webhooks')
          .set({ consecutive_failed_count: 0 })
          .where('uuid', '=', webhookUuid)
          .execute();
      });
    };
    const lane = async (state: 'queued' | 'delivering', id: string) => {
      while (done < QUEUE_JOBS) {
        const claimed = await queue.claim(state, id, 20_000, BATCH);
        claims += claimed.length > 0 ? 1 : 0;
        if (claimed.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        for (const claim of claimed) {
          if (state === 'queued') {
            await queue.captured(claim, { blob, contentType: 'image/jpeg', headers: {} });
          } else {
            await complete(claim);
            done += 1;
          }
          completions += 1;
        }
      }
    };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: LOOPS }, (_, i) => [lane('queued', `c${i}`), lane('delivering', `d${i}`)]).flat(),
    );
    const seconds = (performance.now() - started) / 1000;
    return {
      jobs: QUEUE_JOBS,
      loopsPerLane: LOOPS,
      batch: BATCH,
      seconds: round(seconds),
      jobsPerSecond: round(QUEUE_JOBS / seconds),
      claimBatchesPerSecond: round(claims / seconds),
      completionsPerSecond: round(completions / seconds),
    };
  } finally {
    await store.close();
    await withAdmin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }
}

// ---------------------------------------------------------------- real nodes
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * CPU seconds (user + system) of a process and all its live descendants (Chromium starts its own session,
 * so a process group would miss it), plus what reaped children (finished renderers) left in cutime/cstime.
 */
function treeCpuSeconds(root: number): number {
  const ticks = 100; // USER_HZ on Linux
  const stats = new Map<number, { parent: number; cpu: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) / ticks;
      stats.set(Number(entry), { parent: Number(fields[1]), cpu });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const inTree = (pid: number): boolean => {
    for (let current = pid, hops = 0; current > 1 && hops < 64; hops += 1) {
      if (current === root) return true;
      current = stats.get(current)?.parent ?? 0;
    }
    return false;
  };
  for (const [pid, { cpu }] of stats) if (inTree(pid)) total += cpu;
  return total;
}

async function nodes(
  count: number,
  s3Endpoint: string,
  bucket: string,
  fixtureOrigin: string,
  roundIndex: number,
) {
  const name = `snapwire_benchfleet_${process.pid}_${count}_${roundIndex}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const received = new Set<string>();
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-scrapfly-webhook-resource-type'] === 'screenshot')
        received.add(String(req.headers['x-scrapfly-webhook-job-id']));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/hook`;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  try {
    const bases: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const port = await freePort();
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-benchfleet-'));
      dirs.push(dataDir);
      const base = `http://127.0.0.1:${port}`;
      bases.push(base);
      children.push(
        spawn(process.execPath, [MAIN], {
          env: {
            ...process.env,
            PORT: String(port),
            HOST: '127.0.0.1',
            SNAPWIRE_PUBLIC_URL: base,
            SNAPWIRE_NODE_ID: `bench-${i}`,
            SNAPWIRE_DATA_DIR: dataDir,
            DATABASE_URL: url.toString(),
            SNAPWIRE_BOOTSTRAP_LIVE_KEY: KEY,
            SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/8',
            SNAPWIRE_LOG_LEVEL: 'error',
            SNAPWIRE_BLOB_STORE: `s3://${bucket}/bench-${count}-${roundIndex}`,
            SNAPWIRE_S3_ENDPOINT: s3Endpoint,
            SNAPWIRE_S3_FORCE_PATH_STYLE: 'true',
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'S3RVER',
            AWS_SECRET_ACCESS_KEY: 'S3RVER',
            NODE_NO_WARNINGS: '1',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
          detached: true,
        }),
      );
    }
    for (const base of bases) {
      const deadline = Date.now() + 60_000;
      while (
        !(await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline) throw new Error(`${base} did not come up`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const created = await fetch(`${bases[0]}/webhooks?key=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', url: receiverUrl }),
    });
    if (created.status !== 201) throw new Error(`webhook: ${created.status} ${await created.text()}`);
    // A warm-up capture per node so that browser start-up is not measured.
    for (const base of bases) {
      await fetch(
        `${base}/screenshot?key=${KEY}&rendering_wait=0&resolution=320x240&url=${encodeURIComponent(`${fixtureOrigin}/warm`)}`,
      );
    }
    const cpuBefore = children.reduce((sum, child) => sum + treeCpuSeconds(child.pid as number), 0);
    const started = performance.now();
    for (let i = 0; i < JOBS; i += 1) {
      const base = bases[i % bases.length] as string;
      const response = await fetch(
        `${base}/screenshot?key=${KEY}&webhook_name=bench&rendering_wait=0&resolution=320x240&url=${encodeURIComponent(`${fixtureOrigin}/page?n=${i}`)}`,
      );
      if (response.status !== 201) throw new Error(`accept: ${response.status}`);
      await response.arrayBuffer();
    }
    const deadline = Date.now() + 600_000;
    while (received.size < JOBS) {
      if (Date.now() > deadline) throw new Error(`only ${received.size} of ${JOBS} delivered`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = children.reduce((sum, child) => sum + treeCpuSeconds(child.pid as number), 0) - cpuBefore;
    // Where a job's time went, from the monitoring log (ms, averages over the measured jobs).
    const phases = await withAdmin(async (client) => {
      await client.query(`select 1`);
      const db = new pg.Client({ connectionString: url.toString() });
      await db.connect();
      const { rows } = await db.query(
        `select round(avg(queue_wait_ms)) as queue_wait, round(avg(duration_ms)) as duration,
                round(avg(navigation_ms)) as navigation, round(avg(capture_ms)) as capture,
                round(avg(encode_ms)) as encode
           from screenshot_logs where job_uuid is not null`,
      );
      await db.end();
      return rows[0] as Record<string, string>;
    });
    return {
      nodes: count,
      jobs: JOBS,
      seconds: round(seconds),
      jobsPerSecond: round(JOBS / seconds),
      cpuSecondsPerCapture: round(cpu / JOBS),
      averageMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Number(v)])),
    };
  } finally {
    for (const child of children) {
      if (child.pid && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(-child.pid, 'SIGKILL');
        await exited;
      }
    }
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

const round = (value: number) => Math.round(value * 100) / 100;

async function main() {
  const queue = await queueCeiling();
  console.log('queue ceiling', queue);

  const s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-bench-s3-'));
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: 'bench', configs: [] }],
  });
  const s3Address = await s3.run();
  const page = '<html><body style="margin:0;background:#2a6"><h1>bench</h1><p>a small page</p></body></html>';
  const fixtures = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end(page),
  );
  await new Promise<void>((resolve) => fixtures.listen(0, '127.0.0.1', resolve));
  const fixtureOrigin = `http://127.0.0.1:${(fixtures.address() as net.AddressInfo).port}`;
  try {
    // One node, then two, in interleaved rounds, so that a busy minute on a shared machine does not land
    // on one configuration only; throughput is total jobs over total time per configuration.
    const runs: { one: Awaited<ReturnType<typeof nodes>>[]; two: Awaited<ReturnType<typeof nodes>>[] } = {
      one: [],
      two: [],
    };
    const loadBefore = os.loadavg()[0] ?? 0;
    for (let r = 0; r < ROUNDS; r += 1) {
      const endpoint = `http://127.0.0.1:${s3Address.port}`;
      runs.one.push(await nodes(1, endpoint, 'bench', fixtureOrigin, r));
      console.log('one node', runs.one.at(-1));
      runs.two.push(await nodes(2, endpoint, 'bench', fixtureOrigin, r));
      console.log('two nodes', runs.two.at(-1));
    }
    const total = (list: Awaited<ReturnType<typeof nodes>>[]) => {
      const jobs = list.reduce((sum, run) => sum + run.jobs, 0);
      const seconds = list.reduce((sum, run) => sum + run.seconds, 0);
      const cpu = list.reduce((sum, run) => sum + run.cpuSecondsPerCapture * run.jobs, 0);
      return {
        nodes: list[0]?.nodes ?? 0,
        jobs,
        seconds: round(seconds),
        jobsPerSecond: round(jobs / seconds),
        cpuSecondsPerCapture: round(cpu / jobs),
        rounds: list,
      };
    };
    const one = total(runs.one);
    const two = total(runs.two);
    const ratio = round(two.jobsPerSecond / one.jobsPerSecond);
    // Paper estimate: a node captures (cores / CPU seconds per capture) jobs/s at most; one PostgreSQL
    // completes queue.jobsPerSecond full job cycles/s, so it serves that many such nodes.
    const capturesPerCorePerSecond = round(1 / one.cpuSecondsPerCapture);
    const result = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
      loadAverageBeforeAndAfter: [round(loadBefore), round(os.loadavg()[0] ?? 0)],
      queue,
      one,
      two,
      twoOverOne: ratio,
      capturesPerCorePerSecond,
      estimatedEightCoreNodesPerPostgres: Math.floor(queue.jobsPerSecond / (capturesPerCorePerSecond * 8)),
    };
    console.log(JSON.stringify(result, null, 2));
    fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(ROOT, 'bench', 'results', 'fleet.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
  } finally {
    await new Promise<void>((resolve) => fixtures.close(() => resolve()));
    await s3.close();
    fs.rmSync(s3Dir, { recursive: true, force: true });
  }
}

await main();
