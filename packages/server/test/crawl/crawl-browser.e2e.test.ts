import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Crawl, CrawlerConfig, ScrapflyClient } from 'scrapfly-sdk';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startSmallSite } from './small-site.js';

/** Browser crawls: rendering_delay (Scrapfly's form) or render_js renders each page in Chromium. */
describe('Browser crawls: pages rendered by Chromium, links a script wrote followed', () => {
  let service: TestService;
  let site: Awaited<ReturnType<typeof startSmallSite>>;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSmallSite();
    service = await startService({}, { 'site.test': '127.0.0.1' });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await site?.close();
  });

  const visitedFrom = async (options: { rendering_delay?: number }) => {
    const crawl = new Crawl(
      client,
      new CrawlerConfig({
        url: `${site.origin}/js`,
        respect_robots_txt: false,
        content_formats: ['html'],
        ...options,
      }),
    );
    await crawl.start();
    await crawl.wait({ pollInterval: 0.1, maxWait: 90 });
    const { urls } = await client.crawlUrls(crawl.uuid!, { status: 'visited', page: 1, per_page: 100 });
    return { crawl, paths: urls.map((entry) => new URL(entry.url).pathname).sort() };
  };

  it('finds the link only a script adds, and stores the DOM after the scripts ran', async () => {
    const plain = await visitedFrom({});
    assert.deepEqual(plain.paths, ['/js'], 'without a browser the scripted link is not there');

    const rendered = await visitedFrom({ rendering_delay: 200 });
    assert.deepEqual(rendered.paths, ['/js', '/js-only']);
    const html = await fetch(
      `${service.baseUrl}/crawl/${rendered.crawl.uuid!}/contents?key=${LIVE_KEY}&plain=true&format=html&url=${encodeURIComponent(`${site.origin}/js`)}`,
    );
    assert.equal(html.status, 200);
    assert.match(await html.text(), /<a href="\/js-only">found by a browser<\/a>/);
    const status = await rendered.crawl.status();
    assert.equal(status.state.api_credit_used, 12, 'two pages at a rendered scrape price (1 + 5) each');
  });

  it('render_js asks for a browser without a delay', async () => {
    const response = await fetch(`${service.baseUrl}/crawl?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${site.origin}/js`, render_js: true, respect_robots_txt: false }),
    });
    assert.equal(response.status, 200);
    const { crawler_uuid: uuid } = (await response.json()) as { crawler_uuid: string };
    await waitUntil(async () => (await client.crawlStatus(uuid)).is_finished, {
      timeoutMs: 60_000,
      what: 'the render_js crawl finished',
    });
    const { urls } = await client.crawlUrls(uuid, { status: 'visited', page: 1, per_page: 100 });
    assert.deepEqual(urls.map((entry) => new URL(entry.url).pathname).sort(), ['/js', '/js-only']);
  });
});
