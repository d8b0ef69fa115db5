// The client against a live service (real Chromium, real webhook receiver on loopback): the calls the
// README examples do not run, and the failure paths of streaming saves.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadApiKeyError, SnapwireApiError, SnapwireClient, fromEnv } from '../src/index.js';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../../server/test/helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';

describe('SnapwireClient against a live service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let client: SnapwireClient;
  let hookUrl: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-sdk-live-'));

  before(async () => {
    fixtures = await startFixtureServer();
    receiver = await startReceiver();
    service = await startService({}, { 'hooks.test': '127.0.0.1' });
    client = fromEnv({}, { SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY });
    hookUrl = `http://hooks.test:${new URL(receiver.url).port}/in`;
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fromEnv reads SNAPWIRE_HOST and SNAPWIRE_KEY, and names what is missing', () => {
    assert.equal(client.host, service.baseUrl);
    assert.equal(fromEnv({}, { SNAPWIRE_KEY: 'k' }).host, 'http://localhost:8080');
    assert.throws(() => fromEnv({}, { SNAPWIRE_HOST: service.baseUrl }), /SNAPWIRE_KEY is not set/);
  });

  it('manages a webhook: show with its secret, rotate, ping, disable and enable', async () => {
    const created = await client.createWebhook({ name: 'live', url: hookUrl, queue_limit: 10 });
    assert.equal(created.name, 'live');
    assert.equal(created.queue_limit, 10);
    assert.ok(created.secret && created.secret.length >= 16);
    const shown = await client.getWebhook('live');
    assert.equal(shown.secret, undefined, 'the secret is not shown unless asked');
    assert.equal((await client.getWebhook('live', { revealSecret: true })).secret, created.secret);
    const rotated = await client.rotateWebhookSecret('live', 'a-brand-new-secret-0123');
    assert.equal(rotated.secret, 'a-brand-new-secret-0123');
    assert.ok(rotated.previous_secret_expires_at);

    const { job_uuid } = await client.pingWebhook('live');
    const job = await waitUntil(
      async () => {
        const current = await client.getJob(job_uuid);
        return current.state === 'done' ? current : undefined;
      },
      { timeoutMs: 30_000, what: 'the ping delivered' },
    );
    assert.equal(job.resource_type, 'ping');
    assert.equal(job.attempts[0]?.status_code, 200);

    assert.equal((await client.updateWebhook('live', { enabled: false })).enabled, false);
    assert.equal((await client.enableWebhook('live')).enabled, true);
    await client.deleteWebhook('live');
    await assert.rejects(
      () => client.getWebhook('live'),
      (e: unknown) =>
        e instanceof SnapwireApiError && e.code === 'ERR::API::NOT_FOUND' && e.httpStatus === 404,
    );
  });

  it('reads monitoring metrics of a target domain', async () => {
    await client.screenshot({ url: `http://fixtures.test:${fixtures.port}/solid`, rendering_wait: 0 });
    const target = await client.monitoringTargetMetrics({ domain: 'fixtures.test', period: 'last1h' });
    assert.equal(target.domain, 'fixtures.test');
    assert.ok(target.metrics.requests.total >= 1);
    const metrics = await client.monitoringMetrics({
      aggregation: ['account', 'target'],
      include_webhook: true,
    });
    assert.ok(metrics.targets?.['fixtures.test']);
    assert.ok(metrics.webhook);
  });

  it('a failed streaming save leaves no file behind and throws the catalogue error', async () => {
    const file = path.join(dir, 'nested', 'never.png');
    await assert.rejects(
      () => client.saveScreenshot({ url: `http://fixtures.test:${fixtures.port}/data.json` }, file),
      (e: unknown) => e instanceof SnapwireApiError && e.code === 'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
    );
    assert.equal(fs.existsSync(file), false);
    const saved = await client.saveScreenshot(
      { url: `http://fixtures.test:${fixtures.port}/solid`, format: 'png', rendering_wait: 0 },
      path.join(dir, 'nested', 'solid.png'),
    );
    assert.equal(fs.statSync(saved.file).size, saved.size);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'nested')), ['solid.png'], 'no temporary file left');
  });

  it('manages a schedule to a webhook: create, list, get, pause, resume, execute, runs, cancel', async () => {
    await client.createWebhook({ name: 'scheduled', url: hookUrl });
    // A daily cron: its first instant is far enough away that only the manual run fires in this test.
    const created = await client.createSchedule({
      screenshot_config: { url: `http://fixtures.test:${fixtures.port}/solid`, rendering_wait: 0 },
      webhook_name: 'scheduled',
      recurrence: { cron: '0 0 1 1 *' },
      notes: 'sdk live test',
    });
    assert.equal(created.status, 'ACTIVE');
    assert.equal(created.webhook_name, 'scheduled');
    assert.ok(created.next_scheduled_date);
    assert.ok((await client.listSchedules()).some((s) => s.id === created.id));
    assert.equal((await client.listSchedules({ status: 'PAUSED' })).length, 0);
    assert.equal((await client.getSchedule(created.id)).notes, 'sdk live test');

    assert.equal((await client.pauseSchedule(created.id)).status, 'PAUSED');
    assert.equal((await client.resumeSchedule(created.id)).status, 'ACTIVE');
    const changed = await client.updateSchedule(created.id, { notes: 'changed' });
    assert.equal(changed.notes, 'changed');

    const executed = await client.executeSchedule(created.id);
    assert.equal(executed.run.trigger, 'manual');
    const run = await waitUntil(
      async () => {
        const runs = await client.scheduleRuns(created.id);
        return runs.find((r) => r.id === executed.run.id && r.status === 'succeeded');
      },
      { timeoutMs: 60_000, what: 'the manual run succeeded' },
    );
    assert.ok(run.job_uuid);
    const job = await waitUntil(
      async () => {
        const current = await client.getJob(run.job_uuid!);
        return current.state === 'done' ? current : undefined;
      },
      { timeoutMs: 30_000, what: "the run's screenshot delivered to the webhook" },
    );
    assert.equal(job.attempts.at(-1)?.status_code, 200);

    await client.cancelSchedule(created.id);
    assert.equal((await client.getSchedule(created.id)).status, 'CANCELLED');
    await assert.rejects(
      () => client.pauseSchedule(created.id),
      (e: unknown) => e instanceof SnapwireApiError && e.code === 'ERR::SCHEDULER::INVALID_STATE',
    );
    await assert.rejects(
      () => client.getSchedule('no-such-schedule'),
      (e: unknown) => e instanceof SnapwireApiError && e.code === 'ERR::SCHEDULER::NOT_FOUND',
    );
    await client.deleteWebhook('scheduled');
  });

  it('a wrong key is a BadApiKeyError, never retried', async () => {
    const wrong = new SnapwireClient({ host: service.baseUrl, key: 'scp-live-wrong' });
    await assert.rejects(() => wrong.listWebhooks(), BadApiKeyError);
  });
});
