import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Crawl, CrawlerConfig, ScrapflyClient } from 'scrapfly-sdk';
import { startModelStub, userMessage } from '../helpers/model-stub.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { startSmallSite } from './small-site.js';

/**
 * extraction_rules of type prompt and model: each matching page is sent to the operator's language model
 * (here a local OpenAI-compatible stub) through the Extraction API's model path, billed and logged as a
 * POST /extraction is; its answer is the page's extracted_data.
 */
describe('Crawled pages: prompt and model extraction_rules through the language model', () => {
  let service: TestService;
  let site: Awaited<ReturnType<typeof startSmallSite>>;
  let model: Awaited<ReturnType<typeof startModelStub>>;
  let client: ScrapflyClient;

  before(async () => {
    site = await startSmallSite();
    model = await startModelStub();
    service = await startService(
      { SNAPWIRE_LLM_BASE_URL: model.baseUrl, SNAPWIRE_LLM_MODEL: 'stub-model' },
      { 'site.test': '127.0.0.1' },
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await model?.close();
    await site?.close();
  });

  const extractedOf = async (uuid: string, path: string) => {
    const response = await fetch(
      `${service.baseUrl}/crawl/${uuid}/contents?key=${LIVE_KEY}&plain=true&format=extracted_data&url=${encodeURIComponent(`${site.origin}${path}`)}`,
    );
    return { status: response.status, text: await response.text() };
  };

  it('asks the model about each matching page, stores its answer, bills and logs it as an extraction', async () => {
    // The stub answers with the heading it was shown, so each page's answer is its own.
    model.stub.answerFor = (request) =>
      JSON.stringify({ heading: /Page ([AB])/.exec(userMessage(request))?.[0] ?? null });
    const projectId = (await service.snapwire.services.projects.findByName('default'))!.id;
    const creditsBefore = await service.snapwire.services.credits.used(projectId);
    const crawl = new Crawl(
      client,
      new CrawlerConfig({
        url: `${site.origin}/`,
        respect_robots_txt: false,
        exclude_paths: ['/private/*'],
        content_formats: ['markdown'],
        extraction_rules: {
          '/a': { type: 'prompt', value: 'What is the heading of this page?' },
          '/b': { type: 'model', value: 'article' },
        },
      }),
    );
    await crawl.start();
    await crawl.wait({ pollInterval: 0.1, maxWait: 60 });
    const uuid = crawl.uuid!;

    assert.deepEqual(JSON.parse((await extractedOf(uuid, '/a')).text), { heading: 'Page A' });
    assert.deepEqual(JSON.parse((await extractedOf(uuid, '/b')).text), { heading: 'Page B' });
    assert.equal((await extractedOf(uuid, '/')).status, 404, 'no rule matches /: no extracted_data');

    const asked = model.stub.requests.map(userMessage);
    assert.equal(asked.length, 2, 'one model call per matching page');
    assert.ok(asked.some((message) => message.includes('What is the heading of this page?')));
    assert.ok(
      model.stub.requests.some((request) =>
        request.body.messages.some((message) => message.content.includes('"headline"')),
      ),
      "the article model's shape was asked for",
    );

    // Two extractions of 5 credits each, besides 1 credit a page fetched (/, /a, /b and the 404).
    const status = await client.crawlStatus(uuid);
    const pages = status.state.urls_visited + status.state.urls_failed;
    assert.equal(status.state.api_credit_used, pages + 2 * 5);
    const creditsAfter = await service.snapwire.services.credits.used(projectId);
    assert.equal(creditsAfter - creditsBefore, pages + 2 * 5, 'the project billed once for each');

    const response = await fetch(
      `${service.baseUrl}/screenshot/logs?key=${LIVE_KEY}&kind=extraction&limit=100`,
    );
    const { logs } = (await response.json()) as {
      logs: Array<{ url: string; cost: number; status: string; params: { method?: string; model?: string } }>;
    };
    const byPath = new Map(logs.map((log) => [new URL(log.url).pathname, log]));
    assert.equal(byPath.get('/a')?.params.method, 'prompt');
    assert.equal(byPath.get('/a')?.cost, 5);
    assert.equal(byPath.get('/b')?.params.model, 'article');
    assert.equal(byPath.get('/b')?.status, 'success');
  });

  it('a model that fails leaves the page visited without extracted_data, and the extraction unbilled', async () => {
    model.reset();
    model.stub.mode = 'error';
    try {
      const crawl = new Crawl(
        client,
        new CrawlerConfig({
          url: `${site.origin}/a`,
          respect_robots_txt: false,
          page_limit: 1,
          content_formats: ['markdown'],
          extraction_rules: { '/*': { type: 'prompt', value: 'the heading' } },
        }),
      );
      await crawl.start();
      await crawl.wait({ pollInterval: 0.1, maxWait: 60 });
      const status = await client.crawlStatus(crawl.uuid!);
      assert.equal(status.state.urls_visited, 1);
      assert.equal(model.stub.requests.length > 0, true, 'the model was asked');
      assert.equal((await extractedOf(crawl.uuid!, '/a')).status, 404);
      assert.equal(status.state.api_credit_used, status.state.urls_visited + status.state.urls_failed);
    } finally {
      model.stub.mode = 'json';
    }
  });
});
