import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/errors.js';
import { EgressGuard } from '../../src/egress/guard.js';
import { checkWebhookUrl, GuardedHttpClient, type DeliveryResult } from '../../src/egress/http-client.js';
import { parseNetworkList } from '../../src/egress/networks.js';
import { EgressPolicy } from '../../src/egress/policy.js';
import { StaticResolver } from '../../src/egress/resolver.js';
import { CANARY_NAMES, loopbackHosts, startCanaryAndFixture, type Canary, type Fixture } from './support.js';

/**
 * The SSRF matrix for webhook deliveries (issue 4), on the guarded HTTP client directly. Only 127.0.0.2/32
 * is open; receivers live on 127.0.0.2:P; the canary on 127.0.0.1:P and [::1]:P must count zero.
 */

const NAMES = {
  ...CANARY_NAMES,
  'hooks.test': '127.0.0.2',
  'other.test': '127.0.0.2',
  'rebind-hook.test': [['127.0.0.2'], ['127.0.0.1']],
};

function guardFor(allowed: string): EgressGuard {
  return new EgressGuard(new EgressPolicy(parseNetworkList(allowed)), new StaticResolver(NAMES));
}

function assertCanaryUntouched(canary: Canary): void {
  assert.equal(canary.connections(), 0, `the canary was reached: ${canary.seen().join(' | ')}`);
}

/** A self-signed certificate for hooks.test and 127.0.0.2 (openssl), or undefined when openssl is missing. */
function makeCertificate(): { key: string; cert: string; dir: string } | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-egress-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=hooks.test',
        '-addext',
        'subjectAltName=DNS:hooks.test,IP:127.0.0.2',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return {
      key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      dir,
    };
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

interface Received {
  method: string;
  path: string;
  host: string;
  authorization: string | undefined;
  body: string;
}

describe('webhook deliveries with only SNAPWIRE_ALLOWED_NETWORKS=127.0.0.2/32 open', () => {
  let canary: Canary;
  let fixture: Fixture;
  let port: number;
  let guard: EgressGuard;
  let client: GuardedHttpClient;
  let closedPort: number;
  const received: Received[] = [];
  const certificate = makeCertificate();
  let tlsServer: https.Server | undefined;
  let tlsPort = 0;

  before(async () => {
    ({ canary, fixture } = await startCanaryAndFixture());
    port = canary.port;
    guard = guardFor('127.0.0.2/32');
    client = new GuardedHttpClient(guard, {
      defaultTimeoutMs: 5_000,
      ...(certificate ? { ca: certificate.cert } : {}),
    });
    const record = (req: http.IncomingMessage, then: (body: string) => void) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          host: req.headers.host ?? '',
          authorization: req.headers.authorization,
          body,
        });
        then(body);
      });
    };
    const routes = fixture.routes;
    routes.set('/hook', (req, res) =>
      record(req, () =>
        res.writeHead(200, { 'content-type': 'text/plain', 'x-receiver': 'yes' }).end('thanks'),
      ),
    );
    routes.set('/fail', (req, res) => record(req, () => res.writeHead(500).end('receiver broke')));
    routes.set('/redirect', (req, res) =>
      record(req, () => {
        const url = new URL(req.url ?? '/', 'http://x');
        res
          .writeHead(Number(url.searchParams.get('status') ?? 302), {
            // Raw UTF-8 bytes, as a server would send an IDN Location (Node wants latin1 strings).
            location: Buffer.from(url.searchParams.get('to') ?? '/hook', 'utf8').toString('latin1'),
          })
          .end();
      }),
    );
    routes.set('/loop', (req, res) => record(req, () => res.writeHead(302, { location: '/loop' }).end()));
    routes.set('/big', (req, res) =>
      record(req, () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(1_000_000));
      }),
    );
    routes.set('/slow', (req) => record(req, () => {})); // never answers
    routes.set('/reset', (req) => record(req, () => req.socket.destroy()));

    const spare = net.createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.2', resolve));
    closedPort = (spare.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));

    if (certificate) {
      tlsServer = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
        const url = new URL(req.url ?? '/', 'https://x');
        if (url.pathname === '/downgrade') {
          res.writeHead(302, { location: `${fixture.origin}/hook?downgraded` }).end();
          return;
        }
        req.resume();
        req.on('end', () =>
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`tls ok ${req.headers.host ?? ''}`),
        );
      });
      await new Promise<void>((resolve) => tlsServer!.listen(0, '127.0.0.2', resolve));
      tlsPort = (tlsServer.address() as net.AddressInfo).port;
    }
  });

  after(async () => {
    if (tlsServer) {
      tlsServer.closeAllConnections();
      await new Promise<void>((resolve) => tlsServer!.close(() => resolve()));
    }
    await fixture?.close();
    await canary?.close();
    if (certificate) fs.rmSync(certificate.dir, { recursive: true, force: true });
  });

  const post = (url: string, extra: Partial<Parameters<GuardedHttpClient['request']>[0]> = {}) =>
    client.request({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Scrapfly/Webhook' },
      body: Buffer.from('{"hello":"webhook"}'),
      ...extra,
    });

  function assertRefused(result: DeliveryResult, label: string): void {
    assert.equal(result.status, undefined, `${label}: no response`);
    assert.equal(result.failure?.code, 'ADDRESS_REFUSED', `${label}: ${result.failure?.message}`);
    assert.match(result.failure?.addressClass ?? '', /^(loopback|unspecified)$/, label);
    assert.match(result.failure?.message ?? '', /address .*SNAPWIRE_ALLOWED_NETWORKS/, label);
  }

  it('delivers to the allowed receiver by address and by name, pinned to the checked address', async () => {
    for (const url of [`${fixture.origin}/hook`, `http://hooks.test:${port}/hook`]) {
      received.length = 0;
      const result = await post(url);
      assert.equal(result.failure, undefined, result.failure?.message);
      assert.equal(result.status, 200);
      assert.equal(result.body.toString(), 'thanks');
      assert.equal(result.headers['x-receiver'], 'yes');
      assert.equal(result.hops.length, 1);
      assert.equal(result.hops[0]?.address, '127.0.0.2');
      assert.ok(result.durationMs >= 0 && result.durationMs < 5_000);
      assert.deepEqual(received, [
        {
          method: 'POST',
          path: '/hook',
          host: new URL(url).host,
          authorization: undefined,
          body: '{"hello":"webhook"}',
        },
      ]);
    }
    assertCanaryUntouched(canary);
  });

  it('reports a receiver error as its status, with a capped excerpt of the body', async () => {
    const result = await post(`${fixture.origin}/fail`);
    assert.equal(result.failure, undefined);
    assert.equal(result.status, 500);
    assert.equal(result.body.toString(), 'receiver broke');
    const big = await post(`${fixture.origin}/big`, { maxBodyBytes: 1024 });
    assert.equal(big.status, 200);
    assert.equal(big.body.length, 1024);
    assert.equal(big.bodyTruncated, true);
  });

  for (const scheme of ['http', 'https']) {
    it(`refuses every loopback spelling and name over ${scheme}, before connecting`, async () => {
      for (const { label, authority } of loopbackHosts(port)) {
        assertRefused(await post(`${scheme}://${authority}/probe`), label);
      }
      assertCanaryUntouched(canary);
      assert.deepEqual(
        [...fixture.hits.keys()].filter((key) => key.startsWith('/probe')),
        [],
        'a mixed answer was pinned to 127.0.0.2',
      );
    });
  }

  it('checkWebhookUrl rejects each of them at create/update time with DOMAIN_NOT_ALLOWED (422)', async () => {
    for (const { label, authority } of loopbackHosts(port)) {
      await assert.rejects(checkWebhookUrl(`http://${authority}/hook`, guard), (error: unknown) => {
        assert.ok(error instanceof ApiError, label);
        assert.equal(error.code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', `${label}: ${error.message}`);
        assert.equal(error.definition.httpStatus, 422);
        assert.match(error.message, /^The webhook url is refused: .*(loopback|unspecified) address/, label);
        assert.match(error.message, /SNAPWIRE_ALLOWED_NETWORKS/, label);
        return true;
      });
    }
    const target = await checkWebhookUrl(`http://hooks.test:${port}/hook`, guard);
    assert.equal(target.hostname, 'hooks.test');
    assertCanaryUntouched(canary);
  });

  it('checkWebhookUrl refuses other schemes, non-URLs and unknown names with their own errors', async () => {
    for (const [url, code] of [
      ['file:///etc/passwd', 'ERR::SCRAPE::BAD_PROTOCOL'],
      ['FILE:///etc/passwd', 'ERR::SCRAPE::BAD_PROTOCOL'],
      ['ftp://127.0.0.2/', 'ERR::SCRAPE::BAD_PROTOCOL'],
      ['gopher://127.0.0.2:70/', 'ERR::SCRAPE::BAD_PROTOCOL'],
      ['not a url', 'ERR::SCRAPE::CONFIG_ERROR'],
      [`http://nowhere.test:${port}/`, 'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED'],
    ] as const) {
      await assert.rejects(checkWebhookUrl(url, guard), (error: unknown) => {
        assert.ok(error instanceof ApiError, url);
        assert.equal(error.code, code, `${url}: ${error.message}`);
        return true;
      });
    }
    const result = await post('file:///etc/passwd');
    assert.equal(result.failure?.code, 'BAD_URL');
  });

  it('rebinding: a URL accepted at create time (127.0.0.2) fails the delivery once it resolves to 127.0.0.1', async () => {
    await checkWebhookUrl(`http://rebind-hook.test:${port}/hook`, guard);
    const result = await post(`http://rebind-hook.test:${port}/hook`);
    assertRefused(result, 'rebind-hook.test');
    assert.equal(result.failure?.retryable, true, 'the name may point back to an allowed address later');
    assert.match(result.failure?.message ?? '', /^rebind-hook\.test resolves to a loopback address/);
    assertCanaryUntouched(canary);
  });

  it('a redirect from the allowed receiver to each loopback spelling is refused at that hop', async () => {
    for (const { label, authority } of loopbackHosts(port)) {
      for (const status of [301, 302, 303, 307, 308]) {
        const to = `http://${authority}/probe`;
        const result = await post(`${fixture.origin}/redirect?status=${status}&to=${encodeURIComponent(to)}`);
        assertRefused(result, `${status} -> ${label}`);
        assert.equal(result.hops.length, 2);
        assert.equal(result.hops[0]?.status, status);
      }
    }
    assertCanaryUntouched(canary);
  });

  it('a redirect to a file: URL, or without a usable Location, is refused', async () => {
    const result = await post(`${fixture.origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`);
    assert.equal(result.failure?.code, 'BAD_REDIRECT');
    assert.match(
      result.failure?.message ?? '',
      /uses "file:"; only http:\/\/ and https:\/\/ URLs can be followed/,
    );
    assert.equal(result.status, 302);
  });

  it('follows at most maxRedirects redirects', async () => {
    const result = await post(`${fixture.origin}/loop`, { maxRedirects: 3 });
    assert.equal(result.failure?.code, 'TOO_MANY_REDIRECTS');
    assert.equal(result.hops.length, 4);
  });

  it('keeps method and body on 307/301, switches to GET on 303, and drops credentials leaving the origin', async () => {
    received.length = 0;
    const kept = await post(`${fixture.origin}/redirect?status=307&to=/hook`);
    assert.equal(kept.status, 200);
    const moved = await post(`${fixture.origin}/redirect?status=301&to=/hook`);
    assert.equal(moved.status, 200);
    const seeOther = await post(`${fixture.origin}/redirect?status=303&to=/hook`);
    assert.equal(seeOther.status, 200);
    const hooks = received.filter((entry) => entry.path === '/hook');
    assert.deepEqual(
      hooks.map((entry) => [entry.method, entry.body]),
      [
        ['POST', '{"hello":"webhook"}'],
        ['POST', '{"hello":"webhook"}'],
        ['GET', ''],
      ],
    );

    received.length = 0;
    const withUser = await post(
      `http://user:secret@127.0.0.2:${port}/redirect?to=${encodeURIComponent(`http://hooks.test:${port}/hook`)}`,
    );
    assert.equal(withUser.status, 200);
    assert.doesNotMatch(JSON.stringify(withUser), /secret/, 'the password is in no URL of the result');
    assert.equal(received[0]?.authorization, `Basic ${Buffer.from('user:secret').toString('base64')}`);
    assert.equal(received[1]?.path, '/hook');
    assert.equal(received[1]?.authorization, undefined, 'credentials stay with their origin');
  });

  it(
    'https: pins the address, keeps the name for SNI and the certificate check',
    { skip: !certificate },
    async () => {
      const result = await post(`https://hooks.test:${tlsPort}/hook`);
      assert.equal(result.failure, undefined, result.failure?.message);
      assert.equal(result.status, 200);
      assert.equal(result.body.toString(), `tls ok hooks.test:${tlsPort}`);
      assert.equal(result.hops[0]?.address, '127.0.0.2');
      // other.test resolves to the same address, but the certificate does not name it.
      const mismatch = await post(`https://other.test:${tlsPort}/hook`);
      assert.equal(mismatch.failure?.code, 'TLS_ERROR', mismatch.failure?.message);
      // Without the test CA the certificate is not trusted.
      const untrusted = await new GuardedHttpClient(guard).request({
        url: `https://hooks.test:${tlsPort}/hook`,
      });
      assert.equal(untrusted.failure?.code, 'TLS_ERROR', untrusted.failure?.message);
    },
  );

  it(
    'through a tunnel (a country route): CONNECT to the checked address, TLS to the name, a refusal named',
    { skip: !certificate },
    async () => {
      // A stand-in for the country listener: it opens the tunnel it is asked for and records the authority,
      // or refuses every tunnel as a guard verdict would.
      const asked: string[] = [];
      let refuse = false;
      const proxy = http.createServer((_req, res) => res.writeHead(405).end());
      proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
        asked.push(req.url ?? '');
        if (refuse) return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        const [host, tunnelPort] = (req.url ?? '').split(':');
        const upstream = net.connect(Number(tunnelPort), host, () => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(socket);
          socket.pipe(upstream);
        });
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      });
      // Tunnels are not the server's HTTP connections: closed by hand, or close() waits out the keep-alive.
      const sockets = new Set<net.Socket>();
      proxy.on('connection', (socket: net.Socket) => sockets.add(socket));
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const tunnel = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
      try {
        const secure = await post(`https://hooks.test:${tlsPort}/hook`, { tunnel, poolKey: 'tunnel' });
        assert.equal(secure.failure, undefined, secure.failure?.message);
        assert.equal(
          secure.body.toString(),
          `tls ok hooks.test:${tlsPort}`,
          'TLS to the name through the tunnel',
        );
        const plain = await post(`http://hooks.test:${port}/hook`, { tunnel, poolKey: 'tunnel' });
        assert.equal(plain.status, 200, plain.failure?.message);
        assert.deepEqual(
          asked,
          [`127.0.0.2:${tlsPort}`, `127.0.0.2:${port}`],
          'tunnels to checked addresses',
        );
        refuse = true;
        const refused = await post(`http://hooks.test:${port}/hook?again`, { tunnel, poolKey: 'refused' });
        assert.equal(refused.failure?.code, 'NETWORK_ERROR');
        assert.match(refused.failure?.message ?? '', /country egress proxy \(HTTP\/1\.1 403 Forbidden\)/);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => proxy.close(() => resolve()));
      }
    },
  );

  it('never follows a redirect from https to http', { skip: !certificate }, async () => {
    received.length = 0;
    const result = await post(`https://hooks.test:${tlsPort}/downgrade`);
    assert.equal(result.failure?.code, 'INSECURE_REDIRECT');
    assert.match(result.failure?.message ?? '', /never follows a redirect from https to http/);
    assert.equal(received.length, 0, 'the http URL was not called');
  });

  it('names timeouts, resets, refused connections and unknown names', async () => {
    const started = Date.now();
    const slow = await post(`${fixture.origin}/slow`, { timeoutMs: 500 });
    assert.equal(slow.failure?.code, 'TIMEOUT', slow.failure?.message);
    assert.ok(Date.now() - started < 3_000, 'the timeout bounds the attempt');
    assert.match(slow.failure?.message ?? '', /within 500 ms/);

    const reset = await post(`${fixture.origin}/reset`);
    assert.equal(reset.failure?.code, 'CONNECTION_RESET', reset.failure?.message);

    const refused = await post(`http://127.0.0.2:${closedPort}/hook`);
    assert.equal(refused.failure?.code, 'CONNECTION_REFUSED', refused.failure?.message);

    const unknown = await post(`http://nowhere.test:${port}/hook`);
    assert.equal(unknown.failure?.code, 'DNS_FAILURE');
    assert.match(unknown.failure?.message ?? '', /nowhere\.test could not be resolved/);
  });
});

describe('webhook deliveries with no allow-list at all', () => {
  let canary: Canary;
  let fixture: Fixture;

  before(async () => {
    ({ canary, fixture } = await startCanaryAndFixture());
    fixture.routes.set('/hook', (_req, res) => res.writeHead(200).end('ok'));
  });
  after(async () => {
    await fixture?.close();
    await canary?.close();
  });

  it('refuses every loopback spelling, name, rebinding name and 127.0.0.2 itself, at create time and on delivery', async () => {
    const guard = guardFor('');
    const client = new GuardedHttpClient(guard, { defaultTimeoutMs: 5_000 });
    const port = canary.port;
    const urls = [
      ...loopbackHosts(port).map(({ authority }) => `http://${authority}/probe`),
      ...loopbackHosts(port).map(({ authority }) => `https://${authority}/probe`),
      `http://rebind-hook.test:${port}/hook`,
      `http://hooks.test:${port}/hook`,
      `${fixture.origin}/hook`,
    ];
    for (const url of urls) {
      await assert.rejects(
        checkWebhookUrl(url, guard),
        (error: unknown) => error instanceof ApiError && error.code === 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
        url,
      );
      const result = await client.request({ url, method: 'POST', body: '{}' });
      assert.equal(result.failure?.code, 'ADDRESS_REFUSED', `${url}: ${result.failure?.message}`);
      assert.match(result.failure?.message ?? '', /SNAPWIRE_ALLOWED_NETWORKS/);
    }
    assertCanaryUntouched(canary);
    assert.equal(
      [...fixture.hits.values()].reduce((a, b) => a + b, 0),
      0,
      'nothing reached 127.0.0.2 either',
    );
  });
});
