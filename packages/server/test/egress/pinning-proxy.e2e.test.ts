import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS, findExecutable } from '../../src/engine/chromium-flags.js';
import { EgressGuard } from '../../src/egress/guard.js';
import { parseNetworkList } from '../../src/egress/networks.js';
import { PinningProxy, type ProxySession } from '../../src/egress/pinning-proxy.js';
import { EGRESS_ERROR_HEADER } from '../../src/egress/verdicts.js';
import { EgressPolicy } from '../../src/egress/policy.js';
import { StaticResolver } from '../../src/egress/resolver.js';
import { CANARY_NAMES, html, startCanaryAndFixture, type Canary, type Fixture } from './support.js';

/**
 * The pinning proxy on its own, spoken to the way Chromium speaks to it (absolute-form requests, CONNECT,
 * websocket upgrades), and then per-capture sessions under a real Chromium: refused requests are counted
 * for the context that made them and for no other.
 */

interface ProxyAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function viaProxy(proxy: string, url: string, headers: Record<string, string> = {}): Promise<ProxyAnswer> {
  const { hostname, port } = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, method: 'GET', path: url, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('proxy did not answer in 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes to the proxy and returns the first line it answers. */
function rawToProxy(proxy: string, request: string): Promise<string> {
  const { hostname, port } = new URL(proxy);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    let data = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('proxy did not answer in 5 s')));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) {
        resolve(data.split('\r\n')[0] ?? '');
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

describe('the pinning proxy (only 127.0.0.2/32 open)', () => {
  let canary: Canary;
  let fixture: Fixture;
  let port: number;
  let proxy: PinningProxy;
  let main: string;

  before(async () => {
    ({ canary, fixture } = await startCanaryAndFixture());
    port = canary.port;
    fixture.routes.set('/page', (req, res) => html(res, `<p>host ${req.headers.host}</p>`));
    fixture.routes.set('/redirect', (_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${port}/probe` }).end(),
    );
    const guard = new EgressGuard(
      new EgressPolicy(parseNetworkList('127.0.0.2/32')),
      new StaticResolver({ ...CANARY_NAMES, 'proxy-rebind.test': [['127.0.0.2'], ['127.0.0.1']] }),
    );
    proxy = new PinningProxy(guard);
    main = await proxy.start();
  });

  after(async () => {
    await proxy?.stop();
    await fixture?.close();
    await canary?.close();
  });

  it('forwards plain http to the checked address, keeping the Host the page asked for', async () => {
    const answer = await viaProxy(main, `http://allowed.test:${port}/page`);
    assert.equal(answer.status, 200);
    assert.match(answer.body, new RegExp(`host allowed.test:${port}`));
  });

  it('sends a request again on a new connection when the server drops the kept-alive one it went out on', async () => {
    // The server answers the first request of each connection and resets the connection on the next
    // one: what a server closing an idle keep-alive connection looks like when a request crosses it.
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      let requests = 0;
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        if (!chunk.includes('\r\n\r\n')) return;
        requests += 1;
        if (requests === 1)
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
        else socket.resetAndDestroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    const { port: flaky } = server.address() as net.AddressInfo;
    try {
      for (const path of ['/first', '/second', '/third']) {
        const answer = await viaProxy(main, `http://allowed.test:${flaky}${path}`);
        assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.headers)}`);
        assert.equal(answer.body, 'ok');
      }
      assert.equal(sockets.size, 3, 'each request after the first went out again on a new connection');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers a refused request itself, with the reason in headers for the capture', async () => {
    const before = proxy.refusedCount;
    for (const host of ['127.0.0.1', '[::1]', 'localhost', 'canary.test', 'mixed.test', '0.0.0.0', '[::]']) {
      const answer = await viaProxy(main, `http://${host}:${port}/probe`);
      assert.equal(answer.status, 403, host);
      assert.equal(answer.headers[EGRESS_ERROR_HEADER], 'DOMAIN_NOT_ALLOWED', host);
      assert.match(
        decodeURIComponent(String(answer.headers['x-snapwire-egress-reason'])),
        /SNAPWIRE_ALLOWED_NETWORKS/,
      );
    }
    assert.equal(proxy.refusedCount - before, 7);
    assert.equal(canary.connections(), 0);
  });

  it('resolves again for every request, so a name that rebinds is refused on its next answer', async () => {
    assert.equal((await viaProxy(main, `http://proxy-rebind.test:${port}/page`)).status, 200);
    assert.equal((await viaProxy(main, `http://proxy-rebind.test:${port}/probe`)).status, 403);
    assert.equal(canary.connections(), 0);
  });

  it('passes a redirect back to the browser: the next hop is a new request, checked again', async () => {
    const answer = await viaProxy(main, `${fixture.origin}/redirect`);
    assert.equal(answer.status, 302);
    assert.equal((await viaProxy(main, String(answer.headers.location))).status, 403);
    assert.equal(canary.connections(), 0);
  });

  it('refuses schemes other than http in absolute form, and service worker scripts', async () => {
    for (const url of [
      `ftp://127.0.0.2:${port}/`,
      'file:///etc/passwd',
      '/relative',
      `gopher://127.0.0.2:${port}/`,
    ]) {
      const answer = await viaProxy(main, url);
      assert.equal(answer.status, 400, url);
    }
    const worker = await viaProxy(main, `${fixture.origin}/page`, { 'service-worker': 'script' });
    assert.equal(worker.status, 403);
    assert.equal(worker.headers[EGRESS_ERROR_HEADER], 'SERVICE_WORKER_BLOCKED');
  });

  it('tunnels CONNECT only to checked addresses', async () => {
    assert.equal(
      await rawToProxy(main, `CONNECT 127.0.0.2:${port} HTTP/1.1\r\nHost: 127.0.0.2:${port}\r\n\r\n`),
      'HTTP/1.1 200 Connection Established',
    );
    for (const authority of [
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `localhost:${port}`,
      `canary.test:${port}`,
    ]) {
      assert.equal(
        await rawToProxy(main, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`),
        'HTTP/1.1 403 Forbidden',
        authority,
      );
    }
    assert.equal(await rawToProxy(main, `CONNECT 127.0.0.2:0 HTTP/1.1\r\n\r\n`), 'HTTP/1.1 400 Bad Request');
    assert.equal(await rawToProxy(main, `CONNECT nonsense HTTP/1.1\r\n\r\n`), 'HTTP/1.1 400 Bad Request');
    assert.equal(canary.connections(), 0);
  });

  it('forwards a plain websocket upgrade to a checked address and refuses the others', async () => {
    const upgrade = (url: string) =>
      rawToProxy(
        main,
        `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    assert.equal(await upgrade(`ws://127.0.0.2:${port}/ws`), 'HTTP/1.1 101 Switching Protocols');
    assert.equal(await upgrade(`http://allowed.test:${port}/ws`), 'HTTP/1.1 101 Switching Protocols');
    assert.equal(await upgrade(`ws://127.0.0.1:${port}/probe`), 'HTTP/1.1 403 Forbidden');
    assert.equal(await upgrade(`ws://canary.test:${port}/probe`), 'HTTP/1.1 403 Forbidden');
    assert.equal(canary.connections(), 0);
  });

  it('counts refusals per session, so a capture can log its own', async () => {
    const a = await proxy.openSession();
    const b = await proxy.openSession();
    try {
      await viaProxy(a.server, `http://127.0.0.1:${port}/probe`);
      await viaProxy(a.server, `http://canary.test:${port}/probe`);
      await rawToProxy(a.server, `CONNECT localhost:${port} HTTP/1.1\r\n\r\n`);
      await viaProxy(b.server, `${fixture.origin}/page`);
      assert.equal(a.refusedCount, 3);
      assert.equal(b.refusedCount, 0);
      assert.equal(a.failureFor('localhost')?.kind, 'DOMAIN_NOT_ALLOWED');
      assert.equal(a.failureFor('localhost')?.addressClass, 'loopback');
      assert.equal(b.failureFor('localhost'), undefined);
      assert.equal(a.lastFailure?.target, `localhost:${port}`);
      assert.equal(b.lastFailure, undefined);
      assert.deepEqual(
        a.failures.map((failure) => failure.target),
        [`http://127.0.0.1:${port}/probe`, `http://canary.test:${port}/probe`, `localhost:${port}`],
      );
    } finally {
      await a.close();
      await b.close();
    }
    await assert.rejects(viaProxy(a.server, `${fixture.origin}/page`), 'a closed session listens no more');
    assert.equal(canary.connections(), 0);
  });
});

describe('per-capture proxy sessions under Chromium', () => {
  let canary: Canary;
  let fixture: Fixture;
  let proxy: PinningProxy;
  let browser: Browser;
  let port: number;

  before(async () => {
    ({ canary, fixture } = await startCanaryAndFixture());
    port = canary.port;
    fixture.routes.set('/page', (_req, res) => html(res, '<body>clean</body>'));
    fixture.routes.set('/dirty', (_req, res) =>
      html(
        res,
        `<body>
          <img src="http://127.0.0.1:${port}/probe/1">
          <img src="http://[::1]:${port}/probe/2">
          <img src="http://canary.test:${port}/probe/3">
          <iframe src="http://localhost:${port}/probe/4"></iframe>
          <img src="/page?control">
        </body>`,
      ),
    );
    proxy = new PinningProxy(
      new EgressGuard(new EgressPolicy(parseNetworkList('127.0.0.2/32')), new StaticResolver(CANARY_NAMES)),
    );
    const server = await proxy.start();
    // The same launch flags as the browser pool.
    browser = await chromium.launch({
      executablePath: findExecutable(process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'),
      headless: true,
      args: [
        ...CHROMIUM_FLAGS,
        `--proxy-server=${server}`,
        '--proxy-bypass-list=<-loopback>',
        '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await fixture?.close();
    await canary?.close();
  });

  async function visit(session: ProxySession, url: string): Promise<void> {
    const context = await browser.newContext({ proxy: { server: session.server }, serviceWorkers: 'block' });
    try {
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
    } finally {
      await context.close();
    }
  }

  it("counts the refused subresources of each context's page, and only those", async () => {
    const dirty = await proxy.openSession();
    const clean = await proxy.openSession();
    try {
      await Promise.all([visit(dirty, `${fixture.origin}/dirty`), visit(clean, `${fixture.origin}/page`)]);
      assert.equal(dirty.refusedCount, 4, JSON.stringify(dirty.failures.map((failure) => failure.target)));
      assert.equal(clean.refusedCount, 0);
      assert.equal(fixture.hits.get('/page'), 2, 'the control image and the clean page went through');
    } finally {
      await dirty.close();
      await clean.close();
    }
    assert.equal(canary.connections(), 0);
  });
});
