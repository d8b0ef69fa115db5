// Scrapes and extractions in the monitoring log (issues 21 item 9, 22 item 1): the log API filters by
// `kind` and answers it; the dashboard's logs list shows and filters it; a scrape's and an extraction's log
// page show what each API did. Real service (no browser), real HTTP, a signed-in session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseHTML } from 'linkedom';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD, signIn } from './support.js';

const ARTICLE = '<html><body><h1>Kinds</h1><p>Scraped for the log.</p></body></html>';
const routes: Record<string, Handler> = {
  '/article': (req, res) => {
    req.resume();
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'x-fixture': 'kept in the log',
        'set-cookie': 'session=s3cret-value; HttpOnly',
      })
      .end(ARTICLE);
  },
};

const PRODUCT = '<html><body><h1 class="title">Blue Widget</h1><div class="price">$12.50</div></body></html>';
const TEMPLATE = {
  source: 'html',
  selectors: [
    { name: 'title', type: 'css', query: 'h1.title::text' },
    { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
  ],
};

describe('scrapes and extractions in the monitoring log, the API and the dashboard', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let cookie = '';
  const uuids = { scrape: '', post: '', upstream404: '', extraction: '' };

  const scrape = async (params: Record<string, string>, init: RequestInit = {}) => {
    const response = await fetch(
      `${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, ...params }).toString()}`,
      init,
    );
    const body = (await response.json()) as { uuid: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    return body.uuid;
  };
  const page = async (path: string) => {
    const response = await fetch(`${service.baseUrl}${path}`, { headers: { cookie } });
    assert.equal(response.status, 200, path);
    return response.text();
  };
  /** The text of the element with this id, as a reader sees it (white space collapsed). */
  const textOf = (text: string, id: string) =>
    (parseHTML(text).document.getElementById(id)?.textContent ?? '').replace(/\s+/g, ' ').trim();
  const logs = async (query: string) => {
    const response = await fetch(`${service.baseUrl}/screenshot/logs?key=${LIVE_KEY}&${query}`);
    return {
      status: response.status,
      body: (await response.json()) as { logs: Array<Record<string, unknown>> },
    };
  };

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService({ SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD }, {}, { browsers: false });
    uuids.scrape = await scrape({ url: `${fixtures.origin}/article`, format: 'markdown:no_links' });
    uuids.post = await scrape(
      { url: `${fixtures.origin}/article` },
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"q":1}' },
    );
    uuids.upstream404 = await scrape({ url: `${fixtures.origin}/missing` });
    const extraction = await fetch(
      `${service.baseUrl}/extraction?${new URLSearchParams({
        key: LIVE_KEY,
        content_type: 'text/html',
        url: 'https://shop.test/widget',
        extraction_template: `ephemeral:${Buffer.from(JSON.stringify(TEMPLATE)).toString('base64url')}`,
      }).toString()}`,
      { method: 'POST', headers: { 'content-type': 'text/html' }, body: PRODUCT },
    );
    assert.equal(extraction.status, 200, await extraction.clone().text());
    uuids.extraction = extraction.headers.get('x-scrapfly-log-uuid') ?? '';
    assert.ok(uuids.extraction, 'the extraction names its log');
    ({ cookie } = await signIn(service.baseUrl));
    assert.ok(cookie, 'signed in');
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('GET /screenshot/logs answers each log with its kind and filters by kind', async () => {
    const all = await logs('');
    assert.deepEqual(
      all.body.logs.map((log) => [log.log_uuid, log.kind]),
      [
        [uuids.extraction, 'extraction'],
        [uuids.upstream404, 'scrape'],
        [uuids.post, 'scrape'],
        [uuids.scrape, 'scrape'],
      ],
    );
    const scrapes = await logs('kind=scrape');
    assert.deepEqual(
      scrapes.body.logs.map((log) => log.log_uuid),
      [uuids.upstream404, uuids.post, uuids.scrape],
    );
    const extractions = await logs('kind=extraction');
    assert.deepEqual(
      extractions.body.logs.map((log) => log.log_uuid),
      [uuids.extraction],
    );
    assert.deepEqual((await logs('kind=screenshot')).body.logs, [], 'no screenshot was taken');
    const one = await fetch(`${service.baseUrl}/screenshot/logs/${uuids.scrape}?key=${LIVE_KEY}`);
    assert.equal(((await one.json()) as { kind: string }).kind, 'scrape');
    const bad = await logs('kind=pdf');
    assert.equal(bad.status, 400, 'an unknown kind is refused');
  });

  it('the monitoring metrics count one API with kind=', async () => {
    const get = async (query: string) => {
      const response = await fetch(
        `${service.baseUrl}/screenshot/monitoring/metrics?key=${LIVE_KEY}&period=last1h&${query}`,
      );
      assert.equal(response.status, 200);
      return ((await response.json()) as { account: { requests: { total: number } } }).account.requests.total;
    };
    assert.equal(await get(''), 4);
    assert.equal(await get('kind=scrape'), 3);
    assert.equal(await get('kind=extraction'), 1);
    assert.equal(await get('kind=screenshot'), 0);
  });

  it("the dashboard logs list shows each row's API and filters by it (the export too)", async () => {
    const all = await page('/dashboard/logs');
    const kinds = [...all.matchAll(/data-log="([^"]+)"[\s\S]*?data-kind="([a-z]+)"/g)].map((m) => [
      m[1],
      m[2],
    ]);
    assert.deepEqual(kinds, [
      [uuids.extraction, 'extraction'],
      [uuids.upstream404, 'scrape'],
      [uuids.post, 'scrape'],
      [uuids.scrape, 'scrape'],
    ]);
    assert.match(all, /<select name="kind">[\s\S]*<option value="scrape"/, 'a filter by API');
    const scrapes = await page('/dashboard/logs?kind=scrape');
    assert.deepEqual(
      [...scrapes.matchAll(/data-log="([^"]+)"/g)].map((m) => m[1]),
      [uuids.upstream404, uuids.post, uuids.scrape],
    );
    assert.match(scrapes, /<option value="scrape" selected/, 'the filter stays chosen');
    assert.match(scrapes, /export\.csv\?kind=scrape/, 'the export keeps the filter');
    const csv = await page('/dashboard/logs/export.csv?kind=extraction');
    const [header, row, end] = csv.split('\r\n');
    assert.ok(header?.split(',').includes('kind'), header);
    assert.match(row ?? '', new RegExp(`^${uuids.extraction},.*,extraction,200,.*,template,`));
    assert.equal(end, '', 'one row');
  });

  it("a scrape's log page: method, URL, status code, format, content size, response headers", async () => {
    const text = await page(`/dashboard/monitoring/log/${uuids.scrape}`);
    assert.match(text, /id="log-kind" data-kind="scrape"/);
    assert.equal(textOf(text, 'scrape-method'), 'GET');
    assert.equal(textOf(text, 'scrape-status'), '200');
    assert.equal(textOf(text, 'scrape-format'), 'markdown:no_links');
    // The markdown answered: "# Kinds\n\nScraped for the log." is 29 bytes.
    assert.equal(textOf(text, 'scrape-content'), '29 B · text/markdown; charset=utf-8');
    assert.equal(textOf(text, 'scrape-upstream-size'), `${ARTICLE.length} B`, "the target's body size");
    const headers = parseHTML(text).document.getElementById('response-headers');
    const rows = [...(headers?.querySelectorAll('tr') ?? [])].map((row) =>
      [...row.children].map((cell) => cell.textContent?.trim()),
    );
    assert.deepEqual(
      rows.find(([name]) => name === 'x-fixture'),
      ['x-fixture', 'kept in the log'],
      "the target's headers",
    );
    assert.deepEqual(
      rows.find(([name]) => name === 'set-cookie'),
      ['set-cookie', '***'],
      'cookie values are never logged',
    );
    assert.doesNotMatch(text, /s3cret-value/);
    assert.doesNotMatch(text, /id="screenshot"|Timings/, 'no screenshot-only field');
    assert.match(textOf(text, 'curl'), /^curl 'http:[^ ]*\/scrape\?key='"\$SNAPWIRE_KEY"'&url=http/);
    assert.match(textOf(text, 'curl'), /&format=markdown%3Ano_links&/);

    const post = await page(`/dashboard/monitoring/log/${uuids.post}`);
    assert.equal(textOf(post, 'scrape-method'), 'POST');
    assert.match(textOf(post, 'curl'), /^curl -X POST --data-binary @body /);

    const failed = await page(`/dashboard/monitoring/log/${uuids.upstream404}`);
    assert.match(failed, /ERR::SCRAPE::BAD_UPSTREAM_RESPONSE/);
    assert.equal(textOf(failed, 'scrape-status'), '404');
  });

  it("an extraction's log page: document size, method and result", async () => {
    const text = await page(`/dashboard/monitoring/log/${uuids.extraction}`);
    assert.match(text, /id="log-kind" data-kind="extraction"/);
    assert.equal(textOf(text, 'extraction-document'), `${PRODUCT.length} B · text/html`);
    assert.equal(textOf(text, 'extraction-method'), 'rules template ephemeral');
    const result = parseHTML(text).document.getElementById('extraction-result')?.textContent ?? '';
    assert.deepEqual(JSON.parse(result), {
      title: 'Blue Widget',
      price: { amount: 12.5, currency: 'USD', raw: '$12.50' },
    });
    assert.equal(
      textOf(text, 'extraction-result-size'),
      `${Buffer.byteLength(JSON.stringify(JSON.parse(result)))} B`,
    );
  });
});
