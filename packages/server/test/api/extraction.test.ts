// POST /extraction as Scrapfly's SDKs call it (docs/compat.md "Extraction API"): the unmodified TypeScript
// scrapfly-sdk 0.11.1 against a live service, and the Python scrapfly-sdk 0.10.5's request reproduced from
// its source. No browser: the service runs without Chromium.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { errors, ExtractionConfig, ScrapflyClient } from 'scrapfly-sdk';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const { ExtractionApiError, BadApiKeyError } = errors;

const PRODUCT = `<!doctype html><html><head><title>Blue Widget</title></head><body>
<main>
  <h1 class="title"> Blue <b>Widget</b> </h1>
  <div class="price">Price: $1,299.99</div>
  <img src="/img/widget.png" alt="widget">
  <ul id="reviews">
    <li class="review"><span class="author">Ann</span><p>Great &amp; <i>sturdy</i></p><a href="/u/ann">profile</a></li>
    <li class="review"><span class="author">Bob</span><p>Meh</p><a href="/u/bob">profile</a></li>
  </ul>
  <p class="contact">Write to Sales@Shop.test</p>
</main></body></html>`;

const PRODUCT_TEMPLATE = {
  source: 'html',
  selectors: [
    {
      name: 'title',
      type: 'css',
      query: 'h1.title',
      formatters: [{ name: 'remove_html' }, { name: 'lowercase' }],
    },
    { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
    { name: 'amount', type: 'xpath', query: "//div[@class='price']/text()", cast: 'float' },
    { name: 'review_count', type: 'xpath', query: 'count(//li[@class="review"])' },
    {
      name: 'reviews',
      type: 'css',
      query: 'li.review',
      multiple: true,
      nested: [
        { name: 'author', type: 'xpath', query: './span/text()', formatters: [{ name: 'uppercase' }] },
        { name: 'text', type: 'css', query: 'p', formatters: [{ name: 'remove_html' }] },
        { name: 'profile', type: 'css', query: 'a::attr(href)', formatters: [{ name: 'absolute_url' }] },
      ],
    },
    { name: 'image', type: 'css', query: 'main', extractor: { name: 'image' } },
    { name: 'emails', type: 'css', query: '.contact', extractor: { name: 'emails' } },
  ],
};

const PRODUCT_DATA = {
  title: 'blue widget',
  price: { amount: 1299.99, currency: 'USD', raw: 'Price: $1,299.99' },
  amount: 1299.99,
  review_count: 2,
  reviews: [
    { author: 'ANN', text: 'Great & sturdy', profile: 'https://shop.test/u/ann' },
    { author: 'BOB', text: 'Meh', profile: 'https://shop.test/u/bob' },
  ],
  image: { url: 'https://shop.test/img/widget.png', alt: 'widget' },
  emails: ['sales@shop.test'],
};

/** The TypeScript SDK's ephemeral template parameter: base64url without padding (utils.ts). */
const ephemeral = (template: unknown) =>
  `ephemeral:${Buffer.from(JSON.stringify(template)).toString('base64url')}`;

describe("POST /extraction with Scrapfly's TypeScript SDK", () => {
  let service: TestService;
  let client: ScrapflyClient;

  before(async () => {
    service = await startService(
      { SNAPWIRE_EXTRACTION_MAX_BYTES: String(1024 * 1024) },
      {},
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
  });

  it('rules on HTML: css, xpath, nested, multiple, formatters, extractors, cast', async () => {
    const result = await client.extract(
      new ExtractionConfig({
        body: PRODUCT,
        content_type: 'text/html',
        url: 'https://shop.test/p/widget',
        extraction_ephemeral_template: PRODUCT_TEMPLATE,
      }),
    );
    assert.equal(result.content_type, 'application/json');
    assert.deepEqual(result.data, PRODUCT_DATA);
  });

  it('jmespath on a JSON document, gzip-compressed by the caller', async () => {
    const document = JSON.stringify({
      product: { name: 'Widget', offers: [{ price: '9.50' }, { price: '12' }] },
    });
    const result = await client.extract(
      new ExtractionConfig({
        body: zlib.gzipSync(document) as unknown as string,
        content_type: 'application/json',
        is_document_compressed: true,
        document_compression_format: 'gzip',
        extraction_ephemeral_template: {
          source: 'json',
          selectors: [
            { name: 'name', type: 'jmespath', query: 'product.name' },
            {
              name: 'prices',
              type: 'jmespath',
              query: 'product.offers[].price',
              multiple: true,
              cast: 'float',
            },
          ],
        },
      }),
    );
    assert.deepEqual(result.data, { name: 'Widget', prices: [9.5, 12] });
  });

  it('a malformed rule: ExtractionApiError, 400 naming the rule path', async () => {
    const template = {
      selectors: [
        { name: 'ok', type: 'css', query: 'h1' },
        { name: 'rows', type: 'css', query: 'li', nested: [{ name: 'bad', type: 'xpath', query: '//li[' }] },
      ],
    };
    await assert.rejects(
      client.extract(
        new ExtractionConfig({
          body: PRODUCT,
          content_type: 'text/html',
          extraction_ephemeral_template: template,
        }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof ExtractionApiError, `got ${(error as Error).constructor.name}`);
        const body = JSON.parse((error as Error).message);
        assert.equal(body.code, 'ERR::EXTRACTION::INVALID_RULE');
        assert.equal(body.http_code, 400);
        assert.match(body.reason, /selectors\[1\]\.nested\[0\]\.query: not a valid XPath/);
        return true;
      },
    );
  });

  it('jmespath on HTML is refused with the path of its type', async () => {
    await assert.rejects(
      client.extract(
        new ExtractionConfig({
          body: PRODUCT,
          content_type: 'text/html',
          extraction_ephemeral_template: { selectors: [{ name: 'x', type: 'jmespath', query: 'a.b' }] },
        }),
      ),
      (error: unknown) =>
        error instanceof ExtractionApiError && /selectors\[0\]\.type/.test((error as Error).message),
    );
  });

  it('a saved template name (persistent:NAME): 404 ERR::EXTRACTION::TEMPLATE_NOT_FOUND', async () => {
    await assert.rejects(
      client.extract(
        new ExtractionConfig({ body: PRODUCT, content_type: 'text/html', extraction_template: 'products' }),
      ),
      (error: unknown) =>
        error instanceof ExtractionApiError && JSON.parse((error as Error).message).http_code === 404,
    );
  });

  it('a prompt without a configured model: 400 naming the settings that enable it', async () => {
    await assert.rejects(
      client.extract(
        new ExtractionConfig({ body: PRODUCT, content_type: 'text/html', extraction_prompt: 'price?' }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof ExtractionApiError);
        const body = JSON.parse((error as Error).message);
        assert.equal(body.code, 'ERR::EXTRACTION::CONFIG_ERROR');
        for (const setting of ['SNAPWIRE_LLM_BASE_URL', 'SNAPWIRE_LLM_MODEL', 'SNAPWIRE_LLM_API_KEY']) {
          assert.ok(body.reason.includes(setting), setting);
        }
        return true;
      },
    );
  });

  it('a wrong key: BadApiKeyError', async () => {
    const stranger = new ScrapflyClient({ key: 'scp-live-wrong', host: service.baseUrl });
    await assert.rejects(
      stranger.extract(
        new ExtractionConfig({
          body: PRODUCT,
          content_type: 'text/html',
          extraction_ephemeral_template: PRODUCT_TEMPLATE,
        }),
      ),
      BadApiKeyError,
    );
  });

  it('an oversized body and a decompression bomb: 413, never a 500 or a hang', async () => {
    const query = new URLSearchParams({
      key: LIVE_KEY,
      content_type: 'text/html',
      extraction_template: ephemeral(PRODUCT_TEMPLATE),
    });
    const big = await fetch(`${service.baseUrl}/extraction?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/html' },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    const bigBody = await big.json();
    assert.equal(big.status, 413);
    assert.equal(bigBody.code, 'ERR::EXTRACTION::DOCUMENT_TOO_LARGE');
    assert.match(bigBody.reason, /as sent.*SNAPWIRE_EXTRACTION_MAX_BYTES/);

    // 64 MB of zeros is about 64 KB of gzip: small as sent, refused once inflated past the limit.
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(bomb.length < 1024 * 1024);
    const inflated = await fetch(`${service.baseUrl}/extraction?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' },
      body: bomb,
    });
    const inflatedBody = await inflated.json();
    assert.equal(inflated.status, 413);
    assert.match(inflatedBody.reason, /once decompressed/);
  });

  it('a body that is not what content-encoding says, and an unknown encoding: 400 saying so', async () => {
    const query = new URLSearchParams({
      key: LIVE_KEY,
      content_type: 'text/html',
      extraction_template: ephemeral(PRODUCT_TEMPLATE),
    });
    for (const [encoding, pattern] of [
      ['gzip', /not valid gzip data/],
      ['br', /content-encoding br is not supported/],
    ] as const) {
      const response = await fetch(`${service.baseUrl}/extraction?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/html', 'content-encoding': encoding },
        body: PRODUCT,
      });
      const body = await response.json();
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body.code, 'ERR::EXTRACTION::CONFIG_ERROR');
      assert.match(body.reason, pattern);
    }
  });

  it('zstd: decoded where the runtime has it, else a 400 naming the Node.js version needed', async () => {
    const query = new URLSearchParams({
      key: LIVE_KEY,
      content_type: 'text/html',
      extraction_template: ephemeral(PRODUCT_TEMPLATE),
      url: 'https://shop.test/p/widget',
    });
    const compress = (zlib as unknown as { zstdCompressSync?: (input: Buffer) => Buffer }).zstdCompressSync;
    // A zstd frame of an empty input (magic 28 b5 2f fd) serves where this Node cannot compress.
    const body = compress ? compress(Buffer.from(PRODUCT)) : Buffer.from('28b52ffd2000010000', 'hex');
    const response = await fetch(`${service.baseUrl}/extraction?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/html', 'content-encoding': 'zstd' },
      body: new Uint8Array(body),
    });
    const answer = await response.json();
    if (compress) {
      assert.equal(response.status, 200);
      assert.deepEqual(answer.data, PRODUCT_DATA);
    } else {
      assert.equal(response.status, 400);
      assert.match(answer.reason, /zstd needs Node\.js 22\.15 or later/);
    }
  });

  it('a declared charset is held to; latin-1 documents decode', async () => {
    const template = ephemeral({ selectors: [{ name: 'h', type: 'css', query: 'h1::text' }] });
    const send = (charset: string, body: Buffer) =>
      fetch(
        `${service.baseUrl}/extraction?${new URLSearchParams({ key: LIVE_KEY, content_type: 'text/html', charset, extraction_template: template })}`,
        {
          method: 'POST',
          headers: { 'content-type': 'text/html' },
          body: new Uint8Array(body),
        },
      );
    const latin = await send('iso-8859-1', Buffer.from('<h1>caf\xe9</h1>', 'latin1'));
    assert.deepEqual((await latin.json()).data, { h: 'café' });
    const invalid = await send('utf-8', Buffer.from('<h1>caf\xe9</h1>', 'latin1'));
    assert.equal(invalid.status, 400);
    assert.match((await invalid.json()).reason, /not valid utf-8/);
  });

  it('costs 1 credit, answers the cost headers and writes one log row (size, method, duration, result)', async () => {
    const { services } = service.snapwire;
    const caller = await services.projects.authenticate(LIVE_KEY);
    assert.ok(caller);
    const before_ = await services.credits.used(caller.project.id);
    const query = new URLSearchParams({
      key: LIVE_KEY,
      content_type: 'text/html',
      url: 'https://shop.test/p/widget',
      extraction_template: ephemeral(PRODUCT_TEMPLATE),
    });
    const response = await fetch(`${service.baseUrl}/extraction?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/html', 'content-encoding': 'deflate' },
      body: zlib.deflateSync(PRODUCT),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-scrapfly-api-cost'), '1');
    assert.equal(await services.credits.used(caller.project.id), before_ + 1);
    const logUuid = response.headers.get('x-scrapfly-log-uuid');
    assert.ok(logUuid);
    const row = await services.logs.find(caller.project.id, logUuid);
    assert.ok(row);
    assert.equal(row.kind, 'extraction');
    assert.equal(row.http_status, 200);
    assert.equal(row.url, 'https://shop.test/p/widget');
    const params = JSON.parse(row.params);
    assert.equal(params.method, 'template');
    assert.equal(params.document_bytes, Buffer.byteLength(PRODUCT));
    assert.equal(params.content_encoding, 'deflate');
    assert.ok(params.result_bytes > 100);
    assert.ok(row.duration_ms >= 0);
  });
});

/**
 * The Python SDK's request, reproduced from scrapfly-sdk 0.10.5 (Python) extraction_config.py and client.py
 * _extraction_request: `requests` encodes params itself, the ephemeral template is urlsafe_b64encode WITH
 * padding, a str body is compressed by the SDK itself (gzip.compress, zlib.compressobj(wbits=-MAX_WBITS) —
 * raw deflate — or zstd) with content-encoding set to the format; accept is application/json;charset=utf-8.
 * It reads (api_response.py): on 2xx, a body whose content-type contains application/json, then
 * result['data'] and result['content_type']; on an error status, error_id, message, http_code and links.
 */
describe('POST /extraction as the Python SDK sends it', () => {
  let service: TestService;
  before(async () => {
    service = await startService({}, {}, { browsers: false });
  });
  after(async () => {
    await service?.close();
  });

  const pythonRequest = (template: unknown, body: Buffer, encoding: 'gzip' | 'deflate') => {
    // urlsafe_b64encode keeps the "=" padding; requests then percent-encodes it.
    const padded = Buffer.from(JSON.stringify(template))
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    const query = new URLSearchParams({
      key: LIVE_KEY,
      content_type: 'text/html',
      url: 'https://shop.test/p/widget',
      extraction_template: `ephemeral:${padded}`,
      timeout: '30000',
    });
    return fetch(`${service.baseUrl}/extraction?${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/html',
        'content-encoding': encoding,
        'accept-encoding': 'gzip, deflate',
        accept: 'application/json;charset=utf-8',
        'user-agent': 'Python Scrapfly SDK',
      },
      body: new Uint8Array(body),
    });
  };

  for (const [encoding, compress] of [
    ['gzip', (input: Buffer) => zlib.gzipSync(input)],
    // zlib.compressobj(wbits=-zlib.MAX_WBITS): raw deflate, no zlib header.
    ['deflate', (input: Buffer) => zlib.deflateRawSync(input)],
  ] as const) {
    it(`reads the data of a ${encoding} document the SDK compressed itself`, async () => {
      const response = await pythonRequest(
        PRODUCT_TEMPLATE,
        compress(Buffer.from(PRODUCT, 'utf8')),
        encoding,
      );
      assert.equal(response.status, 200);
      assert.ok(String(response.headers.get('content-type')).includes('application/json'));
      const result = await response.json();
      assert.deepEqual(result.data, PRODUCT_DATA);
      assert.equal(result.content_type, 'application/json');
    });
  }

  it('an error carries what ExtractionAPIError reads: error_id, message, http_code, links', async () => {
    const response = await pythonRequest(
      { selectors: [{ name: 'x', type: 'regex', query: '(a)\\1' }] },
      zlib.gzipSync(PRODUCT),
      'gzip',
    );
    assert.equal(response.status, 400);
    const body = await response.json();
    for (const field of ['error_id', 'message', 'http_code', 'links']) assert.ok(field in body, field);
    assert.equal(body.http_code, 400);
    assert.match(body.reason, /selectors\[0\]\.query/);
  });
});
