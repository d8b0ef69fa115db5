import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CrawlerConfig, ScrapflyClient } from 'scrapfly-sdk';
import type { Clock } from '../../src/clock.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startSite, type Site } from './site.js';

/** max_duration on the service's injected clock, and max_api_credit, each ending the crawl with its reason. */
describe('Crawler API limits: max_duration and max_api_credit', () => {
  const clock: Clock & { offset: number } = { offset: 0, now: () => Date.now() + clock.offset };
  let service: TestService;
  let site: Site;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSite('site.test', { slowMs: 50 });
    service = await startService({}, { 'site.test': '127.0.0.1' }, { browsers: false, clock });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await site?.close();
  });

  const finished = (uuid: string) =>
    waitUntil(
      async () => {
        const status = await client.crawlStatus(uuid);
        return status.is_finished ? status : undefined;
      },
      { timeoutMs: 30_000, what: 'the crawl to end' },
    );

  it('ends a crawl past max_duration with stop_reason max_duration', async () => {
    const { crawler_uuid: uuid } = await client.crawl(
      new CrawlerConfig({ url: `${site.origin}/`, max_duration: 60, max_concurrency: 1 }),
    );
    await waitUntil(async () => (await client.crawlStatus(uuid)).state.urls_visited >= 2, {
      what: 'two pages',
    });
    clock.offset += 61_000;
    const status = await finished(uuid);
    assert.equal(status.status, 'DONE');
    assert.equal(status.state.stop_reason, 'max_duration');
    assert.equal(status.is_success, true);
    assert.ok(status.state.duration >= 60, `duration ${status.state.duration}`);
    assert.ok(status.state.urls_visited < 50, 'stopped early');
    assert.equal(status.state.urls_to_crawl, 0, 'what was left is skipped');
    const skipped = (await client.crawlUrls(uuid, { status: 'skipped', per_page: 1000 })).urls;
    assert.ok(skipped.some((entry) => entry.reason === 'max_duration'));
  });

  it('spends no more than max_api_credit, even with pages in flight at once', async () => {
    const { crawler_uuid: uuid } = await client.crawl(
      new CrawlerConfig({ url: `${site.origin}/`, max_api_credit: 7, max_concurrency: 5 }),
    );
    const status = await finished(uuid);
    assert.equal(status.state.stop_reason, 'max_api_credit');
    assert.equal(status.state.api_credit_used, 7);
    assert.equal(status.state.urls_visited, 7);
  });
});
