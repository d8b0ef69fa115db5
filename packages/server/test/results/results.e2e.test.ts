import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parseScreenshotRequest } from '../../src/request/screenshot-request.js';
import { LocalBlobStore } from '../../src/results/blob-store.js';
import { ResultsJanitor } from '../../src/results/janitor.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, screenshot, startService, type TestService } from '../helpers/service.js';
import { expectImage, metric, metricsText, shoot } from '../engine/support.js';

function blobFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((shard) => fs.readdirSync(path.join(root, shard)));
}

describe('engine: results, cache and metrics', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  // The service's clock: cache ages are tested by moving it, not by waiting.
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService({}, {}, { clock });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  const solid = (query = '') => `${fixtures.origin}/solid${query}`;

  it('keeps every image in the content-addressed blob store, fetchable again at X-Scrapfly-Screenshot-Url', async () => {
    const before = blobFiles(service.dataDir).length;
    const first = await shoot(service, { url: solid(), format: 'png', resolution: '640x480' });
    const second = await shoot(service, { url: solid(), format: 'png', resolution: '640x480' });
    expectImage(first);
    expectImage(second);
    assert.ok(first.bytes.equals(second.bytes), 'the same page gives the same bytes');
    assert.equal(blobFiles(service.dataDir).length, before + 1, 'identical images are stored once');
    const stored = new URL(second.response.headers.get('x-scrapfly-screenshot-url') ?? '');
    const again = await fetch(`${service.baseUrl}${stored.pathname}?key=${LIVE_KEY}`);
    assert.equal(again.status, 200);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(first.bytes));
  });

  it('cache=true serves the stored image for the same normalised request within cache_ttl, at no cost', async () => {
    const params = { url: solid('?c=1'), format: 'png', resolution: '500x400', cache: 'true' };
    const rendered = fixtures.hits.get('/solid') ?? 0;
    const miss = await shoot(service, params);
    expectImage(miss);
    assert.equal(miss.response.headers.get('x-scrapfly-api-cost'), '60');
    // Same request with the options in another order and a timeout: the same normalised request.
    const hit = await shoot(service, { ...params, timeout: '30000' });
    expectImage(hit);
    assert.equal(hit.response.headers.get('x-scrapfly-api-cost'), '0', 'a hit costs nothing');
    assert.ok(hit.bytes.equals(miss.bytes), 'the same image');
    assert.equal((fixtures.hits.get('/solid') ?? 0) - rendered, 1, 'rendered once');
    const stored = new URL(hit.response.headers.get('x-scrapfly-screenshot-url') ?? '');
    const again = await fetch(`${service.baseUrl}${stored.pathname}?key=${LIVE_KEY}`);
    assert.equal(again.status, 200, 'a hit has its own log and stored-image URL');

    // The service says so (the route sends outcome.headers as they are).
    const caller = await service.snapwire.services.projects.authenticate(LIVE_KEY);
    assert.ok(caller);
    const outcome = await service.snapwire.services.screenshots.take(
      caller,
      parseScreenshotRequest({ ...params, rendering_wait: '0' }, { maxTimeoutMs: 120_000 }),
    );
    assert.equal(outcome.cache, 'HIT');
    assert.equal(outcome.cost, 0);
    assert.equal(outcome.headers['x-scrapfly-cache-status'], 'HIT');

    const other = await shoot(service, { ...params, format: 'jpg' });
    assert.equal(
      other.response.headers.get('x-scrapfly-api-cost'),
      '60',
      'another format is another request',
    );
    const uncached = await shoot(service, { url: params.url, format: 'png', resolution: '500x400' });
    assert.equal(
      uncached.response.headers.get('x-scrapfly-api-cost'),
      '60',
      'without cache=true nothing is served from it',
    );
  });

  it('cache_ttl bounds the age of what is served; cache_clear forces a new capture', async () => {
    const params = {
      url: solid('?c=2'),
      format: 'png',
      resolution: '300x200',
      cache: 'true',
      cache_ttl: '1',
    };
    assert.equal((await shoot(service, params)).response.headers.get('x-scrapfly-api-cost'), '60');
    assert.equal((await shoot(service, params)).response.headers.get('x-scrapfly-api-cost'), '0');
    clock.offsetMs += 1_200;
    assert.equal(
      (await shoot(service, params)).response.headers.get('x-scrapfly-api-cost'),
      '60',
      'older than 1 s: a miss',
    );
    const cleared = await shoot(service, { ...params, cache_ttl: '3600', cache_clear: 'true' });
    assert.equal(cleared.response.headers.get('x-scrapfly-api-cost'), '60', 'cache_clear renders again');
    assert.equal(
      (await shoot(service, { ...params, cache_ttl: '3600' })).response.headers.get('x-scrapfly-api-cost'),
      '0',
    );
  });

  it('identical requests in flight at once render once', async () => {
    const params = {
      url: `${fixtures.origin}/late?c=3`,
      format: 'png',
      resolution: '300x200',
      cache: 'true',
      rendering_wait: '800',
    };
    const before = fixtures.hits.get('/late') ?? 0;
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() =>
        screenshot(service.baseUrl, params).then(async (r) => ({
          r,
          bytes: Buffer.from(await r.arrayBuffer()),
        })),
      ),
    );
    for (const { r } of answers) assert.equal(r.status, 200);
    assert.equal((fixtures.hits.get('/late') ?? 0) - before, 1, 'one render for four requests');
    const costs = answers.map(({ r }) => r.headers.get('x-scrapfly-api-cost')).sort();
    assert.deepEqual(costs, ['0', '0', '0', '60']);
    for (const { bytes } of answers) assert.ok(bytes.equals(answers[0]?.bytes as Buffer));
  });

  it('the cache belongs to one project', async () => {
    const params = { url: solid('?c=4'), format: 'png', resolution: '300x200', cache: 'true' };
    await shoot(service, params);
    const { keys } = await service.snapwire.services.projects.create('cache-other', 'PRO');
    const other = await shoot(service, { ...params, key: keys.LIVE });
    assert.equal(other.response.headers.get('x-scrapfly-api-cost'), '60');
  });

  it('/metrics reports jobs by outcome, capture latency, pool size, queue depth and restarts', async () => {
    await shoot(service, { url: `${fixtures.origin}/data.json` });
    const text = await metricsText(service);
    assert.ok(metric(text, 'snapwire_capture_jobs_total', { outcome: 'success' }) >= 5);
    assert.ok(metric(text, 'snapwire_capture_jobs_total', { outcome: 'cache_hit' }) >= 4);
    assert.equal(
      metric(text, 'snapwire_capture_jobs_total', { outcome: 'ERR::SCREENSHOT::INVALID_CONTENT_TYPE' }),
      1,
    );
    assert.ok(
      metric(text, 'snapwire_capture_duration_seconds_count', { format: 'png', capture: 'viewport' }) >= 5,
    );
    assert.ok(
      metric(text, 'snapwire_capture_duration_seconds_bucket', {
        format: 'png',
        capture: 'viewport',
        le: '+Inf',
      }) >= 5,
    );
    assert.equal(metric(text, 'snapwire_browser_pool_browsers'), 1);
    assert.equal(metric(text, 'snapwire_browser_pool_slots'), 2);
    assert.equal(metric(text, 'snapwire_browser_pool_queue_depth'), 0);
    assert.equal(metric(text, 'snapwire_browser_pool_running'), 0);
    assert.match(text, /^snapwire_browser_restarts_total\{reason="crash"\} 0$/m);
    assert.match(text, /^snapwire_process_resident_memory_bytes \d+/m);
  });
});

describe('engine: metrics behind a token', () => {
  let service: TestService;
  before(async () => {
    service = await startService({ SNAPWIRE_METRICS_TOKEN: 'metrics-secret-123' });
  });
  after(async () => {
    await service?.close();
  });

  it('answers 401 without the bearer token and the metrics with it', async () => {
    assert.equal((await fetch(`${service.baseUrl}/metrics`)).status, 401);
    const ok = await fetch(`${service.baseUrl}/metrics`, {
      headers: { authorization: 'Bearer metrics-secret-123' },
    });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /snapwire_browser_pool_slots 2/);
  });
});

describe('results retention', () => {
  it('sweeps blobs not referenced for longer than the retention, keeps the others', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-blobs-'));
    try {
      const blobs = new LocalBlobStore(dir);
      const oldKey = await blobs.put(Buffer.from('old image'));
      const newKey = await blobs.put(Buffer.from('new image'));
      const touchedKey = await blobs.put(Buffer.from('old but handed out again'));
      const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
      fs.utimesSync(path.join(dir, oldKey.slice(0, 2), oldKey), daysAgo(30), daysAgo(30));
      fs.utimesSync(path.join(dir, touchedKey.slice(0, 2), touchedKey), daysAgo(30), daysAgo(30));
      await blobs.touch(touchedKey);
      const janitor = new ResultsJanitor(
        blobs,
        undefined,
        async () => 14,
        Date.now,
        pino({ level: 'silent' }),
      );
      await janitor.sweep();
      assert.equal(await blobs.has(oldKey), false, 'unreferenced for 30 days > 14: deleted');
      assert.equal(await blobs.has(newKey), true);
      assert.equal(await blobs.has(touchedKey), true, 'a new reference restarted its retention');
      const again = await blobs.put(Buffer.from('old image'));
      assert.equal(again, oldKey, 'content-addressed: the same bytes, the same key');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
