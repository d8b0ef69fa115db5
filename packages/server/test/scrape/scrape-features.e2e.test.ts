import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

/** Each answer of /counted says how many times the target was asked. */
let counted = 0;

const routes: Record<string, Handler> = {
  '/with-cookie': (_req, res) => {
    res
      .writeHead(201, {
        'content-type': 'text/html; charset=utf-8',
        'x-fixture': 'kept',
        'set-cookie': ['basket=3; Path=/', 'seen=1; HttpOnly'],
      })
      .end('<html><body><h1>Made</h1><a href="/next">next</a></body></html>');
  },
  // Never answers; the socket is destroyed when the server closes.
  '/no-answer': () => {},
  '/counted': (req, res) => {
    counted += 1;
    req.resume();
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<html><body><h1>Visit ${counted}</h1><p>${req.method} ${req.headers['x-variant'] ?? ''}</p></body></html>`,
      );
  },
};

/** cache and proxified_response through Scrapfly's TypeScript SDK, unmodified. */
describe("Scrapfly's TypeScript SDK client.scrape(): cache and proxified_response", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0], key = LIVE_KEY) =>
    (await new ScrapflyClient({ key, host: service.baseUrl }).scrape(
      new ScrapeConfig(options),
    )) as ScrapeResult;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService({}, {}, { clock });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  describe('cache', () => {
    it('a second identical scrape is a HIT that costs nothing and never reaches the target', async () => {
      const url = `${fixtures.origin}/counted?cache=1`;
      const first = await scrape({ url, cache: true, format: 'markdown' });
      assert.equal(first.context.cache.state, 'MISS');
      assert.equal(first.context.cost.total, 1);
      assert.match(first.result.content, /# Visit (\d+)/);
      const before = counted;

      const second = await scrape({ url, cache: true, format: 'markdown' });
      assert.equal(second.context.cache.state, 'HIT');
      assert.equal(second.context.cost.total, 0);
      assert.equal(second.result.content, first.result.content);
      assert.equal(second.result.status_code, 200);
      assert.equal(counted, before, 'the target was not asked again');
      assert.equal(second.config.cache, true);

      // Without cache=true the cache is neither read nor written.
      const bypass = await scrape({ url, format: 'markdown' });
      assert.equal(bypass.context.cache.state, 'BYPASS');
      assert.equal(bypass.context.cost.total, 1);
      assert.equal(counted, before + 1);
    });

    it('the key covers method, headers, body and format; the environment has its own entries', async () => {
      const url = `${fixtures.origin}/counted?key=1`;
      await scrape({ url, cache: true });
      const variants: Array<ConstructorParameters<typeof ScrapeConfig>[0]> = [
        { url, cache: true, format: 'text' },
        { url, cache: true, headers: { 'x-variant': 'b' } },
        { url, cache: true, method: 'POST', body: 'a=1', headers: { 'content-type': 'text/plain' } },
        { url, cache: true, method: 'POST', body: 'a=2', headers: { 'content-type': 'text/plain' } },
      ];
      for (const variant of variants) {
        const result = await scrape(variant);
        assert.equal(result.context.cache.state, 'MISS', JSON.stringify(variant));
      }
      const otherEnvironment = await scrape({ url, cache: true }, TEST_KEY);
      assert.equal(otherEnvironment.context.cache.state, 'MISS');
      const again = await scrape({
        url,
        cache: true,
        method: 'POST',
        body: 'a=2',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(again.context.cache.state, 'HIT');
    });

    it('cache_ttl ages an entry out; cache_clear scrapes anew and replaces it', async () => {
      const url = `${fixtures.origin}/counted?ttl=1`;
      const first = await scrape({ url, cache: true, cache_ttl: 60 });
      clock.offsetMs += 30_000;
      assert.equal((await scrape({ url, cache: true, cache_ttl: 60 })).context.cache.state, 'HIT');
      clock.offsetMs += 31_000;
      const expired = await scrape({ url, cache: true, cache_ttl: 60 });
      assert.equal(expired.context.cache.state, 'MISS');
      assert.notEqual(expired.result.content, first.result.content);

      const cleared = await scrape({ url, cache: true, cache_clear: true });
      assert.equal(cleared.context.cache.state, 'MISS');
      assert.equal(cleared.context.cost.total, 1);
      const hit = await scrape({ url, cache: true });
      assert.equal(hit.context.cache.state, 'HIT');
      assert.equal(hit.result.content, cleared.result.content);
    });

    it('an upstream error is not kept; a render_js scrape is kept with its browser data', async () => {
      const missing = `${fixtures.origin}/status-404`;
      await assert.rejects(scrape({ url: missing, cache: true }));
      await assert.rejects(scrape({ url: missing, cache: true }), (error: unknown) => {
        const args = (error as { args: { api_response: ScrapeResult } }).args;
        assert.equal(args.api_response.context.cache.state, 'MISS');
        return true;
      });

      const url = `${fixtures.origin}/late`;
      const js = 'return document.title';
      const rendered = await scrape({ url, render_js: true, js, cache: true, wait_for_selector: '#late' });
      assert.equal(rendered.context.cache.state, 'MISS');
      assert.equal(rendered.context.cost.total, 6);
      const hit = await scrape({ url, render_js: true, js, cache: true, wait_for_selector: '#late' });
      assert.equal(hit.context.cache.state, 'HIT');
      assert.equal(hit.context.cost.total, 0);
      assert.equal(hit.result.browser_data.javascript_evaluation_result, 'Late');
      assert.match(hit.result.content, /<div id="late"><\/div>/);
    });

    it('a cache_ttl out of range is a clear 400', async () => {
      const response = await fetch(
        `${service.baseUrl}/scrape?key=${LIVE_KEY}&cache=true&cache_ttl=99999999&url=${encodeURIComponent(`${fixtures.origin}/counted`)}`,
      );
      assert.equal(response.status, 400);
      const body = (await response.json()) as { code: string; reason: string };
      assert.equal(body.code, 'ERR::SCRAPE::CONFIG_ERROR');
      assert.match(body.reason, /cache_ttl parameter must be between 1 and 2592000 seconds/);
    });
  });

  describe('proxified_response', () => {
    const proxified = async (options: ConstructorParameters<typeof ScrapeConfig>[0]) =>
      (await new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl }).scrape(
        new ScrapeConfig({ ...options, proxified_response: true }),
      )) as Response;

    it("answers the target's status, headers, cookies and body as they are, with the X-Scrapfly headers", async () => {
      const response = await proxified({ url: `${fixtures.origin}/with-cookie` });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(response.headers.get('x-fixture'), 'kept');
      assert.deepEqual(response.headers.getSetCookie(), ['basket=3; Path=/', 'seen=1; HttpOnly']);
      assert.equal(response.headers.get('x-scrapfly-api-cost'), '1');
      assert.equal(response.headers.get('x-scrapfly-proxified'), 'true');
      assert.match(response.headers.get('x-scrapfly-log-uuid') ?? '', /^[0-9A-Z]{26}$/);
      assert.equal(response.headers.get('x-scrapfly-reject-code'), null);
      assert.equal(await response.text(), '<html><body><h1>Made</h1><a href="/next">next</a></body></html>');
    });

    it('the body is the content in the asked format', async () => {
      const response = await proxified({ url: `${fixtures.origin}/with-cookie`, format: 'markdown' });
      assert.match(response.headers.get('content-type') ?? '', /^text\/markdown/);
      assert.match(await response.text(), /^# Made\n\n\[next\]\(http:\/\/127\.0\.0\.1:\d+\/next\)/);
    });

    it("a target's 404 is answered as served: the SDK returns it, no reject headers", async () => {
      const response = await proxified({ url: `${fixtures.origin}/status-404` });
      assert.equal(response.status, 404);
      assert.equal(response.headers.get('x-scrapfly-reject-code'), null);
      assert.match(await response.text(), /Not here/);
    });

    it('a failure of the scrape carries X-Scrapfly-Reject-*: the SDK raises it with code and retryable', async () => {
      await assert.rejects(proxified({ url: 'http://10.0.0.1/' }), (error: unknown) => {
        assert.ok(error instanceof errors.ApiHttpClientError, `got ${(error as Error).constructor.name}`);
        const fields = error as unknown as { code: string; retryable: boolean; httpStatusCode: number };
        assert.equal(fields.code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED');
        assert.equal(fields.httpStatusCode, 422);
        assert.equal(fields.retryable, false);
        return true;
      });
      // A 5xx is retried by the SDK's fetch before scrape() reads it: the headers are read directly here.
      const timedOut = await fetch(
        `${service.baseUrl}/scrape?key=${LIVE_KEY}&proxified_response=true&timeout=1000&url=${encodeURIComponent(`${fixtures.origin}/no-answer`)}`,
      );
      assert.equal(timedOut.status, 504);
      assert.equal(timedOut.headers.get('x-scrapfly-reject-code'), 'ERR::SCRAPE::OPERATION_TIMEOUT');
      assert.equal(timedOut.headers.get('x-scrapfly-reject-retryable'), 'true');
      assert.equal(timedOut.headers.get('retry-after'), '1');
      const body = (await timedOut.json()) as { code: string; message: string };
      assert.equal(body.code, 'ERR::SCRAPE::OPERATION_TIMEOUT');
      assert.match(body.message, /timeout=1000/);
      // A bad parameter is refused before the scrape, with the same headers.
      await assert.rejects(
        proxified({ url: `${fixtures.origin}/with-cookie`, cache: true, cache_ttl: 99999999 }),
        (error: unknown) => {
          assert.equal((error as unknown as { code: string }).code, 'ERR::SCRAPE::CONFIG_ERROR');
          return true;
        },
      );
    });
  });
});
