// Asynchronous scrapes and extractions (webhook_name) with Scrapfly's TypeScript SDK, unmodified, against a
// live service and a real HTTP receiver (docs/compat.md §7, §8, §3). No browser: render_js is not used.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  errors,
  ExtractionConfig,
  ScrapeConfig,
  ScrapflyClient,
  verifySignature,
  type ScrapeResult,
} from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { createWebhook, deliveryOf } from '../helpers/async-jobs.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const { ApiHttpClientError } = errors;

const routes: Record<string, Handler> = {
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString('utf8') }));
    });
  },
};

const TEMPLATE = {
  source: 'html',
  selectors: [
    { name: 'title', type: 'css', query: 'h1', formatters: [{ name: 'remove_html' }] },
    { name: 'items', type: 'css', query: 'li', multiple: true, formatters: [{ name: 'remove_html' }] },
  ],
};

describe("asynchronous /scrape and POST /extraction with Scrapfly's TypeScript SDK", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let client: ScrapflyClient;
  let secret: string;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    receiver = await startReceiver();
    service = await startService({ SNAPWIRE_QUEUE_POLL: '100ms' }, {}, { browsers: false });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    secret = await createWebhook(service.baseUrl, 'results', receiver.url);
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('scrape() with webhook returns at once; the envelope is delivered signed, billed and logged', async () => {
    const url = `${fixtures.origin}/scrape-article`;
    const before = fixtures.hits.get('/scrape-article') ?? 0;
    const accepted = (await client.scrape(
      new ScrapeConfig({ url, format: 'markdown', webhook: 'results' }),
    )) as ScrapeResult;
    assert.equal(accepted.result.status, 'DONE');
    assert.equal(accepted.result.success, true);
    assert.equal(accepted.result.content, '');
    assert.equal(accepted.context.cost.total, 0, 'nothing billed until the scrape runs');
    const context = accepted.context as unknown as {
      webhook: { name: string; uuid: string; enqueued: boolean; queue_limit: number; queued_element: number };
      job: { uuid: string; state: string };
    };
    assert.equal(context.webhook.name, 'results');
    assert.equal(context.webhook.enqueued, true);
    assert.equal(context.job.state, 'queued');
    // The wire config names the webhook `webhook_name` (as Scrapfly's does); the TS SDK's ConfigData
    // type does not list it, though the SDK passes it through.
    const config = accepted.config as typeof accepted.config & { webhook_name?: string | null };
    assert.equal(config.webhook_name, 'results');

    const delivery = await deliveryOf(receiver, context.job.uuid);
    assert.equal(delivery.method, 'POST');
    assert.equal(delivery.headers['x-scrapfly-webhook-resource-type'], 'scrape');
    assert.equal(delivery.headers['x-scrapfly-webhook-name'], 'results');
    assert.equal(delivery.headers['x-scrapfly-webhook-id'], context.webhook.uuid);
    assert.match(String(delivery.headers['content-type']), /^application\/json/);
    assert.ok(
      verifySignature(delivery.body, String(delivery.headers['x-scrapfly-webhook-signature']), secret),
      'the SDK verifies the signature with the webhook secret',
    );
    assert.equal(delivery.headers['x-scrapfly-log-uuid'], accepted.uuid);
    assert.equal(delivery.headers['x-scrapfly-upstream-http-code'], '200');
    assert.equal(delivery.headers['x-scrapfly-api-cost'], '1');

    const envelope = JSON.parse(delivery.body.toString('utf8'));
    assert.equal(envelope.uuid, accepted.uuid, 'the same log as the promise');
    assert.equal(envelope.result.status, 'DONE');
    assert.equal(envelope.result.success, true);
    assert.equal(envelope.result.status_code, 200);
    assert.match(envelope.result.content, /# Lighthouse keepers/);
    assert.equal(envelope.context.cost.total, 1);
    assert.deepEqual(envelope.context.webhook, { name: 'results', uuid: context.webhook.uuid });
    assert.deepEqual(envelope.context.job, { uuid: context.job.uuid });
    assert.equal(envelope.config.webhook_name, 'results');
    assert.equal(fixtures.hits.get('/scrape-article'), before + 1, 'the target was scraped once');

    // The monitoring log row written pending at acceptance is completed by the run, billed as a scrape.
    const job = await service.snapwire.services.queue.get(context.job.uuid);
    const log = await service.snapwire.services.logs.find(job?.project_id ?? '', accepted.uuid);
    assert.equal(log?.kind, 'scrape');
    assert.equal(log?.http_status, 200);
    assert.equal(log?.cost, 1);
    assert.equal(log?.job_uuid, context.job.uuid);
  });

  it('a POST scrape keeps its body for the queued job and sends it to the target', async () => {
    const accepted = (await client.scrape(
      new ScrapeConfig({
        url: `${fixtures.origin}/echo`,
        method: 'POST',
        body: 'name=queued',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        webhook: 'results',
      }),
    )) as ScrapeResult;
    const jobUuid = (accepted.context as unknown as { job: { uuid: string } }).job.uuid;
    const envelope = JSON.parse((await deliveryOf(receiver, jobUuid)).body.toString('utf8'));
    assert.deepEqual(JSON.parse(envelope.result.content), { method: 'POST', body: 'name=queued' });
  });

  it("a target's 404 is delivered as the envelope with success false and the reject headers", async () => {
    const accepted = (await client.scrape(
      new ScrapeConfig({ url: `${fixtures.origin}/no-such-page`, webhook: 'results' }),
    )) as ScrapeResult;
    const jobUuid = (accepted.context as unknown as { job: { uuid: string } }).job.uuid;
    const delivery = await deliveryOf(receiver, jobUuid);
    assert.equal(delivery.headers['x-scrapfly-reject-code'], 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE');
    assert.equal(delivery.headers['x-scrapfly-upstream-http-code'], '404');
    const envelope = JSON.parse(delivery.body.toString('utf8'));
    assert.equal(envelope.result.success, false);
    assert.equal(envelope.result.status_code, 404);
    assert.equal(envelope.result.error.code, 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE');
  });

  it('a target the egress guard refuses is delivered as a recorded error, never lost', async () => {
    const accepted = (await client.scrape(
      new ScrapeConfig({ url: 'http://169.254.169.254/latest/meta-data/', webhook: 'results' }),
    )) as ScrapeResult;
    const jobUuid = (accepted.context as unknown as { job: { uuid: string } }).job.uuid;
    const delivery = await deliveryOf(receiver, jobUuid);
    const envelope = JSON.parse(delivery.body.toString('utf8'));
    assert.equal(envelope.result.success, false);
    assert.equal(envelope.result.error.code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED');
    assert.equal(delivery.headers['x-scrapfly-reject-code'], envelope.result.error.code);
    const job = await service.snapwire.services.queue.get(jobUuid);
    const log = await service.snapwire.services.logs.find(job?.project_id ?? '', accepted.uuid);
    assert.equal(log?.error_code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED');
    await waitUntil(async () => (await service.snapwire.services.queue.get(jobUuid))?.state === 'done', {
      what: 'the job done',
    });
  });

  it('a scrape over its cost_budget is refused at once, not queued', async () => {
    const jobsBefore = (await service.snapwire.store.db.selectFrom('jobs').select('id').execute()).length;
    const response = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&webhook_name=results&cost_budget=0&url=${encodeURIComponent(`${fixtures.origin}/solid`)}`,
    );
    assert.equal(response.status, 429);
    assert.equal((await response.json()).code, 'ERR::THROTTLE::MAX_API_CREDIT_BUDGET_EXCEEDED');
    const jobsAfter = (await service.snapwire.store.db.selectFrom('jobs').select('id').execute()).length;
    assert.equal(jobsAfter, jobsBefore);
  });

  it('an unknown webhook is refused at once with the SDK error naming it', async () => {
    await assert.rejects(
      client.scrape(new ScrapeConfig({ url: `${fixtures.origin}/solid`, webhook: 'nope' })),
      (error: unknown) => {
        assert.ok(error instanceof ApiHttpClientError, `got ${(error as Error).constructor.name}`);
        assert.match((error as Error).message, /ERR::WEBHOOK::NOT_FOUND.*nope/);
        return true;
      },
    );
  });

  it('extract() with webhook returns at once; {data, content_type} is delivered signed', async () => {
    // Over 64 KiB: the document is kept in the blob store, not in the job row.
    const filler = `<p>${'x'.repeat(80 * 1024)}</p>`;
    const document = `<html><body><h1>Queued <b>list</b></h1><ul><li>one</li><li>two</li></ul>${filler}</body></html>`;
    const response = await client.extract(
      new ExtractionConfig({
        body: document,
        content_type: 'text/html',
        extraction_ephemeral_template: TEMPLATE,
        webhook: 'results',
      }),
    );
    assert.equal(response.data, null, 'the data is delivered, not answered');
    const accepted = (await (
      await fetch(
        `${service.baseUrl}/extraction?key=${LIVE_KEY}&content_type=text/html&webhook_name=results&extraction_template=ephemeral:${Buffer.from(JSON.stringify(TEMPLATE)).toString('base64url')}`,
        { method: 'POST', headers: { 'content-type': 'text/html' }, body: document },
      )
    ).json()) as { job_uuid: string; log_uuid: string; webhook_name: string; webhook_enqueued: boolean };
    assert.equal(accepted.webhook_name, 'results');
    assert.equal(accepted.webhook_enqueued, true);
    const job = await service.snapwire.services.queue.get(accepted.job_uuid);
    assert.ok(job && !job.request.includes('x'.repeat(1000)), 'the large document is not in the job row');

    const delivery = await deliveryOf(receiver, accepted.job_uuid);
    assert.equal(delivery.headers['x-scrapfly-webhook-resource-type'], 'extraction');
    assert.ok(
      verifySignature(delivery.body, String(delivery.headers['x-scrapfly-webhook-signature']), secret),
    );
    assert.equal(delivery.headers['x-scrapfly-api-cost'], '1');
    assert.deepEqual(JSON.parse(delivery.body.toString('utf8')), {
      data: { title: 'Queued list', items: ['one', 'two'] },
      content_type: 'application/json',
    });
    const log = await service.snapwire.services.logs.find(job?.project_id ?? '', accepted.log_uuid);
    assert.equal(log?.kind, 'extraction');
    assert.equal(log?.http_status, 200);
    assert.equal(log?.cost, 1);
  });

  it('a failing extraction is delivered as the error body and logged', async () => {
    const accepted = (await (
      await fetch(
        `${service.baseUrl}/extraction?key=${LIVE_KEY}&content_type=text/html&webhook_name=results&extraction_template=ephemeral:${Buffer.from(JSON.stringify(TEMPLATE)).toString('base64url')}`,
        // Labelled gzip but not gzip: the decoding happens when the job runs.
        {
          method: 'POST',
          headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' },
          body: 'plain',
        },
      )
    ).json()) as { job_uuid: string; log_uuid: string };
    const delivery = await deliveryOf(receiver, accepted.job_uuid);
    const body = JSON.parse(delivery.body.toString('utf8'));
    assert.match(body.code, /^ERR::EXTRACTION::/);
    assert.equal(body.error_id, accepted.log_uuid);
    assert.equal(delivery.headers['x-scrapfly-reject-code'], body.code);
    const job = await service.snapwire.services.queue.get(accepted.job_uuid);
    const log = await service.snapwire.services.logs.find(job?.project_id ?? '', accepted.log_uuid);
    assert.equal(log?.error_code, body.code);
    assert.equal(log?.cost, 0, 'a failed extraction is not billed');
  });
});
