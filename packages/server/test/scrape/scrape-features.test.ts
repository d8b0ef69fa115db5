import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

/** Each answer of /counted says how many times the target was asked. */
let counted = 0;

const routes: Record<string, Handler> = {
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

/** cache, proxified_response, session and js_scenario through Scrapfly's TypeScript SDK, unmodified. */
describe("Scrapfly's TypeScript SDK client.scrape(): cache, proxified_response, session, js_scenario", () => {
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

});
