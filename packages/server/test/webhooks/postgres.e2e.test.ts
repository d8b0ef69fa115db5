import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifySignature as officialVerify } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { decode } from '../helpers/images.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, screenshot, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

/**
 * The whole service on PostgreSQL (DATABASE_URL), as a fleet runs it: two Snapwire processes' worth of
 * services share one database; each accepted job is delivered once by one of them.
 */
describe('the service on PostgreSQL: two instances share one queue', () => {
  let first: TestService;
  let second: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({ host: '127.0.0.2' });
    receiver = await startReceiver('127.0.0.2');
    const env = { SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32', SNAPWIRE_QUEUE_POLL: '100ms' };
    first = await startService(env, {}, { postgres: true });
    // The second instance joins the first one's schema: same projects, webhooks and job table.
    // With the local blob store, the two share the data folder, as a fleet on one machine does.
    second = await startService(env, {}, { shareSchema: first.schema, dataDir: first.dataDir });
  });
  after(async () => {
    await second?.close();
    await first?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('runs migrations, accepts, captures and delivers on PostgreSQL', async () => {
    assert.equal(first.snapwire.store.dialect, 'postgres');
    const created = await fetch(`${first.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pg', url: receiver.url }),
    });
    assert.equal(created.status, 201);
    const { secret } = await created.json();
    const accepted = [];
    for (let i = 0; i < 6; i += 1) {
      // Accepted by either instance; captured and delivered by whichever worker claims the job first.
      const response = await screenshot(i % 2 === 0 ? first.baseUrl : second.baseUrl, {
        url: `${fixtures.origin}/solid`,
        format: 'png',
        resolution: '320x240',
        rendering_wait: '0',
        webhook_name: 'pg',
      });
      assert.equal(response.status, 201);
      accepted.push((await response.json()).job_uuid as string);
    }
    await receiver.waitFor(7, 60_000);
    const deliveries = receiver.received.filter(
      (r) => r.headers['x-scrapfly-webhook-resource-type'] === 'screenshot',
    );
    assert.deepEqual(
      deliveries.map((d) => d.headers['x-scrapfly-webhook-job-id']).sort(),
      [...accepted].sort(),
      'each job delivered exactly once',
    );
    // Attempt rows commit just after the receiver answers: wait for all jobs to end, then count.
    const db = first.snapwire.store.db;
    await waitUntil(
      async () =>
        (await db.selectFrom('jobs').select('id').where('state', '!=', 'done').execute()).length === 0,
      { intervalMs: 50, what: 'all jobs done' },
    );
    const attempts = await db.selectFrom('webhook_attempts').select('job_id').execute();
    assert.equal(
      attempts.length,
      7,
      'one attempt per job (6 screenshots + the ping), whichever instance made it',
    );
    for (const delivery of deliveries) {
      assert.ok(
        officialVerify(delivery.body, String(delivery.headers['x-scrapfly-webhook-signature']), secret),
        'signature verifies',
      );
      const image = await decode(delivery.body);
      assert.deepEqual([image.width, image.height], [320, 240]);
    }
  });

  it('answers the synchronous API from PostgreSQL too', async () => {
    const response = await screenshot(first.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
    });
    assert.equal(response.status, 200);
    const account = await (await fetch(`${first.baseUrl}/account?key=${LIVE_KEY}`)).json();
    assert.ok(
      account.subscription.usage.scrape.current >= 7 * 60,
      `credits counted: ${account.subscription.usage.scrape.current}`,
    );
  });
});
