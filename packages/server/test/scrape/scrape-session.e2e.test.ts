import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { SESSION_IDLE_MS } from '../../src/scrape/session-store.js';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

const routes: Record<string, Handler> = {
  '/login': (_req, res) => {
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'set-cookie': ['sid=abc123; Path=/; HttpOnly', 'theme=dark; Path=/; Max-Age=3600'],
      })
      .end('<html><body>signed in</body></html>');
  },
  '/logout': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html', 'set-cookie': ['sid=; Path=/; Max-Age=0'] })
      .end('<html><body>bye</body></html>');
  },
  // Answers the Cookie header it got; a page script adds a cookie of its own.
  '/whoami': (req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<html><body><p id="cookie">${req.headers.cookie ?? 'none'}</p><script>document.cookie = 'fromjs=1; path=/';</script></body></html>`,
      );
  },
  // Counts its visits in localStorage, as a page remembering a visitor does.
  '/visits': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<html><body><p id="visits"></p><script>const visits = Number(localStorage.getItem('visits') ?? 0) + 1; localStorage.setItem('visits', String(visits)); document.getElementById('visits').textContent = String(visits);</script></body></html>`,
      );
  },
  '/slow': (_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow'), 1500);
  },
};

/** session=NAME through Scrapfly's TypeScript SDK, unmodified (docs/compat.md §7, "session"). */
describe("Scrapfly's TypeScript SDK client.scrape() with session", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0], key = LIVE_KEY) =>
    (await new ScrapflyClient({ key, host: service.baseUrl }).scrape(
      new ScrapeConfig(options),
    )) as ScrapeResult;
  const cookieSeen = (result: ScrapeResult) =>
    /<p id="cookie">([^<]*)<\/p>/.exec(result.result.content)?.[1] ?? '';

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService({}, {}, { clock });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('without a browser: the cookies a target set are sent on the next scrape of the same session only', async () => {
    const login = await scrape({ url: `${fixtures.origin}/login`, session: 'plain' });
    assert.equal(login.context.session, 'plain');
    assert.equal(login.config.session, 'plain');

    const again = await scrape({ url: `${fixtures.origin}/whoami`, session: 'plain' });
    assert.equal(cookieSeen(again), 'sid=abc123; theme=dark');
    // The caller's own cookies go along, first.
    const mine = await scrape({
      url: `${fixtures.origin}/whoami`,
      session: 'plain',
      cookies: { lang: 'fr' },
    });
    assert.equal(cookieSeen(mine), 'lang=fr; sid=abc123; theme=dark');

    assert.equal(cookieSeen(await scrape({ url: `${fixtures.origin}/whoami` })), 'none');
    assert.equal(cookieSeen(await scrape({ url: `${fixtures.origin}/whoami`, session: 'other' })), 'none');
    assert.equal(
      cookieSeen(await scrape({ url: `${fixtures.origin}/whoami`, session: 'plain' }, TEST_KEY)),
      'none',
      'the TEST environment has its own sessions',
    );

    // A cookie the target deletes is gone from the session.
    await scrape({ url: `${fixtures.origin}/logout`, session: 'plain' });
    assert.equal(
      cookieSeen(await scrape({ url: `${fixtures.origin}/whoami`, session: 'plain' })),
      'theme=dark',
    );
  });

  it('with a browser: the session is loaded into the page and what the page set is kept', async () => {
    await scrape({ url: `${fixtures.origin}/login`, session: 'browser' });
    const rendered = await scrape({ url: `${fixtures.origin}/whoami`, session: 'browser', render_js: true });
    assert.equal(cookieSeen(rendered), 'sid=abc123; theme=dark');
    assert.equal(rendered.context.session, 'browser');
    // The cookie the page's script set is in the session for the next scrape, with or without a browser.
    const next = await scrape({ url: `${fixtures.origin}/whoami`, session: 'browser' });
    assert.deepEqual(cookieSeen(next).split('; ').sort(), ['fromjs=1', 'sid=abc123', 'theme=dark']);
  });

  it("with a browser: the page's localStorage is kept in the session for its origin and put back next time", async () => {
    const visits = (result: ScrapeResult) => /<p id="visits">(\d+)<\/p>/.exec(result.result.content)?.[1];
    const url = `${fixtures.origin}/visits`;
    assert.equal(visits(await scrape({ url, session: 'remembered', render_js: true })), '1');
    assert.equal(visits(await scrape({ url, session: 'remembered', render_js: true })), '2');
    const third = await scrape({ url, session: 'remembered', render_js: true });
    assert.equal(visits(third), '3');
    assert.deepEqual(third.result.browser_data.local_storage_data, { visits: '3' });
    // Another session, and no session, start with an empty storage.
    assert.equal(visits(await scrape({ url, session: 'other-visitor', render_js: true })), '1');
    assert.equal(visits(await scrape({ url, render_js: true })), '1');
    // The TEST environment's session of the same name is another session.
    assert.equal(visits(await scrape({ url, session: 'remembered', render_js: true }, TEST_KEY)), '1');
  });

  it("another scrape's browser context running at the same time leaks nothing into the session", async () => {
    const other = scrape({
      url: `${fixtures.origin}/whoami`,
      render_js: true,
      cookies: { leak: 'x' },
      rendering_wait: 2500,
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await scrape({ url: `${fixtures.origin}/whoami`, session: 'isolated', render_js: true });
    await other;
    const next = await scrape({ url: `${fixtures.origin}/whoami`, session: 'isolated' });
    assert.equal(cookieSeen(next), 'fromjs=1');
  });

  it('a session idle for longer than its expiry starts empty, and the retention sweep deletes it', async () => {
    await scrape({ url: `${fixtures.origin}/login`, session: 'idle' });
    await scrape({ url: `${fixtures.origin}/login`, session: 'swept' });
    clock.offsetMs += SESSION_IDLE_MS + 60_000;
    try {
      assert.equal(cookieSeen(await scrape({ url: `${fixtures.origin}/whoami`, session: 'idle' })), 'none');
      const { services } = service.snapwire;
      await services.retention.sweep();
      const names = await service.snapwire.store.db.selectFrom('scrape_sessions').select('name').execute();
      assert.ok(!names.some((row) => row.name === 'swept'), 'the idle session is gone from the store');
      assert.ok(
        names.some((row) => row.name === 'idle'),
        'the session used again is kept',
      );
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('one scrape at a time per session: a second one meanwhile is ERR::SESSION::CONCURRENT_ACCESS', async () => {
    const first = scrape({ url: `${fixtures.origin}/slow`, session: 'busy' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&session=busy&url=${encodeURIComponent(`${fixtures.origin}/whoami`)}`,
    );
    assert.equal(second.status, 429);
    const body = (await second.json()) as { code: string; message: string };
    assert.equal(body.code, 'ERR::SESSION::CONCURRENT_ACCESS');
    assert.match(body.message, /session "busy" is in use by another scrape/);
    assert.equal((await first).result.content, 'slow');
    // Once it ended, the session is free again.
    assert.equal(
      (await scrape({ url: `${fixtures.origin}/whoami`, session: 'busy' })).result.status_code,
      200,
    );
  });

  it('a session name over 255 characters is a 400 saying the limit', async () => {
    const response = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&session=${'s'.repeat(256)}&url=${encodeURIComponent(`${fixtures.origin}/whoami`)}`,
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(body.message, /session parameter must be a name of 1 to 255 characters.*got 256/);
  });
});
