import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

// A sign-in chain over two sites on loopback, as single sign-on does it: shop.test sets a cookie on its
// 302 to sso.test, which sets its own on its 302 back to shop.test. Each server notes the Cookie header
// every request brought, so the test sees what went where.
describe('/scrape without a browser: cookies set by intermediate redirects', () => {
  let service: TestService;
  let shop: FixtureServer;
  let sso: FixtureServer;
  const seen: Array<{ at: string; cookie: string | undefined }> = [];
  const note = (at: string, cookie: string | undefined) => seen.push({ at, cookie });
  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0]) =>
    (await new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl }).scrape(
      new ScrapeConfig(options),
    )) as ScrapeResult;

  before(async () => {
    shop = await startFixtureServer({
      originHost: 'shop.test',
      routes: {
        '/start': (req, res) => {
          note('shop/start', req.headers.cookie);
          res
            .writeHead(302, {
              location: `${sso.origin}/authorize`,
              'set-cookie': ['cart=42; Path=/; HttpOnly'],
            })
            .end();
        },
        '/welcome': (req, res) => {
          note('shop/welcome', req.headers.cookie);
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`cookie: ${req.headers.cookie ?? 'none'}`);
        },
        '/echo': (req, res) => {
          note('shop/echo', req.headers.cookie);
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`cookie: ${req.headers.cookie ?? 'none'}`);
        },
      },
    });
    sso = await startFixtureServer({
      originHost: 'sso.test',
      routes: {
        '/authorize': (req, res) => {
          note('sso/authorize', req.headers.cookie);
          res
            .writeHead(302, {
              location: `${shop.origin}/welcome`,
              'set-cookie': ['sso_token=t0k; Path=/; Secure', 'sso_seen=1; Path=/'],
            })
            .end();
        },
        '/echo': (req, res) => {
          note('sso/echo', req.headers.cookie);
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`cookie: ${req.headers.cookie ?? 'none'}`);
        },
      },
    });
    service = await startService(
      {},
      { 'shop.test': '127.0.0.1', 'sso.test': '127.0.0.1' },
      { browsers: false },
    );
  });
  after(async () => {
    await service?.close();
    await shop?.close();
    await sso?.close();
  });

  it("the next hops on an origin carry its cookies, never another origin's; the answer lists them all", async () => {
    seen.length = 0;
    const result = await scrape({ url: `${shop.origin}/start`, cookies: { lang: 'fr' } });

    assert.equal(result.result.url, `${shop.origin}/welcome`);
    assert.deepEqual(seen, [
      { at: 'shop/start', cookie: 'lang=fr' },
      // Neither the caller's cookie nor shop.test's reaches sso.test.
      { at: 'sso/authorize', cookie: undefined },
      // Back on shop.test: the caller's cookie and the one its own 302 set; sso.test's stay at sso.test.
      { at: 'shop/welcome', cookie: 'lang=fr; cart=42' },
    ]);
    assert.equal(result.result.content, 'cookie: lang=fr; cart=42');

    const cookies = (result.result.cookies as Array<{ name: string; value: string; domain: string }>).map(
      ({ name, value, domain }) => `${name}=${value}@${domain}`,
    );
    assert.deepEqual(cookies, ['cart=42@shop.test', 'sso_token=t0k@sso.test', 'sso_seen=1@sso.test']);
  });

  it('a session keeps each redirect cookie for its own origin only, for the next scrapes', async () => {
    await scrape({ url: `${shop.origin}/start`, session: 'sign-in' });
    seen.length = 0;

    await scrape({ url: `${shop.origin}/echo`, session: 'sign-in' });
    // Secure: sso_token was set over http, so it is kept but only ever sent over https.
    await scrape({ url: `${sso.origin}/echo`, session: 'sign-in' });
    await scrape({ url: `${shop.origin}/echo` });
    assert.deepEqual(seen, [
      { at: 'shop/echo', cookie: 'cart=42' },
      { at: 'sso/echo', cookie: 'sso_seen=1' },
      { at: 'shop/echo', cookie: undefined },
    ]);
  });
});
