import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, ScrapflyClient } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { signIn } from './support.js';
import { LIVE_KEY, screenshot, startService, TEST_KEY, type TestService } from '../helpers/service.js';

const ALLOWED = '127.0.0.2';

describe('monitoring metrics: /screenshot/monitoring/metrics(/target) through the official SDK', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let otherKey = '';

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    service = await startService(
      { SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`, SNAPWIRE_ADMIN_PASSWORD: 'a-long-admin-password' },
      { 'shots.example.test': ALLOWED, 'www.example.test': ALLOWED },
    );
    const base = { format: 'png', resolution: '320x240', rendering_wait: '0' };
    const port = new URL(fixtures.origin).port;
    for (const url of [
      `${fixtures.origin}/solid`,
      `http://shots.example.test:${port}/solid`,
      `http://www.example.test:${port}/solid`,
    ]) {
      const response = await screenshot(service.baseUrl, { ...base, url });
      assert.equal(response.status, 200, `capture of ${url}`);
    }
    const failed = await screenshot(service.baseUrl, { ...base, url: `http://${ALLOWED}:1/` });
    assert.ok(failed.status >= 400, 'a failed capture');
    ({
      keys: { LIVE: otherKey },
    } = await service.snapwire.services.projects.create('other', 'PRO'));
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('aggregates the project: requests, success rate, credits, latency, errors, targets', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const data = await client.getScreenshotMonitoringMetrics({
      period: 'last1h',
      aggregation: ['account', 'target'],
    });
    assert.equal(data.account.requests.total, 4, 'four requests');
    assert.equal(data.account.requests.success, 3, 'three succeeded');
    assert.equal(data.account.requests.failed, 1, 'one failed');
    assert.equal(data.account.credits.used >= 180, true, 'credits counted');
    assert.ok(data.account.duration_ms.p95 > 0, 'latency percentiles');
    assert.equal(
      Object.values(data.account.errors as Record<string, number>).reduce((a, b) => a + b, 0),
      1,
      'the error code is counted',
    );
    assert.equal(data.targets['shots.example.test'].requests.total, 1, 'per target');
    assert.equal(data.period.name, 'last1h', 'the window is named');
  });

  it('gives one target with its time series; subdomains grouped on request', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const one = await client.getScreenshotMonitoringTargetMetrics({
      domain: 'shots.example.test',
      period: 'last1h',
    });
    assert.equal(one.metrics.requests.total, 1, 'only that host');
    assert.ok(Array.isArray(one.timeseries) && one.timeseries.length >= 60, 'per-minute series over an hour');
    assert.equal(
      one.timeseries.reduce((s: number, b: { requests: number }) => s + b.requests, 0),
      1,
      'the series adds up',
    );
    const grouped = await client.getScreenshotMonitoringTargetMetrics({
      domain: 'example.test',
      groupSubdomain: true,
      period: 'last1h',
    });
    assert.equal(grouped.metrics.requests.total, 2, 'both subdomains grouped');
    const now = new Date();
    const windowed = await client.getScreenshotMonitoringTargetMetrics({
      domain: ALLOWED,
      start: new Date(now.getTime() - 600_000),
      end: new Date(now.getTime() + 60_000),
    });
    assert.equal(
      windowed.metrics.requests.total,
      2,
      'start/end window: the success and the failure on the address',
    );
  });

  it("never shows another project's or environment's requests", async () => {
    const other = new ScrapflyClient({ key: otherKey, host: service.baseUrl });
    const data = await other.getScreenshotMonitoringMetrics({ period: 'last24h' });
    assert.equal(data.account.requests.total, 0, 'the other project sees none of the default project');
    const target = await other.getScreenshotMonitoringTargetMetrics({ domain: 'shots.example.test' });
    assert.equal(target.metrics.requests.total, 0, 'nor by target');
    const test = await new ScrapflyClient({
      key: TEST_KEY,
      host: service.baseUrl,
    }).getScreenshotMonitoringMetrics();
    assert.equal(test.account.requests.total, 0, 'the TEST environment sees none of LIVE');
  });

  it('refuses a bad key with the SDK error, and answers Prometheus text on request', async () => {
    const bad = new ScrapflyClient({ key: 'scp-live-wrong', host: service.baseUrl });
    await assert.rejects(
      bad.getScreenshotMonitoringMetrics(),
      errors.BadApiKeyError,
      'a bad key raises BadApiKeyError',
    );
    const text = await (
      await fetch(
        `${service.baseUrl}/screenshot/monitoring/metrics?key=${LIVE_KEY}&format=prometheus&period=last1h`,
      )
    ).text();
    assert.match(
      text,
      /snapwire_monitoring_requests\{project="default",env="LIVE",outcome="success"\} 3/,
      'prometheus text',
    );
  });
});

// Expiring logs with their project's retention is the retention room's job (retention/retention-sweeper.ts), tested there.
describe('monitoring log page', () => {
  it('shows the timings by phase of a log', async () => {
    const service = await startService({ SNAPWIRE_ADMIN_PASSWORD: 'a-long-admin-password' });
    try {
      const db = service.snapwire.store.db;
      const project = await service.snapwire.services.projects.findByName('default');
      assert.ok(project, 'the default project exists');
      await db
        .insertInto('screenshot_logs')
        .values({
          log_uuid: 'new',
          project_id: project.id,
          env: 'LIVE' as const,
          url: 'http://a.test/',
          params: '{}',
          http_status: 200,
          error_code: null,
          error_reason: null,
          upstream_status: 200,
          final_url: null,
          cost: 60,
          duration_ms: 10,
          blob_key: null,
          content_type: null,
          created_at: Date.now(),
          // Timings by phase (0004 columns), as the capture path writes them.
          queue_wait_ms: 5,
          navigation_ms: 321,
          wait_ms: 45,
          capture_ms: 67,
          encode_ms: 8,
        })
        .execute();
      const { cookie } = await signIn(service.baseUrl, 'a-long-admin-password');
      const page = await (
        await fetch(`${service.baseUrl}/dashboard/monitoring/log/new`, { headers: { cookie } })
      ).text();
      assert.match(
        page,
        /<li data-phase="navigation">\s*<i class="swatch"[^>]*><\/i>navigation\s*<strong>321 ms<\/strong>/,
        'the navigation time is shown in the legend, beside its colour',
      );
      assert.match(page, /title="encode: 8 ms"/, 'the timing bar has each phase');
    } finally {
      await service.close();
    }
  });
});
