import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Crawl, CrawlerConfig, errors, ScrapflyClient, type CrawlerConfigOptions } from 'scrapfly-sdk';
import { WARCParser } from 'warcio';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { ORPHANS, PAGES, SECTIONS, startSite, type Site } from './site.js';

/**
 * The Crawler API with Scrapfly's official TypeScript SDK, unmodified (only the host changes): client.crawl,
 * the Crawl helper (start, wait, read), crawlStatus, crawlUrls, crawlContents and crawlCancel, against a
 * generated site of a few hundred pages with a robots.txt, a sitemap and an infinite calendar.
 */
describe('Crawler API through the official TypeScript SDK (scrapfly-sdk)', () => {
  let service: TestService;
  let site: Site;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSite();
    service = await startService(
      {},
      { 'site.test': '127.0.0.1', 'other.test': '127.0.0.1' },
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await site?.close();
  });

  const crawlOf = async (options: Omit<CrawlerConfigOptions, 'url'>, path = '/') => {
    const crawl = new Crawl(client, new CrawlerConfig({ url: `${site.origin}${path}`, ...options }));
    await crawl.start();
    await crawl.wait({ pollInterval: 0.1, maxWait: 120 });
    return crawl;
  };
  /** Every URL of a status, read page by page as the SDK documents (until an empty page). */
  const allUrls = async (uuid: string, status: 'visited' | 'failed' | 'skipped' | 'pending') => {
    const entries: Array<{ url: string; reason?: string }> = [];
    for (let page = 1; ; page += 1) {
      const { urls } = await client.crawlUrls(uuid, { status, page, per_page: 100 });
      if (urls.length === 0) return entries;
      entries.push(...urls);
    }
  };
  const visitedPaths = async (uuid: string) =>
    (await allUrls(uuid, 'visited')).map((entry) => entry.url.replace(site.origin, '')).sort();

  it('crawls the whole site once: every linked page, robots.txt obeyed, the calendar trap bounded by max_depth', async () => {
    site.hits.clear();
    const crawl = await crawlOf({
      max_depth: 3,
      max_concurrency: 8,
      content_formats: ['markdown', 'html', 'page_metadata'],
    });
    const status = await crawl.status();
    assert.equal(status.status, 'DONE');
    assert.equal(status.is_finished, true);
    assert.equal(status.is_success, true);
    assert.equal(status.state.stop_reason, 'no_more_urls');
    // Home, sections, pages, and the calendar to depth 3 (2026-01; 2025-12, 2026-02; 2025-11, 2026-03).
    const expected = [
      ...site.linkedPages(),
      ...['2026-01', '2025-12', '2026-02', '2025-11', '2026-03'].map((m) => `${site.origin}/calendar/${m}`),
    ];
    assert.equal(status.state.urls_visited, expected.length);
    assert.equal(status.state.urls_failed, 0);
    assert.equal(status.state.urls_to_crawl, 0);
    assert.equal(status.state.api_credit_used, expected.length, 'one credit a page');
    assert.ok(status.state.start_time !== null && status.state.stop_time !== null);
    assert.equal(status.state.urls_extracted, status.state.urls_visited + status.state.urls_skipped);

    const visited = (await allUrls(crawl.uuid!, 'visited')).map((entry) => entry.url).sort();
    assert.deepEqual(visited, [...expected].sort(), 'the site as linked, each page listed once');
    for (const url of expected) {
      assert.equal(site.hits.get(new URL(url).pathname), 1, `${url} fetched exactly once`);
    }
    assert.equal(site.hits.get('/private/secret'), undefined, 'robots.txt Disallow: /private/ kept');
    assert.equal(site.hits.get('/nofollow-target'), undefined, 'rel=nofollow not followed');
    assert.equal(site.hits.get('/robots.txt'), 1);

    const skipped = await allUrls(crawl.uuid!, 'skipped');
    assert.deepEqual(
      skipped.find((entry) => entry.url === `${site.origin}/private/secret`),
      { url: `${site.origin}/private/secret`, status: 'skipped', reason: 'robots_txt' },
    );
    assert.ok(
      skipped.some(
        (entry) => entry.url === `${site.origin}/calendar/2026-04` && entry.reason === 'max_depth',
      ),
    );
    assert.ok(
      skipped.every((entry) => !entry.url.includes('other.test')),
      'another site is not recorded',
    );

    const markdown = await crawl.read(`${site.origin}/section/3/page/7`, 'markdown');
    assert.match(markdown ?? '', /^# Section 3 page 7/);
    assert.match(markdown ?? '', /Text of page 7 in section 3\./);
    const html = await crawl.read(`${site.origin}/section/3/page/7#anything`, 'html');
    assert.match(html ?? '', /<title>Section 3 page 7<\/title>/, 'a fragment names the same page');
    const metadata = JSON.parse((await crawl.read(`${site.origin}/section/3/`, 'page_metadata')) ?? '{}');
    assert.equal(metadata.title, 'Section 3');
    assert.equal(metadata.description, 'About Section 3');
    assert.equal(metadata.status_code, 200);
    assert.equal(await crawl.read(`${site.origin}/private/secret`, 'markdown'), null, 'not visited: null');
    await assert.rejects(crawl.read(`${site.origin}/`, 'text'), (error: unknown) => {
      assert.ok(error instanceof errors.ScrapflyCrawlerError);
      assert.match(error.message, /stored markdown, html, page_metadata, not text/);
      return true;
    });

    const batch = await crawl.readBatch(
      [`${site.origin}/section/1/page/2`, `${site.origin}/section/2/`, `${site.origin}/private/secret`],
      ['markdown', 'html'],
    );
    assert.deepEqual(Object.keys(batch).sort(), [
      `${site.origin}/section/1/page/2`,
      `${site.origin}/section/2/`,
    ]);
    assert.match(batch[`${site.origin}/section/2/`]?.markdown ?? '', /^# Section 2/);
    assert.match(batch[`${site.origin}/section/1/page/2`]?.html ?? '', /<title>Section 1 page 2<\/title>/);

    const first = await client.crawlContents(crawl.uuid!, { format: 'markdown', limit: 5 });
    assert.ok(typeof first !== 'string');
    assert.equal(Object.keys(first.contents).length, 5);
    assert.ok(Object.values(first.contents).every((formats) => typeof formats.markdown === 'string'));
    assert.ok(first.links.next, 'a next page link');
    const second = await client.crawlContents(crawl.uuid!, { format: 'markdown', limit: 5, offset: 5 });
    assert.ok(typeof second !== 'string');
    assert.equal(
      Object.keys(second.contents).filter((url) => url in first.contents).length,
      0,
      'pages do not overlap',
    );
  });

  it('keeps to include_only_paths, exclude_paths, page_limit and the base path', async () => {
    const only = await crawlOf({ include_only_paths: ['/section/2/*'] });
    assert.deepEqual(
      await visitedPaths(only.uuid!),
      ['/', '/section/2/', ...Array.from({ length: PAGES }, (_, p) => `/section/2/page/${p}`)].sort(),
    );
    const onlySkipped = await allUrls(only.uuid!, 'skipped');
    assert.ok(
      onlySkipped.some(
        (entry) => entry.url === `${site.origin}/section/5/` && entry.reason === 'include_only_paths',
      ),
    );

    const excluded = await crawlOf({ exclude_paths: ['/section/*/page/*', '/calendar/*'] });
    assert.deepEqual(
      await visitedPaths(excluded.uuid!),
      ['/', ...Array.from({ length: SECTIONS }, (_, s) => `/section/${s}/`)].sort(),
    );

    const limited = await crawlOf({ page_limit: 20, max_concurrency: 6 });
    const status = await limited.status();
    assert.equal(status.state.stop_reason, 'page_limit');
    assert.equal(status.is_success, true);
    assert.equal(status.state.urls_visited, 20, 'exactly page_limit pages');
    assert.equal(status.state.urls_to_crawl, 0);
    assert.ok((await allUrls(limited.uuid!, 'skipped')).some((entry) => entry.reason === 'page_limit'));

    const underBase = await crawlOf({}, '/section/4/');
    assert.deepEqual(
      await visitedPaths(underBase.uuid!),
      ['/section/4/', ...Array.from({ length: PAGES }, (_, p) => `/section/4/page/${p}`)].sort(),
      'only the seed folder',
    );
  });

  it('follows external links only to allowed domains, reads sitemaps, and can ignore robots.txt', async () => {
    site.hits.clear();
    const external = await crawlOf({
      exclude_paths: ['/section/*', '/calendar/*'],
      follow_external_links: true,
      allowed_external_domains: ['other.test'],
    });
    const visited = (await allUrls(external.uuid!, 'visited')).map((entry) => entry.url).sort();
    assert.deepEqual(visited, [`http://other.test:${site.port}/`, `${site.origin}/`].sort());

    const mapped = await crawlOf({ exclude_paths: ['/section/*', '/calendar/*'], use_sitemaps: true });
    assert.deepEqual(
      await visitedPaths(mapped.uuid!),
      ['/', ...Array.from({ length: ORPHANS }, (_, n) => `/orphan/${n}`)].sort(),
      'pages only the sitemap names; the index listing itself is read once',
    );

    const rude = await crawlOf({ include_only_paths: ['/private/*'], respect_robots_txt: false });
    assert.deepEqual(await visitedPaths(rude.uuid!), ['/', '/private/secret']);
  });

  it('ends a crawl whose seed fails with seed_url_failed (Crawl.wait raises it)', async () => {
    const crawl = new Crawl(client, new CrawlerConfig({ url: `${site.origin}/no-such-page` }));
    await crawl.start();
    await assert.rejects(crawl.wait({ pollInterval: 0.1, maxWait: 30 }), (error: unknown) => {
      assert.ok(error instanceof errors.ScrapflyCrawlerError);
      assert.match(error.message, /seed_url_failed/);
      return true;
    });
    const status = await crawl.status();
    assert.equal(status.status, 'DONE');
    assert.equal(status.is_success, false);
    const [failed] = (await client.crawlUrls(crawl.uuid!, { status: 'failed' })).urls;
    assert.deepEqual(failed, {
      url: `${site.origin}/no-such-page`,
      status: 'failed',
      reason: 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE',
    });
  });

  it('cancels a running crawl (POST .../cancel and DELETE, both idempotent)', async () => {
    const slow = await startSite('site.test', { slowMs: 150 });
    try {
      const crawl = new Crawl(client, new CrawlerConfig({ url: `${slow.origin}/`, max_concurrency: 1 }));
      await crawl.start();
      await waitUntil(async () => (await crawl.status()).state.urls_visited >= 2, {
        what: 'two pages visited',
      });
      assert.equal(await crawl.cancel(), true);
      await crawl.wait({ pollInterval: 0.1, maxWait: 10, allowCancelled: true });
      const status = await crawl.status();
      assert.equal(status.status, 'CANCELLED');
      assert.equal(status.is_finished, true);
      assert.equal(status.state.stop_reason, 'user_cancelled');
      assert.equal(status.state.urls_to_crawl, 0);
      const visitedAtCancel = status.state.urls_visited;
      assert.ok(visitedAtCancel < 20, `stopped early (${visitedAtCancel} pages)`);
      assert.equal(await client.crawlCancel(crawl.uuid!), true, 'again: still success');
      // The Python SDK cancels with DELETE /crawl/{uuid}.
      const deleted = await fetch(`${service.baseUrl}/crawl/${crawl.uuid}?key=${LIVE_KEY}`, {
        method: 'DELETE',
      });
      assert.equal(deleted.status, 200);
      assert.equal((await crawl.status()).state.urls_visited, visitedAtCancel, 'no page after the cancel');
    } finally {
      await slow.close();
    }
  });

  it("answers another environment's or an unknown crawl with 404 ERR::CRAWLER::NOT_FOUND", async () => {
    const { crawler_uuid } = await client.crawl(
      new CrawlerConfig({ url: `${site.origin}/section/1/page/1`, page_limit: 1 }),
    );
    const testClient = new ScrapflyClient({ key: TEST_KEY, host: service.baseUrl });
    for (const [who, uuid] of [
      [testClient, crawler_uuid],
      [client, '00000000-0000-0000-0000-000000000000'],
    ] as const) {
      await assert.rejects(who.crawlStatus(uuid), (error: unknown) => {
        assert.ok(error instanceof errors.ScrapflyCrawlerError);
        assert.equal((error.args as { http_status_code?: number }).http_status_code, 404);
        assert.equal((error.args as { code?: string }).code, 'ERR::CRAWLER::NOT_FOUND');
        return true;
      });
    }
  });

  it('refuses bad configurations with ERR::CRAWLER::CONFIG_ERROR, saying what to fix', async () => {
    const post = (body: unknown) =>
      fetch(`${service.baseUrl}/crawl?key=${LIVE_KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const cases: Array<[unknown, RegExp]> = [
      [
        { url: `${site.origin}/`, exclude_paths: ['/a/*'], include_only_paths: ['/b/*'] },
        /cannot be used together/,
      ],
      [{ url: `${site.origin}/`, max_duration: 5 }, /max_duration/],
      [{ url: `${site.origin}/`, max_concurrency: 500 }, /max_concurrency/],
      [{ url: `${site.origin}/`, page_limit: -1 }, /page_limit/],
      [{ url: 'ftp://site.test/' }, /url: must be an absolute http/],
      [{ url: 'not a url' }, /url: must be an absolute http/],
      [{ page_limit: 3 }, /exactly one of url or url_list/],
      [{ url: `${site.origin}/`, exclude_paths: ['blog/*'] }, /must start with \//],
      [{ url: `${site.origin}/`, pages: 3 }, /Unknown parameter\(s\) pages/],
      ['{not json', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      const answer = (await response.json()) as { code: string; message: string };
      assert.equal(response.status, 400, JSON.stringify(answer));
      assert.equal(answer.code, 'ERR::CRAWLER::CONFIG_ERROR');
      assert.match(answer.message, message);
    }
    const notServed = await post({ url: `${site.origin}/`, asp: true });
    assert.equal(notServed.status, 400);
    assert.equal(((await notServed.json()) as { code: string }).code, 'ERR::CRAWLER::FEATURE_NOT_SERVED');
  });

  it('hands out the WARC artifact (gzip WARC 1.1, read back by warcio) and the HAR 1.2 file of every page', async () => {
    const crawl = await crawlOf({ exclude_paths: ['/section/*/page/*', '/calendar/*'] });
    const artifact = await crawl.warc();
    assert.equal(artifact.type, 'warc');
    assert.deepEqual([...artifact.data.subarray(0, 2)], [0x1f, 0x8b], 'gzip');
    const records: Array<{
      type: string;
      uri: string | null | undefined;
      status?: number;
      text?: string;
      concurrentTo?: string[];
    }> = [];
    for await (const record of WARCParser.iterRecords([artifact.data])) {
      assert.equal(record.warcHeaders.statusline, 'WARC/1.1');
      records.push({
        type: record.warcType,
        uri: record.warcTargetURI,
        status: record.httpHeaders ? Number(record.httpHeaders.statusCode) : undefined,
        text: record.warcType === 'response' ? await record.contentText() : undefined,
        concurrentTo: record.warcConcurrentTo,
      });
    }
    assert.equal(records[0]?.type, 'warcinfo');
    const pages = ['/', ...Array.from({ length: SECTIONS }, (_, s) => `/section/${s}/`)].map(
      (p) => `${site.origin}${p}`,
    );
    const responses = records.filter((record) => record.type === 'response');
    assert.deepEqual(responses.map((record) => record.uri).sort(), [...pages].sort(), 'one response a page');
    assert.ok(responses.every((record) => record.status === 200));
    assert.match(
      responses.find((record) => record.uri === `${site.origin}/section/6/`)?.text ?? '',
      /<h1>Section 6<\/h1>/,
    );
    assert.equal(records.filter((record) => record.type === 'request').length, pages.length);
    const har = JSON.parse(new TextDecoder().decode((await crawl.har()).data)) as {
      log: {
        version: string;
        entries: Array<{
          request: { url: string };
          response: { status: number; content: { text?: string } };
        }>;
      };
    };
    assert.equal(har.log.version, '1.2');
    assert.deepEqual(har.log.entries.map((entry) => entry.request.url).sort(), [...pages].sort());
    assert.ok(har.log.entries.every((entry) => entry.response.status === 200));
    const six = har.log.entries.find((entry) => entry.request.url === `${site.origin}/section/6/`);
    assert.match(six?.response.content.text ?? '', /<h1>Section 6<\/h1>/);
  });

  it("accepts the SDK's multipart url_list: those URLs only, no discovery", async () => {
    const list = [`${site.origin}/section/7/page/1`, `${site.origin}/section/8/page/2`];
    const crawl = new Crawl(client, new CrawlerConfig({ url_list: list }));
    await crawl.start();
    await crawl.wait({ pollInterval: 0.1, maxWait: 30 });
    assert.deepEqual((await allUrls(crawl.uuid!, 'visited')).map((entry) => entry.url).sort(), list);
  });
});
