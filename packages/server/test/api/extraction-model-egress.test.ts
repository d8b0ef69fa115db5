// The language model's endpoint goes through the egress guard's rules for operator-configured endpoints
// (docs/egress.md): resolved by the service's resolver, checked and pinned per connection, loopback and
// private addresses allowed for it even where captured pages may not go, the deny list and the metadata
// service refused, redirects not followed. The model is a local stub on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startModelStub } from '../helpers/model-stub.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const PAGE = '<html><body><main><h1>Blue Widget</h1><p>Price: $1,299.99</p></main></body></html>';

async function extract(service: TestService): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(
    `${service.baseUrl}/extraction?${new URLSearchParams({ key: LIVE_KEY, content_type: 'text/html', extraction_prompt: 'price?' })}`,
    { method: 'POST', headers: { 'content-type': 'text/html' }, body: PAGE },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the language model's endpoint and the egress guard", () => {
  let model: Awaited<ReturnType<typeof startModelStub>>;
  const services: TestService[] = [];
  const start = async (env: Record<string, string>, names: Record<string, string>) => {
    const service = await startService(
      { SNAPWIRE_LLM_MODEL: 'stub-model', SNAPWIRE_LLM_TIMEOUT: '3s', ...env },
      names,
      { browsers: false },
    );
    services.push(service);
    return service;
  };

  before(async () => {
    model = await startModelStub();
  });
  after(async () => {
    for (const service of services) await service.close();
    await model?.close();
  });

  it("a name resolved by the service's resolver to loopback works, though captured pages may not go there", async () => {
    model.reset();
    // Loopback is not opened for pages here (only an unrelated address is), yet the operator's model on
    // 127.0.0.1 is reached: by its name, through the service's resolver.
    const service = await start(
      {
        SNAPWIRE_ALLOWED_NETWORKS: '198.18.0.1/32',
        SNAPWIRE_LLM_BASE_URL: `http://models.internal:${model.port}/v1`,
      },
      { 'models.internal': '127.0.0.1', 'shop.test': '127.0.0.1' },
    );
    const answer = await extract(service);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.data, { price: 1299.99, currency: 'USD' });
    assert.equal(model.stub.requests.length, 1);

    // The same address stays closed to what a caller asks to fetch.
    const scrape = await fetch(
      `${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, url: `http://shop.test:${model.port}/` })}`,
    );
    const refused = (await scrape.json()) as { code?: string; result?: { error?: { code?: string } } };
    assert.notEqual(scrape.status, 200);
    assert.match(JSON.stringify(refused), /DOMAIN_NOT_ALLOWED/);
  });

  it('an endpoint in SNAPWIRE_DENIED_NETWORKS is refused before any connection; the caller is not told the address', async () => {
    model.reset();
    const service = await start(
      { SNAPWIRE_DENIED_NETWORKS: '127.0.0.1/32', SNAPWIRE_LLM_BASE_URL: model.baseUrl },
      {},
    );
    const answer = await extract(service);
    assert.equal(answer.status, 422);
    assert.equal(answer.body.code, 'ERR::EXTRACTION::MODEL_UNAVAILABLE');
    assert.match(String(answer.body.message), /refused by the egress guard/);
    assert.ok(!JSON.stringify(answer.body).includes('127.0.0.1'), JSON.stringify(answer.body));
    assert.equal(model.stub.requests.length, 0, 'the model was never contacted');
  });

  it('a name that resolves to the cloud metadata address is refused (never connected to)', async () => {
    model.reset();
    const service = await start(
      { SNAPWIRE_LLM_BASE_URL: `http://models.internal:${model.port}/v1` },
      { 'models.internal': '169.254.169.254' },
    );
    const answer = await extract(service);
    assert.equal(answer.status, 422);
    assert.equal(answer.body.code, 'ERR::EXTRACTION::MODEL_UNAVAILABLE');
    assert.match(String(answer.body.message), /refused by the egress guard/);
  });

  it('a redirect from the endpoint is not followed', async () => {
    model.reset();
    model.stub.mode = 'redirect';
    const service = await start({ SNAPWIRE_LLM_BASE_URL: model.baseUrl }, {});
    const answer = await extract(service);
    assert.equal(answer.status, 422);
    assert.equal(answer.body.code, 'ERR::EXTRACTION::MODEL_UNAVAILABLE');
    assert.match(
      String(answer.body.message),
      /answered a redirect \(HTTP 307\), which Snapwire does not follow/,
    );
    assert.equal(model.stub.requests.length, 1);
  });
});
