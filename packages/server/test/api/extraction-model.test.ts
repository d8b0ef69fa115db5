// extraction_prompt and extraction_model against the operator's language model: a local OpenAI-compatible
// chat-completions stub on 127.0.0.1 checks what Snapwire sends and answers like a model (or with garbage,
// a 500, or nothing in time). The TypeScript scrapfly-sdk 0.11.1 calls the service unmodified.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { errors, ExtractionConfig, ScrapflyClient } from 'scrapfly-sdk';
import { startModelStub, userMessage } from '../helpers/model-stub.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const { ExtractionApiError } = errors;

const PAGE = `<!doctype html><html><head><title>Blue Widget</title><script>var tracking = "SECRET-SCRIPT";</script>
<style>.x{color:red}</style></head><body><nav>Home | Shop</nav>
<main><h1>Blue Widget</h1><p>Price: <b>$1,299.99</b></p><a href="/reviews">Reviews</a></main>
<footer>Footer links</footer></body></html>`;

describe("extraction by the operator's language model (OpenAI-compatible stub)", () => {
  let model: Awaited<ReturnType<typeof startModelStub>>;
  let service: TestService;
  let client: ScrapflyClient;

  before(async () => {
    model = await startModelStub();
    service = await startService(
      {
        SNAPWIRE_LLM_BASE_URL: model.baseUrl,
        SNAPWIRE_LLM_MODEL: 'stub-model',
        SNAPWIRE_LLM_API_KEY: 'sk-stub-secret-value',
        SNAPWIRE_LLM_TIMEOUT: '1500ms',
        SNAPWIRE_LLM_MAX_INPUT_TOKENS: '500',
      },
      {},
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await model?.close();
  });
  beforeEach(() => model.reset());

  it('a prompt: the reduced document and the prompt go to the model, its JSON comes back as data', async () => {
    model.stub.mode = 'fenced';
    const result = await client.extract(
      new ExtractionConfig({
        body: PAGE,
        content_type: 'text/html',
        url: 'https://shop.test/p/widget',
        extraction_prompt: 'What is the price? Answer {"price", "currency"}',
      }),
    );
    assert.deepEqual(result.data, { price: 1299.99, currency: 'USD' });
    assert.equal(result.content_type, 'application/json');

    assert.equal(model.stub.requests.length, 1);
    const [sent] = model.stub.requests;
    assert.equal(sent!.path, '/v1/chat/completions');
    assert.equal(sent!.authorization, 'Bearer sk-stub-secret-value');
    assert.equal(sent!.body.model, 'stub-model');
    assert.equal(sent!.body.temperature, 0);
    const user = userMessage(sent!);
    assert.match(user, /What is the price\? Answer \{"price", "currency"\}/);
    // Markdown of the main content: heading, text, absolute links; no script, style, nav or footer.
    assert.match(user, /# Blue Widget/);
    assert.match(user, /Price: \$1,299\.99/);
    assert.match(user, /\[Reviews\]\(https:\/\/shop\.test\/reviews\)/);
    for (const dropped of ['SECRET-SCRIPT', 'color:red', 'Home | Shop', 'Footer links', '<h1>']) {
      assert.ok(!user.includes(dropped), `the model is not sent ${dropped}`);
    }
  });

  it('a free-text answer comes back as a string (text/plain)', async () => {
    model.stub.mode = 'text';
    const result = await client.extract(
      new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_prompt: 'How much is it?' }),
    );
    assert.equal(result.data, 'It costs $1,299.99.');
    assert.equal(result.content_type, 'text/plain');
  });

  it('an auto-extraction model asks for its documented shape', async () => {
    model.stub.answer = '{"name": "Blue Widget", "price": {"amount": 1299.99, "currency": "USD"}}';
    const result = await client.extract(
      new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_model: 'product' }),
    );
    assert.deepEqual(result.data, { name: 'Blue Widget', price: { amount: 1299.99, currency: 'USD' } });
    const user = userMessage(model.stub.requests[0]!);
    assert.match(user, /Extract the product .* "availability": string\|null/);
  });

  it('an answer that is not JSON is sent back once with the parse error, then used', async () => {
    model.stub.mode = 'garbage-then-json';
    const response = await fetch(
      `${service.baseUrl}/extraction?${new URLSearchParams({ key: LIVE_KEY, content_type: 'text/html', extraction_prompt: 'price?' })}`,
      { method: 'POST', headers: { 'content-type': 'text/html' }, body: PAGE },
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-scrapfly-api-cost'), '5');
    assert.deepEqual((await response.json()).data, { price: 1299.99, currency: 'USD' });
    assert.equal(model.stub.requests.length, 2);
    const retry = model.stub.requests[1]!.body.messages;
    assert.equal(retry.at(-2)?.role, 'assistant');
    assert.match(retry.at(-1)!.content, /That is not valid JSON \(.+\)/);

    // Tokens of both calls in the log row; the prompt itself is not kept.
    const caller = (await service.snapwire.services.projects.authenticate(LIVE_KEY))!;
    const row = await service.snapwire.services.logs.find(
      caller.project.id,
      response.headers.get('x-scrapfly-log-uuid')!,
    );
    const params = JSON.parse(row!.params);
    assert.deepEqual(params.tokens, { prompt: 240, completion: 24, total: 264 });
    assert.equal(params.model_calls, 2);
    assert.equal(params.method, 'prompt');
    assert.equal(params.prompt_length, 'price?'.length);
    assert.ok(!row!.params.includes('sk-stub-secret-value'), 'the API key is never logged');
  });

  for (const [mode, code, pattern] of [
    ['garbage', 'ERR::EXTRACTION::DATA_ERROR', /did not answer valid JSON, twice/],
    ['error', 'ERR::EXTRACTION::MODEL_UNAVAILABLE', /answered HTTP 500/],
    ['silent', 'ERR::EXTRACTION::TIMEOUT', /did not answer within the timeout/],
  ] as const) {
    it(`a model that ${mode === 'garbage' ? 'answers garbage twice' : mode === 'error' ? 'answers 500' : 'never answers'}: 422 ${code}`, async () => {
      model.stub.mode = mode;
      const started = Date.now();
      await assert.rejects(
        client.extract(
          new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_prompt: 'price?' }),
        ),
        (error: unknown) => {
          assert.ok(error instanceof ExtractionApiError, `got ${(error as Error).constructor.name}`);
          const body = JSON.parse((error as Error).message);
          assert.equal(body.code, code);
          assert.equal(body.http_code, 422);
          assert.match(body.reason, pattern);
          // The operator's endpoint stays the operator's.
          assert.ok(!body.reason.includes('127.0.0.1'), body.reason);
          return true;
        },
      );
      assert.ok(Date.now() - started < 10_000, 'bounded by SNAPWIRE_LLM_TIMEOUT');
    });
  }

  it("the Python SDK's quote_plus'd prompt reaches the model as written", async () => {
    // scrapfly-sdk 0.10.5 (Python) extraction_config.py: params['extraction_prompt'] = quote_plus(prompt),
    // then requests encodes the query again.
    const query = new URLSearchParams({
      key: LIVE_KEY,
      content_type: 'text/html',
      extraction_prompt: 'what+is+the+price%3F',
    });
    const response = await fetch(`${service.baseUrl}/extraction?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/html', accept: 'application/json;charset=utf-8' },
      body: PAGE,
    });
    assert.equal(response.status, 200);
    const user = userMessage(model.stub.requests[0]!);
    assert.match(user, /Request: what is the price\?/);
  });

  it('a document longer than the token budget is read in parts whose answers are merged', async () => {
    const items = Array.from(
      { length: 60 },
      (_, index) => `<p>Widget W${index + 1} costs ${index + 1} dollars, a fine widget for every home.</p>`,
    );
    const long = `<html><body><main><h1>Catalogue</h1><p>Sold by Acme.</p>${items.join('')}</main></body></html>`;
    // Like a model: each part's answer says what that part holds.
    model.stub.answerFor = (request) => {
      const part = userMessage(request);
      return JSON.stringify({
        store: part.includes('Sold by Acme') ? 'Acme' : null,
        widgets: [...part.matchAll(/Widget (W\d+)/g)].map((match) => match[1]),
      });
    };
    const response = await fetch(
      `${service.baseUrl}/extraction?${new URLSearchParams({ key: LIVE_KEY, content_type: 'text/html', extraction_prompt: 'list the widgets and the store' })}`,
      { method: 'POST', headers: { 'content-type': 'text/html' }, body: long },
    );
    const answer = await response.json();
    assert.equal(response.status, 200, JSON.stringify(answer));
    const parts = model.stub.requests.length;
    assert.ok(parts >= 2 && parts <= 4, `read in ${parts} parts`);
    assert.deepEqual(answer.data, {
      store: 'Acme',
      widgets: Array.from({ length: 60 }, (_, index) => `W${index + 1}`),
    });
    assert.match(answer.data_quality, new RegExp(`read in ${parts} parts of up to 500 tokens`));
    for (const [index, request] of model.stub.requests.entries()) {
      const user = userMessage(request);
      assert.match(user, new RegExp(`part ${index + 1} of ${parts}`));
      assert.ok(user.length < 500 * 4 + 1_000, `part ${index + 1} is ${user.length} characters`);
    }
  });

  it('a document longer than SNAPWIRE_LLM_MAX_CHUNKS parts is cut, and data_quality says so', async () => {
    const long = `<html><body><main><h1>Catalogue</h1>${'<p>Another widget with a long description. </p>'.repeat(400)}</main></body></html>`;
    const response = await fetch(
      `${service.baseUrl}/extraction?${new URLSearchParams({ key: LIVE_KEY, content_type: 'text/html', extraction_prompt: 'count the widgets' })}`,
      { method: 'POST', headers: { 'content-type': 'text/html' }, body: long },
    );
    const answer = await response.json();
    assert.equal(response.status, 200);
    assert.equal(model.stub.requests.length, 4, 'SNAPWIRE_LLM_MAX_CHUNKS defaults to 4');
    assert.match(answer.data_quality, /read in 4 parts/);
    assert.match(answer.data_quality, /cut to 2000 tokens \(4 parts of 500/);
  });
});
