/**
 * The webhook delivery pipeline alone, side by side in one run with a bare client:
 *
 *   durable  stored results delivered by Snapwire's JobWorker + DeliveryService over the egress-guarded
 *            client (claim with lease, sign, POST, record the attempt and the job's end in one
 *            transaction), on the embedded SQLite store;
 *   bare     a fire-and-forget client (undici Pool, keep-alive) posting the same bodies to the same
 *            receiver at the same concurrency, recording nothing.
 *
 * Saturated: N jobs are enqueued at once and drained; deliveries/s = N / time to the last arrival.
 * Paced: jobs enqueued at a steady rate well below capacity; latency = arrival at the receiver minus
 * enqueue time, p50/p95.
 *
 *   npm run bench:delivery                                   # 4000 deliveries, concurrency 32, 3 rounds
 *   npm run bench:delivery -- --deliveries 8000 --concurrency 64 --rate 200
 *
 * Only loopback is contacted. Writes bench/results/delivery.json and the block in docs/benchmarks.md.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Pool } from 'undici';
import { ProjectService } from '../packages/server/src/accounts/projects.js';
import { systemClock } from '../packages/server/src/clock.js';
import { EgressGuard } from '../packages/server/src/egress/guard.js';
import { GuardedHttpClient } from '../packages/server/src/egress/http-client.js';
import { parseNetworkList } from '../packages/server/src/egress/networks.js';
import { EgressPolicy } from '../packages/server/src/egress/policy.js';
import { StaticResolver } from '../packages/server/src/egress/resolver.js';
import { JobWorker } from '../packages/server/src/jobs/worker.js';
import type { ScreenshotService } from '../packages/server/src/jobs/screenshot-service.js';
import { LogStore } from '../packages/server/src/logs/log-store.js';
import { JobQueue } from '../packages/server/src/queue/job-queue.js';
import { ConcurrencyLeases } from '../packages/server/src/accounts/concurrency-leases.js';
import { LocalBlobStore } from '../packages/server/src/results/blob-store.js';
import { migrateToLatest, openStore } from '../packages/server/src/store/database.js';
import { DeliveryService } from '../packages/server/src/webhooks/delivery-service.js';
import { guardedTransport } from '../packages/server/src/webhooks/guarded-transport.js';
import { RetryPolicy } from '../packages/server/src/webhooks/retry-policy.js';
import { insertWebhookRow } from '../packages/server/test/helpers/webhook-rows.js';
import { timeOrderedId } from '../packages/server/src/store/time-ordered-id.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}

const DELIVERIES = Number(option('deliveries', '4000'));
const CONCURRENCY = Number(option('concurrency', '32'));
const RATE = Number(option('rate', '100'));
const PACED = Number(option('paced', '600'));
// Saturated runs alternate bare and durable this many times and the medians are compared, so that a busy
// moment on a shared machine does not land on one client only (the paced run is done once, in the last).
const ROUNDS = Math.max(1, Number(option('rounds', '3')));
const BODY_BYTES = Number(option('body', String(60 * 1024)));

interface Receiver {
  url: string;
  arrivals: Map<string, number>;
  count: number;
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  let waiter: { count: number; resolve: () => void } | undefined;
  const receiver: Receiver = {
    url: '',
    arrivals,
    count: 0,
    waitFor: (count) =>
      new Promise<void>((resolve) => {
        if (receiver.count >= count) resolve();
        else waiter = { count, resolve };
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['x-scrapfly-webhook-job-id'] ?? req.headers['x-bench-id'];
      if (typeof id === 'string') arrivals.set(id, performance.now());
      receiver.count += 1;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      if (waiter && receiver.count >= waiter.count) {
        const done = waiter;
        waiter = undefined;
        done.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function durable(receiver: Receiver, paced: number) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-bench-delivery-'));
  const store = await openStore({ dataDir });
  await migrateToLatest(store);
  const logger = pino({ level: 'warn' });
  const projects = new ProjectService(store.db, systemClock);
  const { project } = await projects.create('bench', 'ENTERPRISE');
  const webhookUuid = randomUUID();
  await insertWebhookRow(store.db, {
    uuid: webhookUuid,
    projectId: project.id,
    name: 'bench',
    url: receiver.url,
    secret: 'bench-secret-0123456789abcdef',
    createdAt: Date.now(),
  });
  const blobs = new LocalBlobStore(path.join(dataDir, 'blobs'));
  const blob = await blobs.put(Buffer.alloc(BODY_BYTES, 7));
  const queue = new JobQueue(store.db, store.dialect, systemClock);
  const guard = new EgressGuard(new EgressPolicy(parseNetworkList('127.0.0.0/8')), new StaticResolver());
  const delivery = new DeliveryService(
    store.db,
    queue,
    blobs,
    guardedTransport(new GuardedHttpClient(guard, { defaultTimeoutMs: 10_000 })),
    new RetryPolicy([1000, 1000]),
    systemClock,
    { publicUrl: 'http://localhost', timeoutMs: 10_000, disableAfter: 100, operatorNotifyUrl: undefined },
    logger,
    new ConcurrencyLeases(store.db, systemClock, 'bench'),
  );
  // No captures in this benchmark: the screenshot service is never reached (captureSlots 0).
  const worker = new JobWorker(
    queue,
    undefined as unknown as ScreenshotService,
    projects,
    blobs,
    new LogStore(store.db),
    delivery,
    systemClock,
    { captureSlots: 0, deliverySlots: CONCURRENCY, pollMs: 1000 },
    logger,
  );
  const enqueue = async (id: string, executor: Parameters<JobQueue['enqueue']>[0] = store.db) =>
    queue.enqueue(executor, {
      id,
      project_id: project.id,
      env: 'LIVE',
      webhook_uuid: webhookUuid,
      resource_type: 'screenshot',
      log_uuid: null,
      request: '{}',
      state: 'delivering',
      payload_blob: blob,
      payload_content_type: 'image/jpeg',
    });

  // Saturated: everything enqueued first, then the worker drains it.
  // Job ids as the service makes them (time-ordered, jobs/async-screenshots.ts).
  const ids = Array.from({ length: DELIVERIES }, () => timeOrderedId(Date.now()));
  await store.db.transaction().execute(async (trx) => {
    for (const id of ids) await enqueue(id, trx);
  });
  const before = receiver.count;
  const started = performance.now();
  worker.start();
  await receiver.waitFor(before + DELIVERIES);
  const seconds = (performance.now() - started) / 1000;
  // Let the last attempts' records commit before counting them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const recorded = await store.db
    .selectFrom('webhook_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();

  // Paced: a steady trickle, latency from enqueue to arrival.
  const latencies: number[] = [];
  const enqueuedAt = new Map<string, number>();
  const pacedBefore = receiver.count;
  for (let i = 0; i < paced; i += 1) {
    const id = timeOrderedId(Date.now());
    enqueuedAt.set(id, performance.now());
    await enqueue(id);
    worker.wake();
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE));
  }
  await receiver.waitFor(pacedBefore + paced);
  for (const [id, at] of enqueuedAt) {
    const arrived = receiver.arrivals.get(id);
    if (arrived !== undefined) latencies.push(arrived - at);
  }
  await worker.stop();
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return {
    deliveriesPerSecond: DELIVERIES / seconds,
    attemptsRecorded: Number(recorded.n),
    latencyP50: percentile(latencies, 50),
    latencyP95: percentile(latencies, 95),
  };
}

async function bare(receiver: Receiver, paced: number) {
  const pool = new Pool(new URL(receiver.url).origin, { connections: CONCURRENCY, pipelining: 1 });
  const body = Buffer.alloc(BODY_BYTES, 7);
  const post = async (id: string) => {
    const answer = await pool.request({
      path: '/hook',
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', 'x-bench-id': id },
      body,
    });
    await answer.body.dump();
  };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < DELIVERIES) {
        next += 1;
        await post(randomUUID());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const latencies: number[] = [];
  for (let i = 0; i < paced; i += 1) {
    const id = randomUUID();
    const at = performance.now();
    void post(id).then(() => {
      const arrived = receiver.arrivals.get(id);
      if (arrived !== undefined) latencies.push(arrived - at);
    });
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  await pool.close();
  return {
    deliveriesPerSecond: DELIVERIES / seconds,
    latencyP50: percentile(latencies, 50),
    latencyP95: percentile(latencies, 95),
  };
}

const receiver = await startReceiver();
const bareRuns: Array<Awaited<ReturnType<typeof bare>>> = [];
const durableRuns: Array<Awaited<ReturnType<typeof durable>>> = [];
for (let round = 1; round <= ROUNDS; round += 1) {
  const paced = round === ROUNDS ? PACED : 0;
  bareRuns.push(await bare(receiver, paced));
  durableRuns.push(await durable(receiver, paced));
  console.log(
    `round ${round}: bare ${bareRuns.at(-1)!.deliveriesPerSecond.toFixed(0)}/s, durable ${durableRuns.at(-1)!.deliveriesPerSecond.toFixed(0)}/s`,
  );
}
await receiver.close();
const median = (values: number[]) => percentile(values, 50);
const bareResult = {
  ...bareRuns.at(-1)!,
  deliveriesPerSecond: median(bareRuns.map((run) => run.deliveriesPerSecond)),
};
const durableResult = {
  ...durableRuns.at(-1)!,
  deliveriesPerSecond: median(durableRuns.map((run) => run.deliveriesPerSecond)),
};

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const table = [
  `| client | deliveries/s (saturated, ${DELIVERIES} x ${Math.round(BODY_BYTES / 1024)} KB, concurrency ${CONCURRENCY}, median of ${ROUNDS} alternating rounds) | enqueue->arrival p50 | p95 (paced, ${RATE}/s) |`,
  '|---|---|---|---|',
  `| bare fire-and-forget (undici Pool, keep-alive) | ${fmt(bareResult.deliveriesPerSecond)} | ${fmt(bareResult.latencyP50, 1)} ms | ${fmt(bareResult.latencyP95, 1)} ms |`,
  `| Snapwire durable (SQLite, guarded client, signed, recorded) | ${fmt(durableResult.deliveriesPerSecond)} | ${fmt(durableResult.latencyP50, 1)} ms | ${fmt(durableResult.latencyP95, 1)} ms |`,
  `| ratio durable / bare | ${fmt(durableResult.deliveriesPerSecond / bareResult.deliveriesPerSecond, 2)} | | |`,
].join('\n');
console.log(table);
console.log(
  `attempts recorded by the durable run: ${durableResult.attemptsRecorded} (every delivery has its history row)`,
);

const result = {
  at: new Date().toISOString(),
  deliveries: DELIVERIES,
  concurrency: CONCURRENCY,
  rate: RATE,
  bodyBytes: BODY_BYTES,
  cpus: os.cpus().length,
  rounds: ROUNDS,
  bare: bareResult,
  durable: durableResult,
  bareRuns: bareRuns.map((run) => run.deliveriesPerSecond),
  durableRuns: durableRuns.map((run) => run.deliveriesPerSecond),
};
fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench', 'results', 'delivery.json'), JSON.stringify(result, null, 2));
