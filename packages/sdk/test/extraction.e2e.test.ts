// client.extract() and the saved-template methods against a live service (no browser needed).
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  buildExtractionQuery,
  ExtractionError,
  SnapwireApiError,
  SnapwireClient,
  TemplateNotFoundError,
  type ExtractionTemplate,
} from '../src/index.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const PAGE =
  '<html><body><h1>Blue Widget</h1><p class="price">$19.50</p><a href="/next">next</a></body></html>';
const TEMPLATE: ExtractionTemplate = {
  selectors: [
    { name: 'title', type: 'css', query: 'h1::text' },
    { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
    { name: 'next', type: 'css', query: 'a::attr(href)', formatters: [{ name: 'absolute_url' }] },
  ],
};
const DATA = {
  title: 'Blue Widget',
  price: { amount: 19.5, currency: 'USD', raw: '$19.50' },
  next: 'https://shop.test/next',
};

describe('buildExtractionQuery', () => {
  it('sends a saved name as persistent:NAME and a template as ephemeral:BASE64URL', () => {
    const saved = buildExtractionQuery({ body: '', content_type: 'text/html', template: 'product' });
    assert.equal(saved.get('extraction_template'), 'persistent:product');
    const sent = buildExtractionQuery({ body: '', content_type: 'text/html', ephemeral_template: TEMPLATE });
    const encoded = String(sent.get('extraction_template'));
    assert.match(encoded, /^ephemeral:[A-Za-z0-9_-]+$/);
    assert.deepEqual(JSON.parse(Buffer.from(encoded.slice(10), 'base64url').toString()), TEMPLATE);
  });

  it('needs exactly one way to extract, and a content type', () => {
    assert.throws(() => buildExtractionQuery({ body: '', content_type: 'text/html' }), /give one of/);
    assert.throws(
      () => buildExtractionQuery({ body: '', content_type: 'text/html', template: 'a', prompt: 'b' }),
      /only one of `template` and `prompt`/,
    );
    assert.throws(() => buildExtractionQuery({ body: '', content_type: '', template: 'a' }), /content_type/);
  });
});

describe('SnapwireClient.extract() and templates against a live service', () => {
  let service: TestService;
  let client: SnapwireClient;

  before(async () => {
    service = await startService({}, {}, { browsers: false });
    client = new SnapwireClient({ host: service.baseUrl, key: LIVE_KEY, retry: 0 });
  });
  after(async () => {
    await service?.close();
  });

  it('extracts with a template sent with the call: data, cost and log uuid', async () => {
    const result = await client.extract({
      body: PAGE,
      content_type: 'text/html',
      url: 'https://shop.test/p/1',
      ephemeral_template: TEMPLATE,
    });
    assert.deepEqual(result.data, DATA);
    assert.equal(result.content_type, 'application/json');
    assert.equal(result.cost, 1);
    assert.match(String(result.logUuid), /^[0-9A-Z]{26}$/);
    assert.equal(typeof result.remainingCredit, 'number');
  });

  it('sends a document it compressed itself (content_encoding gzip)', async () => {
    const result = await client.extract({
      body: zlib.gzipSync(PAGE),
      content_type: 'text/html',
      content_encoding: 'gzip',
      url: 'https://shop.test/p/1',
      ephemeral_template: TEMPLATE,
    });
    assert.deepEqual(result.data, DATA);
  });

  it('saves, lists, gets, replaces, uses and deletes a template', async () => {
    const created = await client.createTemplate('product', {
      selectors: [{ name: 'h', type: 'css', query: 'h1' }],
    });
    assert.equal(created.name, 'product');
    await assert.rejects(client.createTemplate('product', TEMPLATE), (error: unknown) => {
      assert.ok(error instanceof SnapwireApiError);
      assert.equal(error.code, 'ERR::API::CONFLICT');
      return true;
    });
    const replaced = await client.putTemplate('product', TEMPLATE);
    assert.deepEqual(replaced.template, TEMPLATE);
    assert.deepEqual(
      (await client.listTemplates()).map((saved) => saved.name),
      ['product'],
    );
    assert.deepEqual((await client.getTemplate('product')).template, TEMPLATE);
    const result = await client.extract({
      body: PAGE,
      content_type: 'text/html',
      url: 'https://shop.test/p/1',
      template: 'product',
    });
    assert.deepEqual(result.data, DATA);
    await client.deleteTemplate('product');
    await assert.rejects(client.getTemplate('product'), TemplateNotFoundError);
    await assert.rejects(client.deleteTemplate('product'), TemplateNotFoundError);
  });

  it('an unknown saved template: TemplateNotFoundError (404, ERR::EXTRACTION::TEMPLATE_NOT_FOUND)', async () => {
    await assert.rejects(
      client.extract({ body: PAGE, content_type: 'text/html', template: 'missing' }),
      (error: unknown) => {
        assert.ok(error instanceof TemplateNotFoundError, `got ${String(error)}`);
        assert.ok(error instanceof ExtractionError);
        assert.equal(error.code, 'ERR::EXTRACTION::TEMPLATE_NOT_FOUND');
        assert.equal(error.httpStatus, 404);
        assert.equal(error.retryable, false);
        assert.match(String(error.reason), /"missing"/);
        return true;
      },
    );
  });

  it('a malformed rule, on save or in the call: ExtractionError naming its path', async () => {
    const bad = { selectors: [{ name: 'x', type: 'css', query: 'h1', formatters: [{ name: 'shout' }] }] };
    for (const call of [
      () => client.putTemplate('bad', bad),
      () => client.extract({ body: PAGE, content_type: 'text/html', ephemeral_template: bad }),
    ]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof ExtractionError, `got ${String(error)}`);
        assert.equal(error.code, 'ERR::EXTRACTION::INVALID_RULE');
        assert.equal(error.httpStatus, 400);
        assert.match(String(error.reason), /selectors\[0\]\.formatters\[0\]\.name/);
        return true;
      });
    }
  });

  it('a prompt without a model configured: ExtractionError naming the settings', async () => {
    await assert.rejects(
      client.extract({ body: PAGE, content_type: 'text/html', prompt: 'What is the price?' }),
      (error: unknown) =>
        error instanceof ExtractionError &&
        error.code === 'ERR::EXTRACTION::CONFIG_ERROR' &&
        /SNAPWIRE_LLM_BASE_URL/.test(String(error.reason)),
    );
  });
});
