import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CrawlerConfig, ScrapflyClient } from 'scrapfly-sdk';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startSite, type Site } from './site.js';

/** Two crawls of one site from one project are one polite client to it (docs/compat.md §9). */
describe('Crawler API politeness per host across crawls', () => {
  let service: TestService;
  let site: Site;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSite('site.test', { slowMs: 100 });
    service = await startService({}, { 'site.test': '127.0.0.1' }, { browsers: false });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await site?.close();
  });

  it('two crawls of the same site never have more pages in flight together than max_concurrency', async () => {
    const config = () =>
      new CrawlerConfig({
        url: `${site.origin}/`,
        page_limit: 20,
        max_concurrency: 3,
        respect_robots_txt: false,
      });
    const started = await Promise.all([client.crawl(config()), client.crawl(config())]);
    for (const { crawler_uuid: uuid } of started) {
      const status = await waitUntil(
        async () => {
          const answer = await client.crawlStatus(uuid);
          return answer.is_finished ? answer : undefined;
        },
        { timeoutMs: 60_000, what: 'the crawl to end' },
      );
      assert.equal(status.state.stop_reason, 'page_limit');
      assert.equal(status.state.urls_visited, 20);
    }
    assert.ok(site.peakInFlight() <= 3, `at most 3 requests at once to the site, saw ${site.peakInFlight()}`);
    assert.equal(site.peakInFlight(), 3, 'the shared limit is used in full');
  });
});
