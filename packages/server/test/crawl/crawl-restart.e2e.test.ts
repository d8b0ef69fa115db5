import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CrawlerConfig, parseCrawlerWebhook, ScrapflyClient } from 'scrapfly-sdk';
import { createWebhook } from '../helpers/async-jobs.js';
import { startReceiver } from '../helpers/receiver.js';
import { freePort, Node } from '../fleet/support.js';
import { LIVE_KEY, startService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startSite, type Site } from './site.js';

/**
 * A crawl lives in the store, not in a process: one started on a node that stops (closed, or killed with
 * SIGKILL mid-page) is finished by the next node on the same data, with every page stored exactly once.
 */
describe('a crawl outlives its node', () => {
  const sites: Site[] = [];
  after(async () => {
    for (const site of sites) await site.close();
  });

  const allVisited = async (client: ScrapflyClient, uuid: string) => {
    const urls: string[] = [];
    for (let page = 1; ; page += 1) {
      const { urls: entries } = await client.crawlUrls(uuid, { status: 'visited', page, per_page: 100 });
      if (entries.length === 0) return urls;
      urls.push(...entries.map((entry) => entry.url));
    }
  };
  const config = (site: Site) =>
    new CrawlerConfig({
      url: `${site.origin}/`,
      exclude_paths: ['/calendar/*'],
      max_concurrency: 4,
      content_formats: ['text'],
    });

  it('a service closed mid-crawl: a second service on the same data folder finishes it', async () => {
    const site = await startSite('site.test', { slowMs: 20 });
    sites.push(site);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-crawl-restart-'));
    const names = { 'site.test': '127.0.0.1' };
    try {
      const first = await startService({}, names, { browsers: false, dataDir });
      const client = new ScrapflyClient({ key: LIVE_KEY, host: first.baseUrl });
      const { crawler_uuid: uuid } = await client.crawl(config(site));
      await waitUntil(async () => (await client.crawlStatus(uuid)).state.urls_visited >= 40, {
        timeoutMs: 30_000,
        what: '40 pages visited',
      });
      await first.close();
      const stoppedAt = site.hits.size;
      assert.ok(stoppedAt < site.linkedPages().length, `closed mid-crawl (${stoppedAt} paths fetched)`);

      const second = await startService({}, names, { browsers: false, dataDir });
      try {
        const again = new ScrapflyClient({ key: LIVE_KEY, host: second.baseUrl });
        const status = await waitUntil(
          async () => {
            const current = await again.crawlStatus(uuid);
            return current.is_finished ? current : undefined;
          },
          { timeoutMs: 60_000, what: 'the crawl finished by the second service' },
        );
        assert.equal(status.status, 'DONE');
        assert.equal(status.state.stop_reason, 'no_more_urls');
        const visited = await allVisited(again, uuid);
        assert.equal(new Set(visited).size, visited.length, 'each page listed once');
        assert.deepEqual(visited.sort(), site.linkedPages().sort(), 'every page');
        for (const url of site.linkedPages()) {
          assert.equal(site.hits.get(new URL(url).pathname), 1, `${url} fetched once over both services`);
        }
        assert.equal(status.state.api_credit_used, visited.length, 'billed once a page');
        assert.match(
          (await again.crawlContents(uuid, {
            format: 'text',
            url: `${site.origin}/section/9/page/29`,
            plain: true,
          })) as string,
          /Text of page 29 in section 9/,
        );
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('two services on one PostgreSQL share one crawl: every page once, max_concurrency held across both', async () => {
    const site = await startSite('site.test', { slowMs: 30 });
    sites.push(site);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-crawl-fleet-'));
    const names = { 'site.test': '127.0.0.1' };
    // A fleet on the local blob store shares its data folder (docs/deploy.md).
    const first = await startService({}, names, { browsers: false, dataDir, postgres: true });
    const second = await startService({}, names, { browsers: false, dataDir, shareSchema: first.schema! });
    try {
      const client = new ScrapflyClient({ key: LIVE_KEY, host: first.baseUrl });
      const other = new ScrapflyClient({ key: LIVE_KEY, host: second.baseUrl });
      const { crawler_uuid: uuid } = await client.crawl(config(site));
      const status = await waitUntil(
        async () => {
          const current = await other.crawlStatus(uuid);
          return current.is_finished ? current : undefined;
        },
        { timeoutMs: 60_000, what: 'the shared crawl to finish' },
      );
      assert.equal(status.state.stop_reason, 'no_more_urls');
      const visited = await allVisited(other, uuid);
      assert.equal(new Set(visited).size, visited.length);
      assert.deepEqual(visited.sort(), site.linkedPages().sort());
      for (const url of site.linkedPages()) {
        assert.equal(site.hits.get(new URL(url).pathname), 1, `${url} fetched once by the fleet`);
      }
      assert.ok(site.peakInFlight() <= 4, `max_concurrency 4 across both (peak ${site.peakInFlight()})`);
      assert.equal(status.state.api_credit_used, visited.length);
    } finally {
      await second.close();
      await first.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a node killed with SIGKILL mid-page: the next node takes its URLs over when their lease runs out', async () => {
    const site = await startSite('127.0.0.1', { slowMs: 150 });
    sites.push(site);
    const env = { SNAPWIRE_CRAWL_LEASE: '2s' };
    const first = new Node('crawl-a', await freePort(), env);
    const second = new Node('crawl-b', await freePort(), { ...env, SNAPWIRE_DATA_DIR: first.dataDir });
    try {
      await first.start();
      const client = new ScrapflyClient({ key: LIVE_KEY, host: first.base });
      const { crawler_uuid: uuid } = await client.crawl(config(site));
      await waitUntil(async () => (await client.crawlStatus(uuid)).state.urls_visited >= 30, {
        timeoutMs: 60_000,
        what: '30 pages visited',
      });
      await first.kill();
      await second.start();
      const again = new ScrapflyClient({ key: LIVE_KEY, host: second.base });
      const status = await waitUntil(
        async () => {
          const current = await again.crawlStatus(uuid);
          return current.is_finished ? current : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 200, what: 'the crawl finished by the second node' },
      );
      assert.equal(status.status, 'DONE');
      assert.equal(status.state.stop_reason, 'no_more_urls');
      assert.equal(status.state.urls_failed, 0, 'a page cut by the kill is fetched again, not failed');
      const visited = await allVisited(again, uuid);
      assert.equal(new Set(visited).size, visited.length, 'each page stored once');
      assert.deepEqual(visited.sort(), site.linkedPages().sort(), 'nothing lost');
      assert.equal(status.state.api_credit_used, visited.length, 'billed once a page');
      // Only pages in flight at the kill (at most max_concurrency) were fetched twice.
      const twice = site.linkedPages().filter((url) => (site.hits.get(new URL(url).pathname) ?? 0) > 1);
      assert.ok(twice.length <= 4, `fetched twice: ${twice.join(', ')}`);
    } finally {
      await first.kill();
      await second.kill();
      first.dispose();
    }
  });
  it('a page its node dies on every time fails too_many_attempts, told by crawler_url_failed', async () => {
    // The seed never answers: every node that claims it is killed while fetching it.
    let seedHits = 0;
    const hanging = http.createServer((req) => {
      if (req.url === '/') seedHits += 1;
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const seed = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`;
    const receiver = await startReceiver();
    const node = new Node('crawl-doomed', await freePort(), { SNAPWIRE_CRAWL_LEASE: '1s' });
    try {
      await node.start();
      await createWebhook(node.base, 'crawl-failures', receiver.url);
      const client = new ScrapflyClient({ key: LIVE_KEY, host: node.base });
      const { crawler_uuid: uuid } = await client.crawl(
        new CrawlerConfig({ url: seed, webhook_name: 'crawl-failures', respect_robots_txt: false }),
      );
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        await waitUntil(() => seedHits >= attempt, {
          timeoutMs: 30_000,
          what: `claim ${attempt} of the seed`,
        });
        await node.kill();
        await node.start();
      }
      // The crawl's deliveries (the webhook's creation sent a ping of its own).
      const crawlEvents = () =>
        receiver.received
          .filter((delivery) => delivery.headers['x-scrapfly-crawler-uuid'] === uuid)
          .map((delivery) => parseCrawlerWebhook(JSON.parse(delivery.body.toString('utf8'))));
      const failedEvent = await waitUntil(
        () => crawlEvents().find((webhook) => webhook.event === 'crawler_url_failed'),
        { timeoutMs: 30_000, what: 'crawler_url_failed delivered' },
      );
      assert.ok(failedEvent.event === 'crawler_url_failed');
      assert.equal(failedEvent.payload.crawler_uuid, uuid);
      assert.equal(failedEvent.payload.url, seed);
      assert.equal(failedEvent.payload.error, 'too_many_attempts');
      assert.equal(failedEvent.payload.scrape_config.url, seed);
      assert.equal(seedHits, 3, 'not fetched a fourth time');
      const status = await waitUntil(
        async () => {
          const current = await client.crawlStatus(uuid);
          return current.is_finished ? current : undefined;
        },
        { timeoutMs: 30_000, what: 'the crawl to end' },
      );
      assert.equal(status.state.urls_failed, 1);
      assert.equal(status.state.stop_reason, 'seed_url_failed');
      // Delivered at least once each (a node killed mid-delivery sends it again), in this order.
      const told = await waitUntil(
        () => {
          const events = crawlEvents().map((webhook) => webhook.event);
          return events.includes('crawler_stopped') ? events : undefined;
        },
        { timeoutMs: 30_000, what: 'crawler_stopped delivered' },
      );
      assert.deepEqual([...new Set(told)], ['crawler_started', 'crawler_url_failed', 'crawler_stopped']);
    } finally {
      await node.kill();
      node.dispose();
      await receiver.close();
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
