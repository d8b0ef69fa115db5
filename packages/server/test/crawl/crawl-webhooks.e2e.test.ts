import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CrawlerConfig, parseCrawlerWebhook, ScrapflyClient, type CrawlerWebhookPayload } from 'scrapfly-sdk';
import { createWebhook } from '../helpers/async-jobs.js';
import { startReceiver, type Received, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startSmallSite } from './small-site.js';

for (const dialect of ['sqlite', 'postgres'] as const)
  describe(`Crawler webhooks on ${dialect}: the eight crawler events, signed, in order, through the webhook queue`, () => {
    let service: TestService;
    let site: Awaited<ReturnType<typeof startSmallSite>>;
    let receiver: Receiver;
    let secret: string;
    let client: ScrapflyClient;

    before(async () => {
      site = await startSmallSite();
      receiver = await startReceiver();
      service = await startService(
        {},
        { 'site.test': '127.0.0.1' },
        { browsers: false, postgres: dialect === 'postgres' },
      );
      secret = await createWebhook(service.baseUrl, 'crawl-events', receiver.url);
      client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    });
    after(async () => {
      await service?.close();
      await receiver?.close();
      await site?.close();
    });

    /** The deliveries of one crawl, in the order they arrived, each checked for its signature. */
    const eventsOf = (uuid: string): Array<{ delivery: Received; webhook: CrawlerWebhookPayload }> =>
      receiver.received
        .filter((delivery) => delivery.headers['x-scrapfly-crawler-uuid'] === uuid)
        .map((delivery) => {
          const expected = createHmac('sha256', secret).update(delivery.body).digest('hex').toUpperCase();
          assert.equal(delivery.headers['x-scrapfly-webhook-signature'], expected, 'signed with the secret');
          assert.equal(delivery.headers['x-scrapfly-webhook-resource-type'], 'crawler');
          return { delivery, webhook: parseCrawlerWebhook(JSON.parse(delivery.body.toString('utf8'))) };
        });
    const path = (url: string) => new URL(url).pathname;

    it('tells a whole crawl: started, discovered, visited, failed, skipped, then finished, each once', async () => {
      const { crawler_uuid: uuid } = await client.crawl(
        new CrawlerConfig({
          url: `${site.origin}/`,
          webhook_name: 'crawl-events',
          content_formats: ['markdown'],
          exclude_paths: ['/private/*'],
          respect_robots_txt: false,
          max_concurrency: 1,
        }),
      );
      await waitUntil(() => eventsOf(uuid).some((e) => e.webhook.event === 'crawler_finished'), {
        timeoutMs: 30_000,
        what: 'crawler_finished delivered',
      });
      const events = eventsOf(uuid).map((e) => e.webhook);
      const names = events.map((e) => e.event);
      assert.equal(names[0], 'crawler_started');
      assert.equal(names.at(-1), 'crawler_finished');
      assert.equal(names.filter((n) => n === 'crawler_started' || n === 'crawler_finished').length, 2);
      for (const event of events) {
        assert.equal(event.payload.crawler_uuid, uuid);
        assert.equal(event.payload.env, 'LIVE');
        assert.equal(event.payload.project, 'default');
      }

      const visited = events.flatMap((e) => (e.event === 'crawler_url_visited' ? [e] : []));
      assert.deepEqual(visited.map((e) => path(e.payload.url)).sort(), ['/', '/a', '/b']);
      const pageA = visited.find((e) => path(e.payload.url) === '/a')!;
      assert.equal(pageA.payload.scrape.status_code, 200);
      assert.match(pageA.payload.scrape.content.markdown ?? '', /# Page A/);

      const failed = events.flatMap((e) => (e.event === 'crawler_url_failed' ? [e] : []));
      assert.deepEqual(
        failed.map((e) => [path(e.payload.url), e.payload.error]),
        [['/missing', 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE']],
      );
      assert.match(failed[0]!.payload.scrape_config.url as string, /\/missing$/);

      const skipped = events.flatMap((e) => (e.event === 'crawler_url_skipped' ? [e] : []));
      assert.deepEqual(
        skipped.flatMap((e) => Object.entries(e.payload.urls).map(([url, why]) => [path(url), why])),
        [['/private/x', 'exclude_paths']],
      );

      // What was found on the seed is told before the seed's own visit, and each URL is discovered once.
      const discovered = events.flatMap((e) => (e.event === 'crawler_url_discovered' ? [e] : []));
      assert.equal(discovered.length, 1, '/a links to /b again: nothing new, no event');
      assert.equal(discovered[0]!.payload.origin, 'navigation');
      assert.deepEqual(discovered[0]!.payload.discovered_urls.map(path).sort(), ['/a', '/b', '/missing']);
      const seedVisit = names.indexOf('crawler_url_visited');
      assert.ok(names.indexOf('crawler_url_discovered') < seedVisit);
      assert.equal(path(visited[0]!.payload.url), '/');

      const finished = events.at(-1)!;
      assert.ok(finished.event === 'crawler_finished');
      assert.equal(finished.payload.state.urls_visited, 3);
      assert.equal(finished.payload.state.urls_failed, 1);
      assert.equal(finished.payload.state.stop_reason, 'no_more_urls');
      assert.equal(finished.payload.seed_url, `${site.origin}/`);
      assert.ok(
        finished.payload.links.status.endsWith(`/crawl/${uuid}/status`),
        'the status link (SNAPWIRE_PUBLIC_URL)',
      );
      // The status counters only grow, event after event (the order they happened in).
      const visits = events.map((e) => e.payload.state.urls_visited);
      assert.deepEqual(
        visits,
        [...visits].sort((a, b) => a - b),
      );
    });

    it("verifies with the Python SDK's check, which signs its own re-serialization of the parsed body", async () => {
      // crawler/crawler_webhook.py, webhook_from_payload: HMAC of dumps(payload, separators=(',', ':')),
      // the payload being the body as the receiver parsed it (docs/compat.md, the Crawler API's webhooks).
      // Python's own json module does that here, on every body the crawl above delivered.
      const bodies = receiver.received
        .filter((delivery) => delivery.headers['x-scrapfly-webhook-resource-type'] === 'crawler')
        .map((delivery) => ({
          body: delivery.body.toString('base64'),
          signature: String(delivery.headers['x-scrapfly-webhook-signature']),
        }));
      assert.ok(
        bodies.some(({ body }) => Buffer.from(body, 'base64').toString('utf8').includes('\\u6771\\u4eac')),
        'a delivered event carries the non-ASCII link text (東京), escaped',
      );
      const python = `
import base64, hashlib, hmac, json, sys
secret = sys.argv[1].encode('utf-8')
for item in json.load(sys.stdin):
    payload = json.loads(base64.b64decode(item['body']))
    message = json.dumps(payload, separators=(',', ':')).encode('utf-8')
    computed = hmac.new(secret, message, hashlib.sha256).hexdigest().upper()
    print('ok' if computed == item['signature'] else 'MISMATCH ' + payload['event'])
`;
      const run = spawnSync('python3', ['-c', python, secret], {
        input: JSON.stringify(bodies),
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const verdicts = run.stdout.trim().split('\n');
      assert.equal(verdicts.length, bodies.length, 'one verdict a delivery');
      assert.deepEqual(
        verdicts.filter((verdict) => verdict !== 'ok'),
        [],
        'every event verifies as the Python SDK checks it',
      );
    });

    it('sends only the events asked for; a cancel mid-crawl ends with crawler_cancelled', async () => {
      site.hold();
      try {
        const { crawler_uuid: uuid } = await client.crawl(
          new CrawlerConfig({
            url: `${site.origin}/`,
            webhook_name: 'crawl-events',
            webhook_events: ['crawler_started', 'crawler_cancelled', 'crawler_finished'],
            respect_robots_txt: false,
          }),
        );
        await waitUntil(async () => (await client.crawlStatus(uuid)).state.urls_visited === 1, {
          timeoutMs: 20_000,
          what: 'the seed visited while the other pages are held',
        });
        await client.crawlCancel(uuid);
        await waitUntil(() => eventsOf(uuid).some((e) => e.webhook.event === 'crawler_cancelled'), {
          timeoutMs: 20_000,
          what: 'crawler_cancelled delivered',
        });
        const events = eventsOf(uuid).map((e) => e.webhook);
        assert.deepEqual(
          events.map((e) => e.event),
          ['crawler_started', 'crawler_cancelled'],
        );
        const cancelled = events[1]!;
        assert.equal(cancelled.payload.state.stop_reason, 'user_cancelled');
        assert.equal(cancelled.payload.action, 'cancelled');
      } finally {
        site.release();
      }
    });

    it('refuses an unknown event name and an unknown webhook with catalogue errors', async () => {
      const post = (body: unknown) =>
        fetch(`${service.baseUrl}/crawl?key=${LIVE_KEY}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const unknownEvent = await post({
        url: `${site.origin}/`,
        webhook_name: 'crawl-events',
        webhook_events: ['crawler_done'],
      });
      assert.equal(unknownEvent.status, 400);
      const refusal = (await unknownEvent.json()) as { code: string; message: string };
      assert.equal(refusal.code, 'ERR::CRAWLER::CONFIG_ERROR');
      assert.match(refusal.message, /unknown event "crawler_done".*crawler_url_visited/);

      const eventsAlone = await post({ url: `${site.origin}/`, webhook_events: ['crawler_started'] });
      assert.equal(eventsAlone.status, 400);
      assert.match(((await eventsAlone.json()) as { message: string }).message, /needs webhook_name/);

      const noWebhook = await post({ url: `${site.origin}/`, webhook_name: 'nobody' });
      assert.equal(noWebhook.status, 400);
      assert.equal(((await noWebhook.json()) as { code: string }).code, 'ERR::WEBHOOK::NOT_FOUND');
    });
  });
