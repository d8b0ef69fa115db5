// Saved extraction templates (docs/compat.md "Extraction API", README "Saved extraction templates"): the
// /extraction/templates API, then the unmodified TypeScript scrapfly-sdk 0.11.1 naming a saved template
// (persistent:NAME) and sending an ephemeral one, on /extraction and on /scrape, and the Python
// scrapfly-sdk 0.10.5's form (a bare NAME; ephemeral base64url with padding) reproduced from its source.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, ExtractionConfig, ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

const { ExtractionApiError } = errors;

const PAGE = `<!doctype html><html><body><h1 class="title"> Blue Widget </h1>
<div class="price">Price: $19.50</div><ul><li>red</li><li>blue</li></ul></body></html>`;

const PRODUCT = {
  source: 'html',
  selectors: [
    { name: 'title', type: 'css', query: 'h1.title::text', formatters: [{ name: 'trim' }] },
    { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
    { name: 'colours', type: 'xpath', query: '//li/text()', multiple: true },
  ],
};
const PRODUCT_DATA = {
  title: 'Blue Widget',
  price: { amount: 19.5, currency: 'USD', raw: 'Price: $19.50' },
  colours: ['red', 'blue'],
};
const TITLE_ONLY = { selectors: [{ name: 'title', type: 'css', query: 'h1::text' }] };

/** Python's json.dumps with its default separators (", " and ": "), as extraction_config.py encodes. */
function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJsonDumps(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value);
}
/** urlsafe_b64encode: base64url WITH its "=" padding. */
const pythonEphemeral = (template: unknown) =>
  `ephemeral:${Buffer.from(pythonJsonDumps(template)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;

describe('saved extraction templates: the API, both SDKs, /extraction and /scrape', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: ScrapflyClient;
  let pageRequests = 0;

  const api = async (method: string, path: string, body?: unknown, key = LIVE_KEY) => {
    const response = await fetch(`${service.baseUrl}${path}?key=${key}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const extractError = (code: string, status: number, reason?: RegExp) => (error: unknown) => {
    assert.ok(error instanceof ExtractionApiError, `got ${(error as Error).constructor.name}`);
    const body = JSON.parse((error as Error).message);
    assert.equal(body.code, code);
    assert.equal(body.http_code, status);
    if (reason) assert.match(body.reason, reason);
    return true;
  };

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        '/product': (_req, res) => {
          pageRequests += 1;
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        },
      },
    });
    service = await startService({}, {}, { browsers: false });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('create, list, get, replace and delete through /extraction/templates', async () => {
    const created = await api('POST', '/extraction/templates', { name: 'draft', template: TITLE_ONLY });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.template, TITLE_ONLY);
    assert.equal(
      (await api('POST', '/extraction/templates', { name: 'draft', template: TITLE_ONLY })).status,
      409,
    );
    const listed = await api('GET', '/extraction/templates');
    assert.deepEqual(
      (listed.body.templates as Array<{ name: string }>).map((saved) => saved.name),
      ['draft'],
    );
    const replaced = await api('PUT', '/extraction/templates/draft', { template: PRODUCT });
    assert.equal(replaced.status, 200);
    assert.deepEqual((await api('GET', '/extraction/templates/draft')).body.template, PRODUCT);
    assert.equal((await api('DELETE', '/extraction/templates/draft')).status, 204);
    const gone = await api('GET', '/extraction/templates/draft');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'ERR::EXTRACTION::TEMPLATE_NOT_FOUND');
    assert.equal((await api('DELETE', '/extraction/templates/draft')).status, 404);
  });

  it('a malformed rule is refused on save: 400 naming its path; nothing is stored', async () => {
    const bad = await api('PUT', '/extraction/templates/broken', {
      template: {
        selectors: [
          { name: 'rows', type: 'css', query: 'li', nested: [{ name: 'x', type: 'regex', query: '(a' }] },
        ],
      },
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.code, 'ERR::EXTRACTION::INVALID_RULE');
    assert.match(String(bad.body.reason), /selectors\[0\]\.nested\[0\]\.query/);
    assert.equal((await api('GET', '/extraction/templates/broken')).status, 404);
    const noTemplate = await api('PUT', '/extraction/templates/broken', {});
    assert.equal(noTemplate.status, 400);
  });

  it('TypeScript SDK: extraction_template (persistent:NAME) runs the saved template', async () => {
    assert.equal((await api('PUT', '/extraction/templates/product', { template: PRODUCT })).status, 201);
    const result = await client.extract(
      new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_template: 'product' }),
    );
    assert.deepEqual(result.data, PRODUCT_DATA);
    assert.equal(result.content_type, 'application/json');
  });

  it('TypeScript SDK: extraction_ephemeral_template (ephemeral:BASE64URL) runs the template sent', async () => {
    const result = await client.extract(
      new ExtractionConfig({
        body: PAGE,
        content_type: 'text/html',
        extraction_ephemeral_template: TITLE_ONLY,
      }),
    );
    assert.deepEqual(result.data, { title: ' Blue Widget ' });
  });

  it('TypeScript SDK: an unknown name is ExtractionApiError 404 ERR::EXTRACTION::TEMPLATE_NOT_FOUND', async () => {
    await assert.rejects(
      client.extract(
        new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_template: 'nope' }),
      ),
      extractError('ERR::EXTRACTION::TEMPLATE_NOT_FOUND', 404, /"nope".*GET \/extraction\/templates/),
    );
  });

  it("a TEST key does not see the LIVE key's template (same name: 404)", async () => {
    const testClient = new ScrapflyClient({ key: TEST_KEY, host: service.baseUrl });
    await assert.rejects(
      testClient.extract(
        new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_template: 'product' }),
      ),
      extractError('ERR::EXTRACTION::TEMPLATE_NOT_FOUND', 404),
    );
  });

  it('Python SDK form: a bare NAME, and ephemeral base64url with padding of json.dumps', async () => {
    for (const [template, expected] of [
      ['product', PRODUCT_DATA],
      [pythonEphemeral(PRODUCT), PRODUCT_DATA],
    ] as const) {
      const query = new URLSearchParams({
        key: LIVE_KEY,
        content_type: 'text/html',
        extraction_template: template,
      });
      const response = await fetch(`${service.baseUrl}/extraction?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/html', accept: 'application/json;charset=utf-8' },
        body: PAGE,
      });
      assert.equal(response.status, 200, template);
      assert.deepEqual((await response.json()).data, expected);
    }
    const unknown = await fetch(
      `${service.baseUrl}/extraction?${new URLSearchParams({ key: LIVE_KEY, content_type: 'text/html', extraction_template: 'nope' })}`,
      { method: 'POST', headers: { 'content-type': 'text/html' }, body: PAGE },
    );
    assert.equal(unknown.status, 404);
    const body = await unknown.json();
    // What the Python SDK's ExtractionAPIError reads.
    for (const field of ['error_id', 'message', 'http_code', 'links']) assert.ok(field in body, field);
    assert.equal(body.code, 'ERR::EXTRACTION::TEMPLATE_NOT_FOUND');
  });

  it('TypeScript SDK on /scrape: a saved and an ephemeral template answer result.extracted_data', async () => {
    const url = `${fixtures.origin}/product`;
    for (const options of [{ extraction_template: 'product' }, { extraction_ephemeral_template: PRODUCT }]) {
      const scraped = (await client.scrape(new ScrapeConfig({ url, ...options }))) as ScrapeResult;
      const extracted = (scraped.result as unknown as { extracted_data: unknown }).extracted_data;
      assert.deepEqual(extracted, { data: PRODUCT_DATA, content_type: 'application/json' });
      assert.match(scraped.result.content, /Blue Widget/, 'the page itself is still answered');
    }
  });

  it('/scrape as the Python SDK sends it (a bare NAME); an unknown name: 404 before any request to the page', async () => {
    const url = `${fixtures.origin}/product`;
    const scrape = (template: string) =>
      fetch(
        `${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, url, extraction_template: template })}`,
      );
    const found = await scrape('product');
    assert.equal(found.status, 200);
    // The log says which template ran, as /extraction's does.
    const log = await fetch(
      `${service.baseUrl}/screenshot/logs/${found.headers.get('x-scrapfly-log-uuid')}?key=${LIVE_KEY}`,
    );
    assert.equal(log.status, 200);
    assert.match(JSON.stringify(await log.json()), /persistent:product/);
    assert.deepEqual((await found.json()).result.extracted_data.data, PRODUCT_DATA);
    const before_ = pageRequests;
    const unknown = await scrape('nope');
    assert.equal(pageRequests, before_, 'the page was not requested');
    assert.equal(unknown.status, 404);
    const body = await unknown.json();
    assert.equal(body.code, 'ERR::EXTRACTION::TEMPLATE_NOT_FOUND');
    assert.equal(unknown.headers.get('x-scrapfly-api-cost'), '0');
  });
});
