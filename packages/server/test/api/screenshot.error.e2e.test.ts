import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { screenshot, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { projectScope } from '../../src/accounts/concurrency-leases.js';

/** Checks the whole Scrapfly error contract: status, exact JSON content type, body fields, reject headers. */
async function expectError(
  response: Response,
  code: ErrorCode,
  reason?: RegExp,
): Promise<Record<string, unknown>> {
  const text = await response.text();
  const definition = ERROR_CATALOGUE[code];
  assert.equal(response.status, definition.httpStatus, `${code}: ${text}`);
  assert.equal(
    response.headers.get('content-type'),
    'application/json',
    'the SDKs compare the whole content type',
  );
  const body = JSON.parse(text);
  assert.equal(body.code, code, text);
  assert.equal(body.http_code, definition.httpStatus);
  assert.equal(body.retryable, definition.retryable);
  assert.match(body.error_id, /^[0-9a-f-]{36}$/);
  // This service's own error reference (/docs/errors), never another company's documentation.
  assert.match(body.links['Related Error Doc'], new RegExp(`^http://localhost:\\d+/docs/errors#${code}$`));
  assert.ok(typeof body.reason === 'string' && body.reason.length > 20, 'a reason that says what to fix');
  if (reason) assert.match(body.reason, reason);
  assert.equal(response.headers.get('x-scrapfly-reject-code'), code);
  assert.equal(response.headers.get('x-scrapfly-reject-http-code'), String(definition.httpStatus));
  assert.equal(response.headers.get('x-scrapfly-reject-retryable'), String(definition.retryable));
  assert.equal(response.headers.get('x-scrapfly-reject-id'), body.error_id);
  assert.ok(response.headers.get('x-scrapfly-reject-description'));
  if (definition.retryable) assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
  return body;
}

describe('GET /screenshot errors: bad input never gives a 500 or a hang', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let closedPort: number;

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService({}, { 'loopback.test': '127.0.0.1' });
    // A port on loopback where nothing listens: connections are refused.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  const page = (path: string) => `${fixtures.origin}${path}`;

  describe('authentication', () => {
    it("answers 401 in Scrapfly's shape for a missing or unknown key", async () => {
      for (const key of ['', 'scp-live-nope']) {
        const response = await fetch(
          `${service.baseUrl}/screenshot?key=${key}&url=${encodeURIComponent(page('/solid'))}`,
        );
        assert.equal(response.status, 401);
        assert.equal(response.headers.get('content-type'), 'application/json');
        const body = await response.json();
        assert.equal(body.http_code, 401);
        assert.equal(body.reason, 'Unauthorized');
        assert.ok(body.error_id);
      }
    });
  });

  describe('parameters', () => {
    const cases: Array<[string, Record<string, string>, ErrorCode, RegExp]> = [
      ['missing url', {}, 'ERR::SCRAPE::CONFIG_ERROR', /url parameter is required/],
      ['relative url', { url: '/just/a/path' }, 'ERR::SCRAPE::CONFIG_ERROR', /not an absolute URL/],
      [
        'ftp scheme',
        { url: 'ftp://example.com/file' },
        'ERR::SCRAPE::BAD_PROTOCOL',
        /only http:\/\/ and https:\/\//,
      ],
      ['file scheme', { url: 'file:///etc/passwd' }, 'ERR::SCRAPE::BAD_PROTOCOL', /"file:"/],
      [
        'mixed-case javascript scheme',
        { url: 'JavaScript:alert(1)' },
        'ERR::SCRAPE::BAD_PROTOCOL',
        /"javascript:"/,
      ],
      [
        'unknown format',
        { format: 'bmp' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /format parameter "bmp" is not supported; use one of: jpg, png, webp, gif/,
      ],
      [
        'resolution 0x0',
        { resolution: '0x0' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /resolution parameter "0x0" is not valid/,
      ],
      ['resolution 99999x1', { resolution: '99999x1' }, 'ERR::SCRAPE::CONFIG_ERROR', /WIDTHxHEIGHT/],
      [
        'resolution as text',
        { resolution: 'large' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /resolution parameter "large"/,
      ],
      [
        'timeout as text',
        { timeout: 'soon' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /timeout parameter "soon" must be a whole number/,
      ],
      ['timeout too long', { timeout: '999999' }, 'ERR::SCRAPE::CONFIG_ERROR', /between 1000 and 120000/],
      [
        'rendering_wait over timeout',
        { timeout: '2000', rendering_wait: '5000' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /shorter than timeout/,
      ],
      ['bad base64 js', { js: 'not base64!!' }, 'ERR::SCRAPE::CONFIG_ERROR', /not valid base64url/],
      [
        'js over 16 KB',
        { js: Buffer.alloc(16 * 1024 + 1, 'a').toString('base64url') },
        'ERR::SCRAPE::CONFIG_ERROR',
        /limit is 16384 bytes/,
      ],
      [
        'unknown option',
        { options: 'dark_mode,turbo' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /options parameter "turbo" is not supported/,
      ],
      [
        'unknown vision deficiency',
        { vision_deficiency: 'colorblind' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /vision_deficiency parameter "colorblind"/,
      ],
      [
        'bad boolean',
        { auto_scroll: 'maybe' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /auto_scroll parameter "maybe" must be true or false/,
      ],
      [
        'unknown parameter',
        { resoltion: '800x600' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /Unknown parameter "resoltion"/,
      ],
      [
        'country without a proxy',
        { country: 'us' },
        'ERR::SCRAPE::CONFIG_ERROR',
        /No egress proxy is configured for country "us"/,
      ],
      ['unknown webhook', { webhook_name: 'nope' }, 'ERR::WEBHOOK::NOT_FOUND', /No webhook named "nope"/],
    ];
    for (const [name, params, code, reason] of cases) {
      it(`${name} -> ${code}`, async () => {
        await expectError(
          await screenshot(service.baseUrl, {
            url: page('/solid'),
            ...params,
            ...(params.url === undefined && name === 'missing url' ? { url: '' } : {}),
          }),
          code,
          reason,
        );
      });
    }

    it('a repeated parameter is refused', async () => {
      const response = await fetch(
        `${service.baseUrl}/screenshot?key=${encodeURIComponent('scp-live-test-0000000000000000000000')}&url=${encodeURIComponent(page('/solid'))}&format=png&format=jpg`,
      );
      await expectError(response, 'ERR::SCRAPE::CONFIG_ERROR', /format/);
    });
  });

  describe('targets', () => {
    it('an unresolvable host -> DNS_NAME_NOT_RESOLVED (the test resolver knows no such name)', async () => {
      await expectError(
        await screenshot(service.baseUrl, { url: 'http://no-such-host.test/' }),
        'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED',
        /no-such-host\.test could not be resolved/,
      );
    });

    it('connection refused -> NETWORK_ERROR', async () => {
      await expectError(
        await screenshot(service.baseUrl, { url: `http://127.0.0.1:${closedPort}/` }),
        'ERR::SCRAPE::NETWORK_ERROR',
        /ECONNREFUSED/,
      );
    });

    it('a page that never finishes loading -> 504 OPERATION_TIMEOUT, on time', async () => {
      const started = Date.now();
      await expectError(
        await screenshot(service.baseUrl, { url: page('/never-loads'), timeout: '3000' }),
        'ERR::SCRAPE::OPERATION_TIMEOUT',
        /timeout=3000/,
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 3000 + 4000, `answered within the timeout plus slack (${elapsed} ms)`);
    });

    it('a selector that never appears -> DOM_SELECTOR_NOT_FOUND before the timeout', async () => {
      await expectError(
        await screenshot(service.baseUrl, {
          url: page('/solid'),
          wait_for_selector: '#never',
          timeout: '4000',
          rendering_wait: '0',
        }),
        'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
        /#never/,
      );
    });

    it('a capture selector that matches nothing -> DOM_SELECTOR_NOT_FOUND', async () => {
      await expectError(
        await screenshot(service.baseUrl, { url: page('/solid'), capture: '#missing', rendering_wait: '0' }),
        'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
      );
    });

    it('an element with no size -> DOM_SELECTOR_INVISIBLE', async () => {
      await expectError(
        await screenshot(service.baseUrl, { url: page('/solid'), capture: '#hidden', rendering_wait: '0' }),
        'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE',
      );
    });

    it('an invalid selector -> DOM_SELECTOR_INVALID', async () => {
      await expectError(
        await screenshot(service.baseUrl, {
          url: page('/solid'),
          wait_for_selector: 'div[[[',
          rendering_wait: '0',
        }),
        'ERR::SCRAPE::DOM_SELECTOR_INVALID',
      );
    });

    it('any selector or XPath the browser refuses -> 400 DOM_SELECTOR_INVALID naming it, before the page is loaded (issue 18)', async () => {
      // hide_selectors=* /* answered 500: querySelector accepts it, the style rule it is put in does not.
      const cases: Array<[Record<string, string>, string, RegExp?]> = [
        [{ hide_selectors: '* /*' }, 'hide_selectors: "* /*"', /an unclosed comment/],
        [{ hide_selectors: '#ok, p:unknown-pseudo' }, 'hide_selectors: "p:unknown-pseudo"'],
        [{ capture: 'div[[[' }, 'capture: "div[[["'],
        [{ capture: '//div[' }, 'capture: the XPath "//div["'],
        [{ wait_for_selector: 'a:nth-child(' }, 'wait_for_selector: "a:nth-child("'],
        [{ wait_for_selector: 'xpath=count(//div)' }, 'wait_for_selector: the XPath "count(//div)"'],
        [{ click: '#a >> #b' }, 'click: "#a >> #b"'],
        [{ click: '(//a' }, 'click: the XPath "(//a"'],
      ];
      assert.equal(ERROR_CATALOGUE['ERR::SCRAPE::DOM_SELECTOR_INVALID'].httpStatus, 400);
      for (const [index, [params, named, why]] of cases.entries()) {
        const path = `/never-loaded-${index}`;
        const body = await expectError(
          await screenshot(service.baseUrl, { url: page(path), rendering_wait: '0', ...params }),
          'ERR::SCRAPE::DOM_SELECTOR_INVALID',
          why,
        );
        assert.ok(String(body.reason).includes(named), `${JSON.stringify(params)}: ${String(body.reason)}`);
        // Refused before navigation: the target was never asked for the page.
        assert.equal(fixtures.hits.get(path), undefined, `${JSON.stringify(params)} reached the target`);
      }
    });

    it("a throwing script -> JAVASCRIPT_EXECUTION with the script's message", async () => {
      const js = Buffer.from("throw new Error('boom from the test')").toString('base64url');
      await expectError(
        await screenshot(service.baseUrl, { url: page('/solid'), js, rendering_wait: '0' }),
        'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
        /boom from the test/,
      );
    });

    it('a script with a syntax error -> JAVASCRIPT_EXECUTION', async () => {
      const js = Buffer.from('this is not javascript(').toString('base64url');
      await expectError(
        await screenshot(service.baseUrl, { url: page('/solid'), js, rendering_wait: '0' }),
        'ERR::SCRAPE::JAVASCRIPT_EXECUTION',
      );
    });

    it('an image or JSON document -> INVALID_CONTENT_TYPE', async () => {
      await expectError(
        await screenshot(service.baseUrl, { url: page('/image.png') }),
        'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
        /image\/png/,
      );
      await expectError(
        await screenshot(service.baseUrl, { url: page('/data.json') }),
        'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
        /application\/json/,
      );
    });

    it('the service still captures after all of the above', async () => {
      const response = await screenshot(service.baseUrl, { url: page('/solid'), rendering_wait: '0' });
      assert.equal(response.status, 200);
    });
  });

  describe('limits', () => {
    it('a project out of monthly credits -> QUOTA_LIMIT_REACHED', async () => {
      const { keys } = await service.snapwire.services.projects.create('broke', 'FREE');
      await service.snapwire.services.projects.update('broke', { overrides: { monthlyCredits: 60 } });
      const first = await screenshot(service.baseUrl, {
        url: page('/solid'),
        rendering_wait: '0',
        key: keys.LIVE,
      });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-scrapfly-remaining-api-credit'), '0');
      await expectError(
        await screenshot(service.baseUrl, { url: page('/solid'), key: keys.LIVE }),
        'ERR::SCRAPE::QUOTA_LIMIT_REACHED',
        /used 60 of its 60 monthly credits/,
      );
    });

    it('a project over its concurrency -> retryable 429 MAX_CONCURRENT_REQUEST_EXCEEDED', async () => {
      const { keys, project } = await service.snapwire.services.projects.create('narrow', 'FREE');
      const slow = screenshot(service.baseUrl, {
        url: page('/solid'),
        rendering_wait: '2000',
        key: keys.LIVE,
      });
      await waitUntil(
        async () => (await service.snapwire.services.concurrency.usage(projectScope(project.id))) === 1,
        { what: 'the first capture holding the project slot' },
      );
      await expectError(
        await screenshot(service.baseUrl, { url: page('/solid'), key: keys.LIVE }),
        'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
        /1 of its 1 concurrent/,
      );
      assert.equal((await slow).status, 200);
    });
  });

  it('an unknown route answers a catalogue 404, not an HTML page', async () => {
    await expectError(await fetch(`${service.baseUrl}/nope`), 'ERR::API::NOT_FOUND', /see \/docs/);
  });
});
