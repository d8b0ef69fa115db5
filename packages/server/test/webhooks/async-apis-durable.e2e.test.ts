// Asynchronous scrapes and extractions survive a restart, and run on PostgreSQL (docs/compat.md §7, §8).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ExtractionConfig,
  ScrapeConfig,
  ScrapflyClient,
  verifySignature,
  type ScrapeResult,
} from 'scrapfly-sdk';
import { createWebhook, deliveryOf } from '../helpers/async-jobs.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const jobOf = (result: ScrapeResult) => (result.context as unknown as { job: { uuid: string } }).job.uuid;

describe('an accepted scrape survives its service being closed before delivery', () => {
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let service: TestService | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-async-restart-'));
  // The first delivery attempt fails; its retry is due 1 s later, after the restart.
  const env = { SNAPWIRE_QUEUE_POLL: '100ms', SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s' };

  before(async () => {
    fixtures = await startFixtureServer();
    receiver = await startReceiver();
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is delivered by the service started again on the same data folder, scraped only once', async () => {
    service = await startService(env, {}, { browsers: false, dataDir });
    const secret = await createWebhook(service.baseUrl, 'later', receiver.url);
    await receiver.waitFor(1); // the ping
    receiver.script.push({ kind: 'status', status: 503, body: 'down for maintenance' });
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const accepted = (await client.scrape(
      new ScrapeConfig({ url: `${fixtures.origin}/scrape-article`, format: 'text', webhook: 'later' }),
    )) as ScrapeResult;
    const jobUuid = jobOf(accepted);
    const refused = await deliveryOf(receiver, jobUuid);
    assert.equal(refused.answered, 503);
    await service.close();
    service = undefined;
    const attemptsBeforeRestart = receiver.received.length;

    service = await startService(env, {}, { browsers: false, dataDir });
    const delivered = await waitUntil(
      () =>
        receiver.received.find(
          (r) => r.headers['x-scrapfly-webhook-job-id'] === jobUuid && r.answered === 200,
        ),
      { timeoutMs: 20_000, intervalMs: 50, what: 'the retried delivery after the restart' },
    );
    assert.ok(receiver.received.indexOf(delivered) >= attemptsBeforeRestart, 'delivered after the restart');
    assert.ok(
      verifySignature(delivered.body, String(delivered.headers['x-scrapfly-webhook-signature']), secret),
    );
    assert.deepEqual(delivered.body, refused.body, 'the stored envelope is sent again, byte for byte');
    const envelope = JSON.parse(delivered.body.toString('utf8'));
    assert.equal(envelope.result.success, true);
    assert.match(envelope.result.content, /Lighthouse keepers/);
    assert.equal(fixtures.hits.get('/scrape-article'), 1, 'the target was scraped once, not again');
    await waitUntil(async () => (await service?.snapwire.services.queue.get(jobUuid))?.state === 'done', {
      what: 'the job done',
    });
  });
});

describe('asynchronous scrapes and extractions on PostgreSQL', () => {
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let service: TestService;

  before(async () => {
    fixtures = await startFixtureServer();
    receiver = await startReceiver();
    service = await startService({ SNAPWIRE_QUEUE_POLL: '100ms' }, {}, { postgres: true, browsers: false });
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('queues, runs and delivers both kinds through the shared queue', async () => {
    assert.equal(service.snapwire.store.dialect, 'postgres');
    const secret = await createWebhook(service.baseUrl, 'pg', receiver.url);
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const scraped = (await client.scrape(
      new ScrapeConfig({ url: `${fixtures.origin}/scrape-article`, format: 'markdown', webhook: 'pg' }),
    )) as ScrapeResult;
    const extracted = await client.extract(
      new ExtractionConfig({
        body: '<html><body><h1>On PostgreSQL</h1></body></html>',
        content_type: 'text/html',
        extraction_ephemeral_template: {
          source: 'html',
          selectors: [{ name: 'title', type: 'css', query: 'h1::text' }],
        },
        webhook: 'pg',
      }),
    );
    assert.equal(extracted.data, null);

    const scrape = await deliveryOf(receiver, jobOf(scraped));
    assert.equal(scrape.headers['x-scrapfly-webhook-resource-type'], 'scrape');
    assert.ok(verifySignature(scrape.body, String(scrape.headers['x-scrapfly-webhook-signature']), secret));
    assert.match(JSON.parse(scrape.body.toString('utf8')).result.content, /# Lighthouse keepers/);

    const extraction = await waitUntil(
      () => receiver.received.find((r) => r.headers['x-scrapfly-webhook-resource-type'] === 'extraction'),
      { timeoutMs: 20_000, intervalMs: 50, what: 'the extraction delivered' },
    );
    assert.ok(
      verifySignature(extraction.body, String(extraction.headers['x-scrapfly-webhook-signature']), secret),
    );
    assert.deepEqual(JSON.parse(extraction.body.toString('utf8')), {
      data: { title: 'On PostgreSQL' },
      content_type: 'application/json',
    });
    const account = await (await fetch(`${service.baseUrl}/account?key=${LIVE_KEY}`)).json();
    assert.equal(
      account.subscription.usage.scrape.current,
      2,
      'one credit for the scrape, one for the extraction',
    );
  });
});
