import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createWebhook } from '../helpers/async-jobs.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, TEST_KEY } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js');
const SCRAPES = 40;
const EXTRACTIONS = 10;
const TEMPLATE = Buffer.from(
  JSON.stringify({ source: 'html', selectors: [{ name: 'title', type: 'css', query: 'h1::text' }] }),
).toString('base64url');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Asynchronous scrapes and extractions across a SIGKILL: the built service runs as its own process and is
 * killed while it scrapes (a slow target) and delivers, then started again on the same data folder. Every
 * accepted job must reach the receiver, as its envelope or its recorded error.
 */
describe('crash test: SIGKILL while scraping and extracting loses no accepted job', () => {
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let service: ChildProcess | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-async-crash-'));
  let port: number;
  let base: string;

  const start = async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        SNAPWIRE_DATA_DIR: dataDir,
        SNAPWIRE_BOOTSTRAP_LIVE_KEY: LIVE_KEY,
        SNAPWIRE_BOOTSTRAP_TEST_KEY: TEST_KEY,
        SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/8',
        SNAPWIRE_QUEUE_POLL: '100ms',
        // A killed process's jobs run again after one lease: 4s instead of 20 s keeps the run short.
        SNAPWIRE_JOB_LEASE: '4s',
        SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,2s,5s,10s',
        SNAPWIRE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
      // Its own process group, so that killing the group also kills its Chromium, as a machine crash would.
      detached: true,
    });
    await waitUntil(
      () =>
        fetch(`${base}/healthz`)
          .then((r) => r.ok)
          .catch(() => false),
      { timeoutMs: 60_000, intervalMs: 200, what: 'the service up (healthz 200)' },
    );
    service = child;
  };

  const kill = async () => {
    const child = service;
    if (!child?.pid) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGKILL');
    await exited;
    service = undefined;
  };

  before(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    fixtures = await startFixtureServer({
      routes: {
        // Slow enough that scrapes are under way when the kill comes.
        '/slow': (_req, res) => {
          setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>slow</h1>'), 150);
        },
      },
    });
    receiver = await startReceiver('127.0.0.1');
    await start();
  });
  after(async () => {
    await kill();
    await receiver?.close();
    await fixtures?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`delivers all ${SCRAPES} scrapes and ${EXTRACTIONS} extractions across a kill`, async () => {
    await createWebhook(base, 'durable', receiver.url);
    const accepted: string[] = [];
    const target = encodeURIComponent(`${fixtures.origin}/slow`);
    for (let i = 0; i < SCRAPES; i += 1) {
      const response = await fetch(`${base}/scrape?key=${LIVE_KEY}&webhook_name=durable&url=${target}`);
      assert.equal(response.status, 201);
      accepted.push((await response.json()).context.job.uuid);
    }
    for (let i = 0; i < EXTRACTIONS; i += 1) {
      const response = await fetch(
        `${base}/extraction?key=${LIVE_KEY}&webhook_name=durable&content_type=text/html&extraction_template=ephemeral:${TEMPLATE}`,
        { method: 'POST', headers: { 'content-type': 'text/html' }, body: `<h1>document ${i}</h1>` },
      );
      assert.equal(response.status, 201);
      accepted.push((await response.json()).job_uuid);
    }

    // A random moment 0.5-1.5 s in: scrapes of the slow target and deliveries are both under way.
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000));
    await kill();
    const deliveredBeforeKill = new Set(receiver.received.map((r) => r.headers['x-scrapfly-webhook-job-id']))
      .size;
    await start();

    const deliveredIds = () =>
      new Set(receiver.received.map((r) => String(r.headers['x-scrapfly-webhook-job-id'])));
    await waitUntil(() => accepted.every((id) => deliveredIds().has(id)), {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: 'every accepted job delivered',
    }).catch(() => undefined);
    const missing = accepted.filter((id) => !deliveredIds().has(id));
    console.log(
      `async crash test: ${accepted.length} accepted, ${deliveredBeforeKill - 1} delivered before the kill, ${missing.length} missing`,
    );
    assert.deepEqual(missing, [], 'no accepted job is lost');
    for (const delivery of receiver.received) {
      const kind = delivery.headers['x-scrapfly-webhook-resource-type'];
      if (kind === 'ping') continue;
      const body = JSON.parse(delivery.body.toString('utf8'));
      if (kind === 'scrape') assert.equal(body.result.content, '<h1>slow</h1>');
      else assert.match(body.data.title, /^document \d+$/);
    }
  });
});
