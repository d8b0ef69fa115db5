import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Crawl, CrawlerConfig, ScrapflyClient, type CrawlerConfigOptions } from 'scrapfly-sdk';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startSmallSite } from './small-site.js';

/**
 * What each crawled page becomes besides its contents: the extraction rules' data, a monitoring log row, a
 * concurrency slot of its project while it is fetched; and a browser crawl's pages, rendered.
 */
describe('Crawled pages: extraction_rules, log rows, project concurrency', () => {
  let service: TestService;
  let site: Awaited<ReturnType<typeof startSmallSite>>;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSmallSite();
    service = await startService({}, { 'site.test': '127.0.0.1' }, { browsers: false });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await site?.close();
  });

  const post = (body: unknown) =>
    fetch(`${service.baseUrl}/crawl?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const plain = async (uuid: string, path: string, format: string) => {
    const response = await fetch(
      `${service.baseUrl}/crawl/${uuid}/contents?key=${LIVE_KEY}&plain=true&format=${format}&url=${encodeURIComponent(`${site.origin}${path}`)}`,
    );
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  };
  const crawled = async (options: Omit<CrawlerConfigOptions, 'url'>) => {
    const crawl = new Crawl(client, new CrawlerConfig({ url: `${site.origin}/`, ...options }));
    await crawl.start();
    await crawl.wait({ pollInterval: 0.1, maxWait: 60 });
    return crawl.uuid!;
  };

  it('runs the first matching rule of each page through the rules engine, as the extracted_data format', async () => {
    const titleOf = {
      selectors: [{ name: 'title', type: 'css', query: 'h1', formatters: [{ name: 'remove_html' }] }],
    };
    const uuid = await crawled({
      respect_robots_txt: false,
      content_formats: ['markdown'],
      extraction_rules: {
        '/a': { type: 'template', value: { source: 'html', ...titleOf } },
        '/*': {
          type: 'template',
          value: {
            source: 'html',
            selectors: [{ name: 'words', type: 'css', query: 'p', formatters: [{ name: 'remove_html' }] }],
          },
        },
      },
    });
    const pageA = await plain(uuid, '/a', 'extracted_data');
    assert.equal(pageA.status, 200);
    assert.match(pageA.type ?? '', /application\/json/);
    assert.deepEqual(JSON.parse(pageA.text), { title: 'Page A' });
    const pageB = await plain(uuid, '/b', 'extracted_data');
    assert.deepEqual(JSON.parse(pageB.text), { words: 'Some words about /b.' }, 'the catch-all rule, not /a');
    assert.equal((await plain(uuid, '/b', 'markdown')).status, 200, 'the formats asked for are kept');
  });

  it('refuses rules it cannot run, before the crawl starts', async () => {
    const cases: Array<[unknown, number, string, RegExp]> = [
      [
        { 'products/*': { type: 'template', value: {} } },
        400,
        'ERR::CRAWLER::CONFIG_ERROR',
        /must start with \//,
      ],
      [
        { '/*': { type: 'magic', value: 'x' } },
        400,
        'ERR::CRAWLER::CONFIG_ERROR',
        /type must be one of template/,
      ],
      [
        // This service has no language model configured (crawl-extraction-model.e2e.test.ts has one).
        { '/*': { type: 'prompt', value: 'the title' } },
        400,
        'ERR::EXTRACTION::CONFIG_ERROR',
        /SNAPWIRE_LLM_BASE_URL/,
      ],
      [
        { '/*': { type: 'model', value: 'horoscope' } },
        400,
        'ERR::CRAWLER::CONFIG_ERROR',
        /must be one of the models product, /,
      ],
      [{ '/*': { type: 'prompt', value: '  ' } }, 400, 'ERR::CRAWLER::CONFIG_ERROR', /must be the prompt/],
      [
        { '/*': { type: 'template', value: { selectors: [{ name: 'x', type: 'xpath', query: '//li[' }] } } },
        400,
        'ERR::EXTRACTION::INVALID_RULE',
        /not a valid XPath/,
      ],
      [
        { '/*': { type: 'template', value: 'no-such-template' } },
        404,
        'ERR::EXTRACTION::TEMPLATE_NOT_FOUND',
        /no-such-template/,
      ],
    ];
    for (const [rules, status, code, message] of cases) {
      const response = await post({ url: `${site.origin}/`, extraction_rules: rules });
      const answer = (await response.json()) as { code: string; message: string };
      assert.equal(answer.code, code, JSON.stringify(answer));
      assert.equal(response.status, status);
      assert.match(answer.message, message);
    }
    const alone = await post({ url: `${site.origin}/`, content_formats: ['extracted_data'] });
    assert.equal(alone.status, 400);
    assert.match(((await alone.json()) as { message: string }).message, /needs extraction_rules/);
  });

  it('writes one monitoring log row of kind crawl per page fetched, failures included', async () => {
    const uuid = await crawled({ respect_robots_txt: false, exclude_paths: ['/private/*'] });
    const response = await fetch(`${service.baseUrl}/screenshot/logs?key=${LIVE_KEY}&kind=crawl&limit=100`);
    assert.equal(response.status, 200);
    const { logs } = (await response.json()) as {
      logs: Array<{
        kind: string;
        url: string;
        status: string;
        upstream_status: number | null;
        error_code: string | null;
        cost: number;
        params: { crawler_uuid?: string };
      }>;
    };
    const ofThisCrawl = logs.filter((log) => log.params.crawler_uuid === uuid);
    const byPath = new Map(ofThisCrawl.map((log) => [new URL(log.url).pathname, log]));
    for (const path of ['/', '/a', '/b']) {
      assert.equal(byPath.get(path)?.status, 'success', path);
      assert.equal(byPath.get(path)?.kind, 'crawl');
      assert.equal(byPath.get(path)?.cost, 1);
    }
    // As a /scrape of a 404 page logs it: the call answered, the target's error in error_code.
    assert.equal(byPath.get('/missing')?.upstream_status, 404);
    assert.equal(byPath.get('/missing')?.error_code, 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE');
    assert.equal(byPath.has('/private/x'), false, 'a skipped URL is not fetched, so not logged');
    const status = await client.crawlStatus(uuid);
    const fetched = status.state.urls_visited + status.state.urls_failed;
    assert.equal(ofThisCrawl.length, fetched, 'one row per page fetched');
  });

  it("takes a project concurrency slot per page, leaving the project's last slot to its other calls", async () => {
    await service.snapwire.services.projects.update('default', { overrides: { concurrency: 3 } });
    site.hold();
    try {
      const { crawler_uuid: uuid } = await client.crawl(
        new CrawlerConfig({ url: `${site.origin}/`, respect_robots_txt: false, max_concurrency: 10 }),
      );
      // The seed is answered; its three linked pages wait at the site, each holding a slot while fetched.
      const projectId = (await service.snapwire.services.projects.findByName('default'))!.id;
      const usage = () => service.snapwire.services.concurrency.usage(`project:${projectId}`);
      await waitUntil(async () => (await usage()) === 2, { timeoutMs: 20_000, what: 'two pages in flight' });
      const scrape = await fetch(
        `${service.baseUrl}/scrape?key=${LIVE_KEY}&url=${encodeURIComponent(`${site.origin}/`)}`,
      );
      assert.equal(scrape.status, 200, 'the project still has a slot for a /scrape');
      assert.equal(await usage(), 2, 'the crawl never took the third slot');
      site.release();
      await waitUntil(async () => (await client.crawlStatus(uuid)).is_finished, {
        timeoutMs: 30_000,
        what: 'the crawl done once the site answers',
      });
      assert.equal(await usage(), 0, 'every slot given back');
      assert.equal((await client.crawlStatus(uuid)).state.urls_visited, 3);
    } finally {
      site.release();
      await service.snapwire.services.projects.update('default', { overrides: { concurrency: null } });
    }
  });
});
