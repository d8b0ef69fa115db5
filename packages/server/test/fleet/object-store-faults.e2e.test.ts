import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, screenshot, startService, type TestService } from '../helpers/service.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/**
 * The object store failing under a running service: a synchronous capture answers a clear retryable
 * error, an accepted asynchronous job waits and is delivered once the store is back, nothing is lost.
 */
describe('object store faults', () => {
  let s3: TestS3;
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-s3-faults-'));

  before(async () => {
    s3 = await startS3({ directory });
    fixtures = await startFixtureServer();
    receiver = await startReceiver('127.0.0.1');
    service = await startService({ ...s3.env('faults'), SNAPWIRE_QUEUE_POLL: '100ms' });
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
    await s3?.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const params = (extra: Record<string, string> = {}) => ({
    url: `${fixtures.origin}/solid`,
    rendering_wait: '0',
    resolution: '320x240',
    ...extra,
  });

  it('stores captures in the bucket while it is up', async () => {
    const response = await screenshot(service.baseUrl, params());
    assert.equal(response.status, 200);
    const url = `${response.headers.get('x-scrapfly-screenshot-url')}?key=${LIVE_KEY}`;
    const again = await fetch(url.replace(/^http:\/\/localhost:0/, service.baseUrl));
    assert.equal(again.status, 200);
  });

  it('answers a retryable 503 while the store is down, and delivers the queued job once it is back', async () => {
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'faults', url: receiver.url }),
    });
    assert.equal(created.status, 201);
    await receiver.waitFor(1, 10_000); // the creation ping (stored while the store is up)

    const port = s3.port;
    await s3.close();
    const refused = await screenshot(service.baseUrl, params({ resolution: '321x240' }));
    const body = (await refused.json()) as { code: string; retryable: boolean; reason: string };
    assert.equal(refused.status, 503);
    assert.equal(body.code, 'ERR::API::SERVICE_UNAVAILABLE');
    assert.equal(body.retryable, true);
    assert.match(body.reason, /could not be stored.*retry/);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);

    const accepted = await screenshot(
      service.baseUrl,
      params({ webhook_name: 'faults', resolution: '322x240' }),
    );
    assert.equal(accepted.status, 201, 'accepting needs only the database');
    const { job_uuid: jobUuid } = (await accepted.json()) as { job_uuid: string };
    // The job is tried and given back to the queue while the store is down, never failed.
    const { queue, logs } = service.snapwire.services;
    await waitUntil(
      async () => {
        const job = await queue.get(jobUuid);
        if (job?.state !== 'queued' || !job.log_uuid) return false;
        // Tried (its log says why it failed) and given back without counting an attempt.
        const log = await logs.find(job.project_id, job.log_uuid);
        return log?.error_code === 'ERR::API::SERVICE_UNAVAILABLE' && job.capture_attempts === 0;
      },
      { timeoutMs: 20_000, what: 'the capture to have been tried and given back' },
    );
    assert.equal(receiver.received.length, 1, 'nothing delivered while the store is down');

    s3 = await startS3({ port, directory });
    const [delivery] = (await receiver.waitFor(2, 30_000)).slice(1);
    assert.equal(delivery?.headers['x-scrapfly-webhook-job-id'], jobUuid);
    assert.equal(delivery?.headers['content-type'], 'image/jpeg');
    // The attempt commits just after the receiver answers.
    await waitUntil(async () => (await queue.get(jobUuid))?.state === 'done', {
      timeoutMs: 10_000,
      what: 'the job to be done',
    });
  });
  it('a webhook created while the store is down is not created at all; the retry answers the secret', async () => {
    const create = () =>
      fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'during-outage', url: receiver.url }),
      });
    const port = s3.port;
    await s3.close();
    const refused = await create();
    const body = (await refused.json()) as { code: string; retryable: boolean; reason: string };
    assert.equal(refused.status, 503);
    assert.equal(body.code, 'ERR::API::SERVICE_UNAVAILABLE');
    assert.equal(body.retryable, true);
    // Nothing was created: no webhook, and its name is still free.
    const shown = await fetch(`${service.baseUrl}/webhooks/during-outage?key=${LIVE_KEY}`);
    assert.equal(shown.status, 404, 'no webhook whose secret nobody saw');
    const { webhooks } = (await (await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`)).json()) as {
      webhooks: Array<{ name: string }>;
    };
    assert.ok(!webhooks.some((webhook) => webhook.name === 'during-outage'));
    assert.match(body.reason, /webhook "during-outage" was not created/);

    s3 = await startS3({ port, directory });
    const delivered = receiver.received.length;
    const created = await create();
    assert.equal(created.status, 201, 'the retry creates it (no 409)');
    const { secret } = (await created.json()) as { secret: string };
    assert.match(secret, /^[0-9a-f]{64}$/);
    // Its ping arrives, signed with the secret the answer carried.
    const [ping] = (await receiver.waitFor(delivered + 1, 30_000)).slice(delivered);
    assert.equal(ping?.headers['x-scrapfly-webhook-resource-type'], 'ping');
    assert.equal(ping?.headers['x-scrapfly-webhook-name'], 'during-outage');
    assert.ok(
      ping && verifySignature(ping.body, String(ping.headers['x-scrapfly-webhook-signature']), secret),
    );
  });
});
