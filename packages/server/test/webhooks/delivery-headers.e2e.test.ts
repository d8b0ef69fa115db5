import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, screenshot, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const ALLOWED = '127.0.0.2';

describe('asynchronous deliveries carry the answer headers of the synchronous call (scrapfly-headers.ts)', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    receiver = await startReceiver(ALLOWED);
    service = await startService({
      SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
      SNAPWIRE_QUEUE_POLL: '100ms',
    });
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'shots', url: receiver.url }),
    });
    assert.equal(created.status, 201, 'the webhook is created');
    await receiver.waitFor(1); // its ping
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await receiver?.close();
  });

  it('delivers the cache status like the synchronous answer: MISS, then HIT', async () => {
    const params = {
      url: `${fixtures.origin}/solid`,
      format: 'png',
      resolution: '320x200',
      rendering_wait: '0',
      cache: 'true',
    };
    const sync = await screenshot(service.baseUrl, params);
    assert.equal(sync.status, 200);
    assert.equal(sync.headers.get('x-scrapfly-cache-status'), 'MISS', 'the synchronous answer says MISS');
    await sync.arrayBuffer();
    const queued = await screenshot(service.baseUrl, { ...params, webhook_name: 'shots' });
    assert.equal(queued.status, 201);
    const [, delivery] = await receiver.waitFor(2);
    assert.equal(delivery?.headers['x-scrapfly-cache-status'], 'HIT', 'the delivery says HIT');
    assert.equal(delivery?.headers['x-scrapfly-api-cost'], '0', 'at no cost');
    assert.equal(delivery?.headers['x-scrapfly-upstream-http-code'], '200');
  });

  it('fails a queued job whose stored request cannot be read back, with a catalogue error delivered', async () => {
    const { queue, webhooks, projects, worker } = service.snapwire.services;
    const { store } = service.snapwire;
    const project = await projects.findByName('default');
    assert.ok(project);
    const webhook = await webhooks.find({ project, env: 'LIVE' }, 'shots');
    assert.ok(webhook);
    const id = randomUUID();
    await queue.enqueue(store.db, {
      id,
      project_id: project.id,
      env: 'LIVE',
      webhook_uuid: webhook.uuid,
      resource_type: 'screenshot',
      log_uuid: null,
      request: JSON.stringify({ url: 'http://x.test/', format: 'bmp' }),
      state: 'queued',
    });
    worker.wake();
    const before = receiver.received.length;
    const [delivery] = (await receiver.waitFor(before + 1)).slice(-1);
    assert.equal(delivery?.headers['x-scrapfly-webhook-job-id'], id, 'the damaged job is delivered');
    assert.equal(delivery?.headers['x-scrapfly-reject-code'], 'ERR::API::INTERNAL_ERROR', 'as an error');
    assert.match(String(delivery?.body), /could not be read back \(.*format/, 'naming what is wrong');
    await waitUntil(async () => (await queue.get(id))?.state === 'done', { what: 'the job ends' });
  });
});
