import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Crawl, CrawlerConfig, ScrapflyClient } from 'scrapfly-sdk';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

/**
 * What a hostile or broken site does to a crawl, each bounded and reported: a robots.txt of 1 MB (read to
 * 500 KiB), one that is not text, a page over the body limit, a redirect out of scope. And the Python SDK's
 * forms (url_list in the JSON body, `format=` for contents, DELETE to cancel), sent as its source sends them.
 */
describe('Crawler API: bad sites and the Python SDK forms', () => {
  let service: TestService;
  let client: ScrapflyClient;
  let server: http.Server;
  let origin: string;
  let port: number;
  const hits = new Map<string, number>();

  before(async () => {
    server = http.createServer((req, res) => {
      const host = (req.headers.host ?? '').split(':')[0];
      const path = req.url ?? '/';
      hits.set(`${host}${path}`, (hits.get(`${host}${path}`) ?? 0) + 1);
      const html = (body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(body);
      if (host === 'slow.test' && path === '/robots.txt') return; // never answers
      if (host === 'garbled.test') {
        if (path === '/robots.txt') return res.writeHead(200).end(Buffer.from([0, 255, 1, 254, 10, 0, 0]));
        return html('<title>g</title><a href="/blocked/1">b</a>');
      }
      if (path === '/robots.txt') {
        // The rule first, then 1 MB of comments: read to 500 KiB, the rule holds.
        return res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(`User-agent: *\nDisallow: /blocked/\n${'# filler\n'.repeat(120_000)}`);
      }
      if (path === '/') {
        return html(
          '<title>home</title><a href="/blocked/1">b</a><a href="/huge">huge</a><a href="/go-away">away</a><a href="/fine">fine</a>',
        );
      }
      if (path === '/huge')
        return res.writeHead(200, { 'content-type': 'text/html' }).end('x'.repeat(3 * 1024 * 1024));
      if (path === '/go-away')
        return res.writeHead(302, { location: `http://elsewhere.test:${port}/` }).end();
      return html(`<title>${path}</title>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    origin = `http://site.test:${port}`;
    service = await startService(
      { SNAPWIRE_SCRAPE_MAX_BODY_BYTES: String(1024 * 1024) },
      {
        'site.test': '127.0.0.1',
        'garbled.test': '127.0.0.1',
        'elsewhere.test': '127.0.0.1',
        'slow.test': '127.0.0.1',
      },
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const run = async (config: ConstructorParameters<typeof CrawlerConfig>[0]) => {
    const crawl = new Crawl(client, new CrawlerConfig(config));
    await crawl.start();
    await crawl.wait({ pollInterval: 0.1, maxWait: 60 });
    return crawl;
  };
  const lines = async (uuid: string, status: 'visited' | 'failed' | 'skipped') =>
    (await client.crawlUrls(uuid, { status, per_page: 1000 })).urls.map((entry) =>
      entry.reason ? `${entry.url},${entry.reason}` : entry.url,
    );

  it('reads a 1 MB robots.txt to 500 KiB, fails a page over the body limit and a redirect out of scope', async () => {
    const crawl = await run({ url: `${origin}/` });
    assert.deepEqual((await lines(crawl.uuid!, 'visited')).sort(), [`${origin}/`, `${origin}/fine`]);
    assert.deepEqual((await lines(crawl.uuid!, 'failed')).sort(), [
      `${origin}/go-away,redirect_out_of_scope`,
      `${origin}/huge,ERR::SCRAPE::UPSTREAM_RESPONSE_TOO_LARGE`,
    ]);
    assert.deepEqual(await lines(crawl.uuid!, 'skipped'), [`${origin}/blocked/1,robots_txt`]);
    assert.equal(hits.get('site.test/blocked/1'), undefined);
    const status = await crawl.status();
    assert.equal(status.state.stop_reason, 'no_more_urls');
    assert.equal(status.is_success, true, 'failed pages do not fail the crawl');
  });

  it('treats a robots.txt that is not text as allowing everything', async () => {
    const crawl = await run({ url: `http://garbled.test:${port}/` });
    assert.deepEqual((await lines(crawl.uuid!, 'visited')).sort(), [
      `http://garbled.test:${port}/`,
      `http://garbled.test:${port}/blocked/1`,
    ]);
  });

  it('a robots.txt that never answers holds back its own crawl only, which then goes on with all allowed', async () => {
    const slow = await client.crawl(new CrawlerConfig({ url: `http://slow.test:${port}/fine` }));
    const started = Date.now();
    const quick = await run({ url: `${origin}/fine` });
    assert.equal((await quick.status()).state.urls_visited, 1);
    assert.ok(Date.now() - started < 8_000, 'not held behind the slow robots.txt');
    assert.equal(
      (await client.crawlStatus(slow.crawler_uuid)).state.urls_visited,
      0,
      'still reading robots.txt',
    );
    await waitUntil(async () => (await client.crawlStatus(slow.crawler_uuid)).is_finished, {
      timeoutMs: 30_000,
      what: 'the crawl behind the slow robots.txt to finish',
    });
    const status = await client.crawlStatus(slow.crawler_uuid);
    assert.equal(status.state.stop_reason, 'no_more_urls');
    assert.equal(status.state.urls_visited, 1);
  });

  it("takes the Python SDK's url_list in the JSON body, format= for contents, and DELETE to cancel", async () => {
    // As client.py start_crawl sends it: requests' json= body, the key in the query.
    const started = await fetch(`${service.baseUrl}/crawl?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'ScrapflySDK/0.10.5 (Python 3.11.7, Linux, x86_64)',
      },
      body: JSON.stringify({ url_list: [`${origin}/fine`, `${origin}/`], content_formats: ['markdown'] }),
    });
    assert.equal(started.status, 200);
    const { crawler_uuid: uuid, status } = (await started.json()) as { crawler_uuid: string; status: string };
    assert.equal(status, 'PENDING', 'the Python SDK requires status');
    const finished = async () => (await client.crawlStatus(uuid)).is_finished;
    await waitUntil(finished, { timeoutMs: 30_000, what: 'the url_list crawl to finish' });
    // get_crawl_contents(uuid, format='markdown'): {contents: {url: {format: content}}}.
    const contents = await fetch(`${service.baseUrl}/crawl/${uuid}/contents?key=${LIVE_KEY}&format=markdown`);
    assert.equal(contents.status, 200);
    const body = (await contents.json()) as { contents: Record<string, { markdown: string }>; links: object };
    assert.deepEqual(
      Object.keys(body.contents).sort(),
      [`${origin}/`, `${origin}/fine`],
      'the list only, no discovery',
    );
    assert.equal(typeof body.contents[`${origin}/fine`]?.markdown, 'string');
    // cancel_crawl: DELETE /crawl/{uuid}, 200 or 204 is success; an ended crawl stays as it ended.
    const cancelled = await fetch(`${service.baseUrl}/crawl/${uuid}?key=${LIVE_KEY}`, { method: 'DELETE' });
    assert.equal(cancelled.status, 200);
    assert.equal((await client.crawlStatus(uuid)).status, 'DONE');
  });
});
