import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { listProcesses } from '../../src/engine/chromium-process.js';
import type { BrowserPool } from '../../src/engine/browser-pool.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startService, type TestService } from '../helpers/service.js';
import {
  GREEN,
  ProcessLedger,
  assertColor,
  chromiumDescendants,
  expectImage,
  metric,
  metricsText,
  shoot,
} from './support.js';
import { waitUntil } from '../helpers/wait-until.js';

/** The main Chromium process of each browser (the reaper's child). */
function chromiumMains(pool: BrowserPool): number[] {
  const reapers = new Set(pool.browserPids());
  return (
    pool
      .processes()
      // Crashpad handlers are re-parented to the reaper too, but run in a session of their own.
      .filter((info) => reapers.has(info.ppid) && info.pgid === info.ppid && !/crashpad/i.test(info.name))
      .map((info) => info.pid)
  );
}

/** CPU milliseconds the pool's processes use over `ms` (a renderer spinning forever would use ~ms). */
async function poolCpuOver(pool: BrowserPool, ms: number): Promise<number> {
  const ticks = () =>
    pool.processes().reduce((sum, info) => {
      try {
        const stat = fs.readFileSync(`/proc/${info.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return sum + Number(fields[11]) + Number(fields[12]);
      } catch {
        return sum;
      }
    }, 0);
  const before = ticks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (ticks() - before) * 10;
}

describe('engine: watchdog, retries, recycling and no zombies', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let pool: BrowserPool;
  const ledger = new ProcessLedger();
  const before0 = chromiumDescendants().length;

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        // Answers after 2 s: long enough to kill or freeze the browser while the capture waits for it.
        '/engine/slow-page': (_req, res) => {
          const timer = setTimeout(
            () =>
              res
                .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
                .end('<html><body style="margin:0;background:#00c000">slow</body></html>'),
            2_000,
          );
          res.on('close', () => clearTimeout(timer));
        },
      },
    });
    service = await startService({
      SNAPWIRE_BROWSER_CONCURRENCY: '2',
      SNAPWIRE_RENDERER_MAX_HEAP_MB: '64',
      SNAPWIRE_RENDERER_HANG_TIMEOUT: '2s',
      SNAPWIRE_BROWSER_HANG_TIMEOUT: '1500ms',
      SNAPWIRE_BROWSER_RECYCLE_JOBS: '1000',
    });
    pool = service.snapwire.services.pool;
    ledger.record(pool);
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  const page = (name: string) => `${fixtures.origin}/${name}`;

  it('a page that crashes its renderer is retried once on a fresh page, then fails with DRIVER_CRASHED', async () => {
    const mainsBefore = chromiumMains(pool);
    const shot = await shoot(service, { url: page('engine-crash'), timeout: '40000' });
    ledger.record(pool);
    assert.equal(shot.response.status, 422, shot.bytes.toString());
    assert.equal(shot.json?.code, 'ERR::SCRAPE::DRIVER_CRASHED');
    assert.match(String(shot.json?.reason), /crashed its renderer/);
    assert.equal(shot.response.headers.get('x-scrapfly-api-cost'), '0', 'a crash is not billed');
    assert.equal(fixtures.hits.get('/engine-crash'), 2, 'tried twice: the first attempt and one retry');
    assert.deepEqual(chromiumMains(pool), mainsBefore, 'a renderer crash does not cost the browser');
    const metrics = await metricsText(service);
    assert.equal(metric(metrics, 'snapwire_pages_lost_total', { kind: 'renderer-crash' }), 2);
    assert.equal(
      metric(metrics, 'snapwire_capture_jobs_total', { outcome: 'ERR::SCRAPE::DRIVER_CRASHED' }),
      1,
    );
    const next = expectImage(await shoot(service, { url: page('solid') }));
    assert.equal(next.width, 1920, 'the pool still captures');
  });

  it('a page that hangs its renderer is given up after the hang timeout, retried once, and its renderer dies', async () => {
    const started = Date.now();
    const shot = await shoot(service, { url: page('engine-hang'), timeout: '40000' });
    ledger.record(pool);
    assert.equal(shot.response.status, 422, shot.bytes.toString());
    assert.equal(shot.json?.code, 'ERR::SCRAPE::DRIVER_CRASHED');
    assert.match(String(shot.json?.reason), /hung its renderer/);
    assert.equal(fixtures.hits.get('/engine-hang'), 2);
    assert.ok(Date.now() - started < 30_000, 'well before the request timeout');
    // The renderer's death takes a moment after the answer: wait for it to go quiet, then measure.
    await waitUntil(async () => (await poolCpuOver(pool, 300)) < 200, {
      timeoutMs: 10_000,
      what: 'the hung renderer gone quiet',
    });
    const cpu = await poolCpuOver(pool, 1_500);
    assert.ok(cpu < 1_000, `no renderer is left spinning (${cpu} ms of CPU in 1.5 s)`);
    expectImage(await shoot(service, { url: page('solid') }));
  });

  it('a browser killed in the middle of a capture is replaced, and the capture succeeds on the new one', async () => {
    const [main] = chromiumMains(pool);
    assert.ok(main, 'a running browser');
    ledger.record(pool);
    const hits = fixtures.hits.get('/engine/slow-page') ?? 0;
    const pending = shoot(service, { url: page('engine/slow-page'), format: 'png', resolution: '400x300' });
    // In the middle of the capture: the page is being loaded.
    await waitUntil(() => (fixtures.hits.get('/engine/slow-page') ?? 0) > hits, {
      what: 'the capture under way',
    });
    ledger.record(pool);
    process.kill(main, 'SIGKILL');
    const shot = await pending;
    const image = expectImage(shot);
    assertColor(image, 200, 150, GREEN, 'the retried capture');
    assert.ok(!chromiumMains(pool).includes(main), 'a new browser');
    const metrics = await metricsText(service);
    assert.ok(
      metric(metrics, 'snapwire_browser_restarts_total', { reason: 'crash' }) >= 1,
      `restarts: ${metrics}`,
    );
    assert.ok(
      metric(metrics, 'snapwire_pages_lost_total', { kind: 'browser-gone' }) >= 1,
      'a page lost with the browser',
    );
  });

  it('a frozen browser (SIGSTOP) is found by the watchdog, killed, and the capture retried on a new one', async () => {
    const [main] = chromiumMains(pool);
    assert.ok(main);
    ledger.record(pool);
    const hits = fixtures.hits.get('/engine/slow-page') ?? 0;
    const pending = shoot(service, { url: page('engine/slow-page'), format: 'png', resolution: '400x300' });
    await waitUntil(() => (fixtures.hits.get('/engine/slow-page') ?? 0) > hits, {
      what: 'the capture under way',
    });
    ledger.record(pool);
    process.kill(main, 'SIGSTOP');
    const shot = await pending;
    assertColor(expectImage(shot), 200, 150, GREEN, 'the retried capture');
    const metrics = await metricsText(service);
    assert.ok(
      metric(metrics, 'snapwire_browser_restarts_total', { reason: 'hang' }) >= 1,
      'a restart for a hang',
    );
    const still = listProcesses().find((info) => info.pid === main);
    assert.ok(!still || still.state === 'Z' ? !still : false, `the frozen browser is gone (${still?.state})`);
  });

  it('a page that never finishes loading answers 504 on time and leaves nothing running', async () => {
    const started = Date.now();
    const shot = await shoot(service, { url: page('never-loads'), timeout: '3000' });
    assert.equal(shot.response.status, 504);
    assert.equal(shot.json?.code, 'ERR::SCRAPE::OPERATION_TIMEOUT');
    assert.ok(Date.now() - started < 3_000 + 4_000);
    assert.equal(pool.stats().running, 0);
  });

  it('after close, every process any browser ever had is gone and reaped (no zombies)', async () => {
    ledger.record(pool);
    assert.ok(ledger.count >= 6, `the ledger saw the browsers' processes (${ledger.count})`);
    await service.close();
    await ledger.assertAllGone();
    assert.equal(chromiumDescendants().length, before0, 'no Chromium process is left under this test');
  });
});

describe('engine: recycling drains first', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const ledger = new ProcessLedger();

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService({ SNAPWIRE_BROWSER_CONCURRENCY: '2', SNAPWIRE_BROWSER_RECYCLE_JOBS: '3' });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('replaces a browser after its jobs without failing one in flight, and reaps the old one', async () => {
    const pool = service.snapwire.services.pool;
    const first = chromiumMains(pool);
    const pids = new Set<number>(first);
    let done = 0;
    await Promise.all(
      [0, 1].map(async () => {
        for (let i = 0; i < 5; i += 1) {
          ledger.record(pool);
          for (const pid of chromiumMains(pool)) pids.add(pid);
          const image = expectImage(
            await shoot(service, {
              url: `${fixtures.origin}/late`,
              rendering_wait: '300',
              format: 'png',
              resolution: '400x300',
            }),
          );
          assert.equal(image.width, 400);
          done += 1;
        }
      }),
    );
    assert.equal(done, 10);
    assert.ok(pids.size >= 3, `10 jobs at 3 per browser went through at least 3 browsers (${pids.size})`);
    const metrics = await metricsText(service);
    assert.ok(metric(metrics, 'snapwire_browser_restarts_total', { reason: 'recycle-jobs' }) >= 2);
    assert.equal(metric(metrics, 'snapwire_browser_restarts_total', { reason: 'crash' }), 0);
    ledger.record(pool);
    await service.close();
    await ledger.assertAllGone();
  });
});
