import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode, near } from '../helpers/images.js';
import { screenshot, startService, type TestService } from '../helpers/service.js';
import {
  CANARY_NAMES,
  html,
  loopbackHosts,
  startCanaryAndFixture,
  type Canary,
  type Fixture,
} from './support.js';

/**
 * The SSRF matrix for captures (issue 4). Only 127.0.0.2/32 is open; fixture pages live on 127.0.0.2:P and
 * a canary on 127.0.0.1:P and [::1]:P counts every TCP connection it receives. Every case aims at the
 * canary, through the url parameter, a redirect, a page's subresources or the resolver (rebinding), and
 * the canary must count zero. Only loopback is ever contacted.
 */

const GREEN: [number, number, number] = [0, 192, 0];
const RED: [number, number, number] = [255, 0, 0];

interface ErrorBody {
  code: string;
  http_code: number;
  reason: string;
}

async function expectError(response: Response, code: string, status: number): Promise<ErrorBody> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.equal(response.headers.get('content-type'), 'application/json');
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.code, code, body.reason);
  assert.equal(response.headers.get('x-scrapfly-reject-code'), code);
  return body;
}

function assertCanaryUntouched(canary: Canary): void {
  assert.equal(canary.connections(), 0, `the canary was reached: ${canary.seen().join(' | ')}`);
}

function assertNoProbeReachedFixture(fixture: Fixture): void {
  const leaked = [...fixture.hits.keys()].filter((key) => key.startsWith('/probe'));
  assert.deepEqual(
    leaked,
    [],
    'a probe meant for the canary landed on 127.0.0.2 (a mixed answer was pinned)',
  );
}

/** A page that runs `probe(url)` for each URL (in parallel, each bounded), POSTs the outcomes, then shows #done. */
function probePage(
  name: string,
  probe: string,
  urls: Record<string, string>,
  reportTo = '',
  extraBody = '',
): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0;background:#00c000">${extraBody}
<script>
const urls = ${JSON.stringify(urls)};
const bounded = (promise) => Promise.race([promise, new Promise((r) => setTimeout(() => r('timeout'), 8000))]);
${probe}
(async () => {
  const results = {};
  await Promise.all(Object.entries(urls).map(async ([label, url]) => {
    try { results[label] = String(await bounded(probe(url))); } catch (e) { results[label] = 'threw ' + e; }
  }));
  await fetch('${reportTo}/report?case=${name}', { method: 'POST', mode: 'no-cors', body: JSON.stringify(results) });
  const done = document.createElement('div'); done.id = 'done'; done.textContent = 'done';
  document.body.append(done);
})();
</script></body></html>`;
}

const PROBES = {
  img: `function probe(url) { return new Promise((resolve) => {
    const img = new Image(); img.onload = () => resolve('loaded'); img.onerror = () => resolve('error');
    img.src = url; document.body.append(img); }); }`,
  fetch: `async function probe(url) {
    try { const r = await fetch(url, { cache: 'no-store' }); return 'status ' + r.status; }
    catch (e) { return 'error'; } }`,
  iframe: `function probe(url) { return new Promise((resolve) => {
    const frame = document.createElement('iframe'); frame.width = 50; frame.height = 50;
    frame.onload = () => { let same = 'cross-origin'; try { same = frame.contentDocument.body.textContent; } catch {}
      resolve('settled ' + same.slice(0, 20)); };
    frame.src = url; document.body.append(frame); }); }`,
  websocket: `function probe(url) { return new Promise((resolve) => {
    let ws; try { ws = new WebSocket(url); } catch (e) { resolve('threw'); return; }
    ws.onopen = () => { resolve('open'); ws.close(); }; ws.onerror = () => resolve('error'); }); }`,
};

function probeUrls(scheme: string, port: number, control: string): Record<string, string> {
  const urls: Record<string, string> = { control };
  loopbackHosts(port).forEach(({ label, authority }, index) => {
    urls[label] = `${scheme}://${authority}/probe/${index}`;
  });
  return urls;
}

/** An HTML file on this machine's disk, all red: if an iframe ever shows it, the capture turns red. */
function redFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-egress-'));
  const file = path.join(dir, 'red.html');
  fs.writeFileSync(file, '<html><body style="margin:0;background:#ff0000">LOCAL FILE</body></html>');
  return file;
}

describe('captures with only SNAPWIRE_ALLOWED_NETWORKS=127.0.0.2/32 open', () => {
  let service: TestService;
  let canary: Canary;
  let fixture: Fixture;
  let port: number;
  let localFile: string;

  before(async () => {
    ({ canary, fixture } = await startCanaryAndFixture());
    port = canary.port;
    localFile = redFile();
    service = await startService({ SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32' }, CANARY_NAMES);
    const routes = fixture.routes;
    routes.set('/page', (_req, res) =>
      html(res, '<html><body style="margin:0;background:#00c000"><h1>allowed</h1></body></html>'),
    );
    routes.set('/image.png', (_req, res) => {
      // 1x1 PNG
      res
        .writeHead(200, { 'content-type': 'image/png' })
        .end(
          Buffer.from(
            'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
            'base64',
          ),
        );
    });
    routes.set('/redirect', (req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/page';
      res.writeHead(302, { location: to }).end();
    });
    routes.set('/img', (_req, res) =>
      html(res, probePage('img', PROBES.img, probeUrls('http', port, '/image.png'))),
    );
    routes.set('/fetch', (_req, res) =>
      html(
        res,
        probePage('fetch', PROBES.fetch, {
          ...probeUrls('http', port, '/page'),
          ...Object.fromEntries(
            Object.entries(probeUrls('https', port, '/page'))
              .filter(([label]) => label !== 'control')
              .map(([label, url]) => [`https ${label}`, url]),
          ),
        }),
      ),
    );
    routes.set('/iframe', (_req, res) =>
      html(res, probePage('iframe', PROBES.iframe, probeUrls('http', port, '/page'))),
    );
    routes.set('/websocket', (_req, res) =>
      html(
        res,
        probePage('websocket', PROBES.websocket, {
          ...probeUrls('ws', port, `ws://127.0.0.2:${port}/ws-control`),
          ...Object.fromEntries(
            Object.entries(probeUrls('wss', port, ''))
              .filter(([label]) => label !== 'control')
              .map(([label, url]) => [`wss ${label}`, url]),
          ),
        }),
      ),
    );
    routes.set('/sw.js', (_req, res) => {
      const targets = loopbackHosts(port).map(
        ({ authority }, index) => `http://${authority}/probe/sw-${index}`,
      );
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(
        `const targets = ${JSON.stringify(targets)};
         self.addEventListener('install', (event) => {
           self.skipWaiting();
           event.waitUntil(Promise.all(targets.map((url) => fetch(url, { mode: 'no-cors' }).catch(() => null))));
         });
         self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));`,
      );
    });
    routes.set('/service-worker', (_req, res) =>
      html(
        res,
        probePage(
          'service-worker',
          `async function probe(how) {
            const withTimeout = (p) => Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), 4000))]);
            let container = navigator.serviceWorker;
            if (how === 'register from a fresh iframe realm') {
              // Playwright blocks service workers by replacing register() in each page's realm; a fresh
              // about:blank iframe has a pristine one. If it works, the worker's fetches must still be refused.
              const frame = document.createElement('iframe'); document.body.append(frame);
              const pristine = frame.contentWindow.ServiceWorkerContainer.prototype.register;
              const registration = await withTimeout(pristine.call(navigator.serviceWorker, '/sw.js').then((r) => r, (e) => 'rejected ' + e.name));
              if (registration && registration.installing !== undefined) {
                const worker = registration.installing || registration.waiting || registration.active;
                await withTimeout(new Promise((r) => { if (!worker || worker.state === 'activated') r(); else worker.onstatechange = () => worker.state === 'activated' && r(); }));
                return 'registered';
              }
              return String(registration);
            }
            if (!container) return 'no serviceWorker API';
            const registration = await withTimeout(container.register('/sw.js').then((r) => r, (e) => 'rejected ' + e.name));
            return registration && registration.scope ? 'registered' : String(registration);
          }`,
          { naive: 'register', bypass: 'register from a fresh iframe realm' },
        ),
      ),
    );
    routes.set('/local-files', (_req, res) =>
      html(
        res,
        `<!doctype html><html><body style="margin:0;background:#00c000">
        <iframe src="file:///etc/passwd" style="position:absolute;left:0;top:0;width:300px;height:300px;border:0"></iframe>
        <iframe src="file://${localFile}" style="position:absolute;left:300px;top:0;width:300px;height:300px;border:0"></iframe>
        <iframe src="view-source:http://127.0.0.1:${port}/probe/view-source" style="position:absolute;left:0;top:300px;width:300px;height:300px;border:0"></iframe>
        <iframe src="ftp://127.0.0.1:${port}/probe/ftp" style="position:absolute;left:300px;top:300px;width:300px;height:300px;border:0"></iframe>
        <iframe src="chrome://version" style="position:absolute;left:600px;top:0;width:300px;height:300px;border:0"></iframe>
        <script>setTimeout(() => { const d = document.createElement('div'); d.id = 'done'; d.textContent = 'done'; document.body.append(d); }, 300);</script>
        </body></html>`,
      ),
    );
    routes.set('/navigate-to-file', (_req, res) =>
      html(
        res,
        `<html><body style="margin:0;background:#00c000"><script>
          try { location.href = 'file://${localFile}'; } catch {}
          setTimeout(() => { const d = document.createElement('div'); d.id = 'done'; d.textContent = 'done'; document.body.append(d); }, 500);
        </script></body></html>`,
      ),
    );
    routes.set('/same-origin-secret', (_req, res) =>
      html(
        res,
        // The report goes to 127.0.0.2 by address: the page's own name no longer leads anywhere.
        probePage(
          'rebind-late',
          PROBES.fetch,
          { 'same-origin fetch after rebinding': '/probe/secret' },
          fixture.origin,
        ),
      ),
    );
  });

  after(async () => {
    await service?.close();
    await fixture?.close();
    await canary?.close();
    if (localFile) fs.rmSync(path.dirname(localFile), { recursive: true, force: true });
  });

  it('the canary counts what reaches it on every loopback spelling it listens on (self-check)', async () => {
    for (const host of ['127.0.0.1', '::1', '0.0.0.0', '::']) {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host, port }, () => {
          socket.end('GET /self-check HTTP/1.1\r\n\r\n');
        });
        socket.resume();
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    }
    assert.equal(canary.connections(), 4);
    canary.reset();
  });

  it('captures an allowed page on 127.0.0.2, by address and by name (the allow-list opens it)', async () => {
    for (const url of [`${fixture.origin}/page`, `http://allowed.test:${port}/page`]) {
      const response = await screenshot(service.baseUrl, {
        url,
        rendering_wait: '0',
        format: 'png',
        resolution: '400x300',
      });
      assert.equal(response.status, 200, await response.clone().text());
      const image = await decode(Buffer.from(await response.arrayBuffer()));
      assert.ok(near(image.pixel(10, 10), GREEN), `pixel ${image.pixel(10, 10)}`);
    }
    assertCanaryUntouched(canary);
  });

  describe('the url parameter aimed at the canary answers ERR::SCRAPE::DOMAIN_NOT_ALLOWED (422)', () => {
    for (const scheme of ['http', 'https']) {
      it(`${scheme}: every loopback spelling and name`, async () => {
        for (const [index, { label, authority }] of loopbackHosts(port).entries()) {
          const response = await screenshot(service.baseUrl, {
            url: `${scheme}://${authority}/probe/url-${index}`,
            rendering_wait: '0',
          });
          const body = await expectError(response, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', 422);
          assert.match(body.reason, /(loopback|unspecified) address/, `${label}: ${body.reason}`);
          assert.match(body.reason, /SNAPWIRE_ALLOWED_NETWORKS/, label);
        }
        assertCanaryUntouched(canary);
        assertNoProbeReachedFixture(fixture);
      });
    }

    it('a rebinding name (first answer 127.0.0.2, next 127.0.0.1) is refused when the browser asks again', async () => {
      const response = await screenshot(service.baseUrl, {
        url: `http://rebind.test:${port}/probe/rebind`,
        rendering_wait: '0',
      });
      const body = await expectError(response, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', 422);
      assert.match(body.reason, /rebind\.test resolves to a loopback address/);
      assert.doesNotMatch(body.reason, /127\.0\.0\.1/, 'what the name resolved to is not disclosed');
      assertCanaryUntouched(canary);
      assertNoProbeReachedFixture(fixture);
    });
  });

  describe('URLs that are not http(s) answer ERR::SCRAPE::BAD_PROTOCOL (422)', () => {
    for (const url of [
      'file:///etc/passwd',
      'FILE:///etc/passwd',
      'file://localhost/etc/passwd',
      'view-source:http://127.0.0.2/',
      'chrome://version',
      'ftp://127.0.0.1/',
      'ws://127.0.0.1/',
    ]) {
      it(url, async () => {
        const body = await expectError(
          await screenshot(service.baseUrl, { url, rendering_wait: '0' }),
          'ERR::SCRAPE::BAD_PROTOCOL',
          422,
        );
        assert.match(body.reason, /only http:\/\/ and https:\/\/ URLs can be captured/);
      });
    }
  });

  describe('a redirect from the allowed origin to the canary answers ERR::SCRAPE::DOMAIN_NOT_ALLOWED', () => {
    for (const to of ['127.0.0.1', '[::1]', 'localhost', 'canary.test', '0.0.0.0', '[::ffff:127.0.0.1]']) {
      it(`-> http://${to}:P/`, async () => {
        const response = await screenshot(service.baseUrl, {
          url: `${fixture.origin}/redirect?to=${encodeURIComponent(`http://${to}:${port}/probe/redirect`)}`,
          rendering_wait: '0',
        });
        const body = await expectError(response, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', 422);
        assert.match(body.reason, /(loopback|unspecified) address/, body.reason);
        assertCanaryUntouched(canary);
      });
    }

    it('-> a same-origin path once the name has rebound to 127.0.0.1 (each hop is resolved and checked)', async () => {
      // rebind-redirect.test answers 127.0.0.2 to the check and to the first hop, 127.0.0.1 afterwards.
      const response = await screenshot(service.baseUrl, {
        url: `http://rebind-redirect.test:${port}/redirect?to=${encodeURIComponent('/probe/rr')}`,
        rendering_wait: '0',
      });
      await expectError(response, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', 422);
      assert.equal(
        fixture.hits.get('/redirect') !== undefined,
        true,
        'the first hop was served by 127.0.0.2',
      );
      assertCanaryUntouched(canary);
      assertNoProbeReachedFixture(fixture);
    });

    it('-> https://127.0.0.1:P/ (a refused CONNECT tunnel)', async () => {
      const response = await screenshot(service.baseUrl, {
        url: `${fixture.origin}/redirect?to=${encodeURIComponent(`https://127.0.0.1:${port}/probe/redirect-tls`)}`,
        rendering_wait: '0',
      });
      const body = await expectError(response, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', 422);
      assert.match(body.reason, /127\.0\.0\.1 is a loopback address/);
      assertCanaryUntouched(canary);
    });

    it('-> file:///etc/passwd is not followed', async () => {
      const response = await screenshot(service.baseUrl, {
        url: `${fixture.origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`,
        rendering_wait: '0',
      });
      assert.equal(response.status, 422, 'the local file is never captured');
      const body = (await response.json()) as ErrorBody;
      assert.match(body.code, /^ERR::SCRAPE::/);
    });
  });

  describe('subresources of an allowed page aimed at the canary are simply not loaded', () => {
    async function capturePage(pathname: string): Promise<Response> {
      return screenshot(service.baseUrl, {
        url: `${fixture.origin}${pathname}`,
        rendering_wait: '0',
        wait_for_selector: '#done',
        timeout: '40000',
        format: 'png',
        resolution: '1000x700',
      });
    }

    for (const vector of ['img', 'fetch', 'iframe', 'websocket'] as const) {
      it(`<${vector}> for every loopback spelling and name (http and, where it applies, https/wss)`, async (t) => {
        const response = await capturePage(`/${vector}`);
        assert.equal(response.status, 200, await response.clone().text());
        const report = fixture.reports.get(vector);
        assert.ok(report, 'the page reported its probes');
        const { control, ...probes } = report;
        // The control proves the vector really fired through the proxy.
        if (vector === 'img') assert.equal(control, 'loaded');
        if (vector === 'fetch') assert.equal(control, 'status 200');
        if (vector === 'iframe') assert.equal(control, 'settled allowed');
        if (vector === 'websocket') assert.equal(control, 'open');
        t.diagnostic(JSON.stringify(report));
        for (const [label, outcome] of Object.entries(probes)) {
          // An iframe shows the proxy's refusal page (or nothing); it never shows the canary.
          if (vector === 'iframe') assert.doesNotMatch(outcome, /CANARY/, label);
          else assert.ok(['error', 'timeout'].includes(outcome), `${label}: ${outcome}`);
        }
        assert.ok(Object.keys(probes).length >= loopbackHosts(port).length);
        assertCanaryUntouched(canary);
        assertNoProbeReachedFixture(fixture);
      });
    }

    it('a service worker is blocked, even registered from a fresh iframe realm', async (t) => {
      const response = await capturePage('/service-worker');
      assert.equal(response.status, 200, await response.clone().text());
      const report = fixture.reports.get('service-worker');
      assert.ok(report);
      t.diagnostic(
        `service worker outcomes: ${JSON.stringify(report)}; /sw.js fetched ${fixture.hits.get('/sw.js') ?? 0} times`,
      );
      assert.notEqual(report.naive, 'registered', 'plain register() is blocked');
      assert.notEqual(report.bypass, 'registered', 'the proxy refuses the worker script too');
      assert.equal(fixture.hits.get('/sw.js'), undefined, 'the worker script never reached the page origin');
      assertCanaryUntouched(canary);
      assertNoProbeReachedFixture(fixture);
    });

    it('file:, view-source:, ftp: and chrome: iframes show nothing of the local machine', async () => {
      const response = await capturePage('/local-files');
      assert.equal(response.status, 200, await response.clone().text());
      const image = await decode(Buffer.from(await response.arrayBuffer()));
      // The red local file would fill 300..600 x 0..300 if the iframe had loaded it.
      for (const [x, y] of [
        [450, 150],
        [310, 10],
        [590, 290],
      ] as const) {
        assert.ok(
          !near(image.pixel(x, y), RED, 60),
          `pixel ${x},${y} is ${image.pixel(x, y)}: the file loaded`,
        );
      }
      assertCanaryUntouched(canary);
    });

    it('a page cannot navigate itself to a file: URL', async () => {
      const response = await capturePage('/navigate-to-file');
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(response.headers.get('x-scrapfly-upstream-url'), `${fixture.origin}/navigate-to-file`);
      const image = await decode(Buffer.from(await response.arrayBuffer()));
      assert.ok(near(image.pixel(10, 10), GREEN), `pixel ${image.pixel(10, 10)}`);
    });

    it('rebinding after load: a same-origin fetch once the name answers 127.0.0.1 is refused', async () => {
      const response = await screenshot(service.baseUrl, {
        url: `http://rebind-late.test:${port}/same-origin-secret`,
        rendering_wait: '0',
        wait_for_selector: '#done',
        timeout: '40000',
      });
      assert.equal(response.status, 200, await response.clone().text());
      // The page's own origin now answers with the proxy's refusal (403), never with what 127.0.0.1 holds.
      assert.deepEqual(fixture.reports.get('rebind-late'), {
        'same-origin fetch after rebinding': 'status 403',
      });
      assertCanaryUntouched(canary);
      assertNoProbeReachedFixture(fixture);
    });
  });
});

describe('captures with no allow-list at all', () => {
  let service: TestService;
  let canary: Canary;
  let fixture: Fixture;
  let port: number;

  before(async () => {
    ({ canary, fixture } = await startCanaryAndFixture());
    port = canary.port;
    fixture.routes.set('/page', (_req, res) => html(res, '<html><body>allowed?</body></html>'));
    service = await startService({ SNAPWIRE_ALLOWED_NETWORKS: '' }, CANARY_NAMES);
  });

  after(async () => {
    await service?.close();
    await fixture?.close();
    await canary?.close();
  });

  it('every loopback spelling, name, rebinding name and the 127.0.0.2 pages answer DOMAIN_NOT_ALLOWED', async () => {
    const urls = [
      ...loopbackHosts(port).map(({ authority }, index) => `http://${authority}/probe/${index}`),
      ...loopbackHosts(port).map(({ authority }, index) => `https://${authority}/probe/${index}`),
      `http://rebind.test:${port}/probe/rebind`,
      `http://allowed.test:${port}/page`,
      ...['page', 'img', 'fetch', 'iframe', 'websocket', 'service-worker', 'local-files'].map(
        (page) => `http://127.0.0.2:${port}/${page}`,
      ),
      `http://127.0.0.2:${port}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${port}/probe/redirect`)}`,
    ];
    for (const url of urls) {
      const body = await expectError(
        await screenshot(service.baseUrl, { url, rendering_wait: '0' }),
        'ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
        422,
      );
      assert.match(
        body.reason,
        /(loopback|unspecified) address .*SNAPWIRE_ALLOWED_NETWORKS/,
        `${url}: ${body.reason}`,
      );
    }
    assertCanaryUntouched(canary);
    assert.equal(
      [...fixture.hits.values()].reduce((a, b) => a + b, 0),
      0,
      'nothing reached 127.0.0.2 either',
    );
  });

  it('file:///etc/passwd still answers BAD_PROTOCOL', async () => {
    await expectError(
      await screenshot(service.baseUrl, { url: 'file:///etc/passwd', rendering_wait: '0' }),
      'ERR::SCRAPE::BAD_PROTOCOL',
      422,
    );
  });
});
