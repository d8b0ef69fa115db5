// client.scrape() against a live service (real Chromium for render_js) and loopback fixture pages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildScrapeQuery,
  ScrapeError,
  scrapeContent,
  SnapwireApiError,
  SnapwireClient,
  UpstreamHttpClientError,
  UpstreamHttpError,
  UpstreamHttpServerError,
} from '../src/index.js';
import {
  startFixtureServer,
  type FixtureServer,
  type Handler,
} from '../../server/test/helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { createWebhook, deliveryOf } from '../../server/test/helpers/async-jobs.js';
import { startReceiver } from '../../server/test/helpers/receiver.js';

const FIXTURES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'server',
  'test',
  'fixtures',
);

/** What the echo route saw of its last request. */
let echoed: { method: string; headers: Record<string, unknown>; body: string } | undefined;

const routes: Record<string, Handler> = {
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      echoed = {
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got: echoed.body }));
    });
  },
  '/status-503': (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
  },
  // Closes the connection without an answer: a network error the service marks retryable.
  '/hang-up': (req) => {
    req.socket.destroy();
  },
};

describe('SnapwireClient.scrape() against a live service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: SnapwireClient;
  let origin: string;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService();
    client = new SnapwireClient({
      host: service.baseUrl,
      key: LIVE_KEY,
      retry: { retries: 2, baseDelayMs: 10 },
    });
    origin = `http://fixtures.test:${fixtures.port}`;
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('sends each parameter under its served name (the service refuses unknown names)', () => {
    const query = buildScrapeQuery({
      url: 'https://example.com/a',
      headers: { 'x-one': '1', cookie: 'a=1; b=2' },
      format: 'markdown',
      format_options: ['no_links', 'only_content'],
      render_js: true,
      wait_for_selector: '#main',
      js: 'return 1',
      rendering_wait: 250,
      auto_scroll: false,
      lang: ['fr', 'en'],
      tags: ['a', 'b'],
      cost_budget: 6,
      correlation_id: 'c-1',
      geolocation: { latitude: 1.5, longitude: -2 },
    });
    assert.equal(
      query.toString(),
      new URLSearchParams([
        ['url', 'https://example.com/a'],
        ['headers[x-one]', '1'],
        ['headers[cookie]', 'a=1; b=2'],
        ['format', 'markdown:no_links,only_content'],
        ['render_js', 'true'],
        ['wait_for_selector', '#main'],
        ['js', 'cmV0dXJuIDE'],
        ['rendering_wait', '250'],
        ['auto_scroll', 'false'],
        ['geolocation', '1.5,-2'],
        ['lang', 'fr,en'],
        ['cost_budget', '6'],
        ['tags', 'a,b'],
        ['correlation_id', 'c-1'],
      ]).toString(),
    );
    assert.throws(() => buildScrapeQuery({ url: '' }), /`url` is required/);
  });

  it('sends js_scenario as base64url JSON, screenshots[NAME], screenshot_flags and session', () => {
    const query = buildScrapeQuery({
      url: 'https://example.com/shop',
      render_js: true,
      js_scenario: [{ click: { selector: '#go' } }, { wait: 500 }],
      screenshots: { cart: '#cart', whole: 'fullpage' },
      screenshot_flags: ['high_quality', 'dark_mode'],
      session: 'my-cart',
    });
    const steps = JSON.parse(Buffer.from(query.get('js_scenario') ?? '', 'base64url').toString('utf8'));
    assert.deepEqual(steps, [{ click: { selector: '#go' } }, { wait: 500 }]);
    assert.doesNotMatch(query.get('js_scenario') ?? '', /[=+/]/, 'base64url without padding');
    assert.equal(query.get('screenshots[cart]'), '#cart');
    assert.equal(query.get('screenshots[whole]'), 'fullpage');
    assert.equal(query.get('screenshot_flags'), 'high_quality,dark_mode');
    assert.equal(query.get('session'), 'my-cart');
  });

  it('answers the typed envelope: markdown of the page, cost, log URL, and the config it ran with', async () => {
    const scrape = await client.scrape({
      url: `${origin}/scrape-article`,
      format: 'markdown',
      format_options: ['no_images'],
      tags: ['faces', 'sdk'],
      correlation_id: 'sdk-1',
      cost_budget: 1,
      timeout: 20_000,
    });
    assert.equal(scrape.result.success, true);
    assert.equal(scrape.result.status_code, 200);
    assert.equal(scrape.result.url, `${origin}/scrape-article`);
    assert.match(scrape.result.content, /# Lighthouse keepers/);
    assert.match(scrape.result.content, /\[oil lamps\]\(http:\/\/fixtures\.test:\d+\/lamps\?kind=oil\)/);
    assert.doesNotMatch(scrape.result.content, /!\[/, 'no_images');
    assert.match(scrape.result.content_type ?? '', /^text\/markdown/);
    assert.equal(scrape.context.cost.total, 1);
    assert.deepEqual(scrape.config.tags, ['faces', 'sdk']);
    assert.equal(scrape.config.correlation_id, 'sdk-1');
    assert.match(scrape.result.log_url, /\/dashboard\/monitoring\/log\/[0-9A-Z]{26}$/);
    assert.equal(scrapeContent(scrape), scrape.result.content);
  });

  it('POSTs a body with its content type and headers to the target, and PUTs bytes', async () => {
    const posted = await client.scrape({
      url: `${origin}/echo`,
      method: 'POST',
      body: '{"q":"lamps"}',
      headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
      format: 'json',
    });
    assert.equal(posted.config.method, 'POST');
    assert.deepEqual(JSON.parse(posted.result.content), { got: '{"q":"lamps"}' });
    assert.equal(echoed?.method, 'POST');
    assert.equal(echoed?.headers['content-type'], 'application/json');
    assert.equal(echoed?.headers['x-trace'], 'abc');

    await client.scrape({ url: `${origin}/echo`, method: 'PUT', body: new Uint8Array([0x68, 0x69]) });
    assert.equal(echoed?.method, 'PUT');
    assert.equal(echoed?.body, 'hi');
    assert.equal(echoed?.headers['content-type'], 'application/octet-stream');
  });

  it('render_js waits for the selector and answers the js return value', async () => {
    const scrape = await client.scrape({
      url: `${origin}/late`,
      render_js: true,
      wait_for_selector: '#late',
      js: "return document.querySelector('#late').id",
      rendering_wait: 0,
      auto_scroll: true,
    });
    assert.match(scrape.result.content, /<div id="late"><\/div>/);
    assert.equal(scrape.result.browser_data.javascript_evaluation_result, 'late');
    assert.equal(scrape.context.cost.total, 6);
  });

  it('an upstream 404 throws UpstreamHttpClientError with the status and the page; a 503 the server one', async () => {
    const notFound = await client.scrape({ url: `${origin}/status-404` }).then(
      () => assert.fail('a 404 target must throw'),
      (error: unknown) => error,
    );
    assert.ok(notFound instanceof UpstreamHttpClientError, `got ${(notFound as Error).name}`);
    assert.ok(notFound instanceof UpstreamHttpError && notFound instanceof ScrapeError);
    assert.ok(notFound instanceof SnapwireApiError);
    assert.equal(notFound.code, 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE');
    assert.equal(notFound.upstreamStatus, 404);
    assert.match(notFound.message, /^ERR::SCRAPE::BAD_UPSTREAM_RESPONSE: The target answered 404/);
    assert.match(notFound.scrape.result.content, /<h1>Not here<\/h1>/);
    assert.equal(notFound.scrape.context.cost.total, 1, 'an upstream error is billed');

    const down = await client.scrape({ url: `${origin}/status-503` }).then(
      () => assert.fail('a 503 target must throw'),
      (error: unknown) => error,
    );
    assert.ok(down instanceof UpstreamHttpServerError, `got ${(down as Error).name}`);
    assert.equal(down.upstreamStatus, 503);
    assert.equal(down.scrape.result.content, 'down for maintenance');
  });

  it('a failed scrape is a ScrapeError with its catalogue code; a refusal before it a plain API error', async () => {
    const binary = await client.scrape({ url: `${origin}/image.png`, format: 'markdown' }).then(
      () => assert.fail('markdown of an image must throw'),
      (error: unknown) => error,
    );
    assert.ok(binary instanceof ScrapeError && !(binary instanceof UpstreamHttpError));
    assert.equal(binary.code, 'ERR::SCRAPE::FORMAT_NOT_SUPPORTED');
    assert.equal(binary.httpStatus, 422);
    assert.ok(binary.docUrl);

    const refused = await client.scrape({ url: `${origin}/scrape-article`, timeout: 5 }).then(
      () => assert.fail('timeout 5 must be refused'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof SnapwireApiError && !(refused instanceof ScrapeError));
    assert.equal(refused.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.equal(refused.httpStatus, 400);
    assert.match(refused.reason ?? '', /timeout/);
  });

  it('a binary target answers base64; scrapeContent gives back its bytes', async () => {
    const scrape = await client.scrape({ url: `${origin}/image.png` });
    assert.equal(scrape.result.format, 'binary');
    assert.deepEqual(scrapeContent(scrape), fs.readFileSync(path.join(FIXTURES, 'pixel.png')));
  });

  it('retries a retryable scrape failure for GET, never sends a POST twice', async () => {
    fixtures.hits.delete('/hang-up');
    const get = await client.scrape({ url: `${origin}/hang-up` }).then(
      () => assert.fail('a hang-up must throw'),
      (error: unknown) => error,
    );
    assert.ok(get instanceof ScrapeError);
    assert.equal(get.code, 'ERR::SCRAPE::NETWORK_ERROR');
    assert.equal(get.retryable, true);
    assert.equal(fixtures.hits.get('/hang-up'), 3, 'the first call and two retries');

    fixtures.hits.delete('/hang-up');
    const post = await client.scrape({ url: `${origin}/hang-up`, method: 'POST', body: 'order=1' }).then(
      () => assert.fail('a hang-up must throw'),
      (error: unknown) => error,
    );
    assert.ok(post instanceof ScrapeError);
    assert.equal(post.code, 'ERR::SCRAPE::NETWORK_ERROR');
    assert.equal(fixtures.hits.get('/hang-up'), 1, 'a POST reached the target once');
  });

  it('webhook_name: resolves at once to the envelope naming the queued job; the scrape is delivered', async () => {
    const receiver = await startReceiver();
    try {
      await createWebhook(service.baseUrl, 'sdk-pages', receiver.url);
      const queued = await client.scrape({
        url: `${fixtures.origin}/scrape-article`,
        webhook_name: 'sdk-pages',
      });
      const job = queued.context.job?.uuid ?? '';
      assert.equal(queued.context.webhook?.name, 'sdk-pages');
      assert.equal(queued.result.content, '');
      const delivery = await deliveryOf(receiver, job);
      assert.match(JSON.parse(delivery.body.toString('utf8')).result.content, /Lighthouse keepers/);
    } finally {
      await receiver.close();
    }
  });
});
