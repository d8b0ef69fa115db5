import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config/settings.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { screenshot, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

// Issue 18, item 5: the API port had no header or request timeout. 20 connections sending one header line
// every 5 s stayed open past 100 s. Replayed with raw TCP clients (node:net) against small timeouts.
const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1_200;
const KEEPALIVE_TIMEOUT_MS = 500;

/** A raw client on the API port: what it received and when the server closed it. */
interface RawClient {
  socket: net.Socket;
  received: () => string;
  /** ms from connect to close; undefined while open. */
  closedAfter: () => number | undefined;
}

async function connect(baseUrl: string): Promise<RawClient> {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const opened = Date.now();
  let text = '';
  let closedAt: number | undefined;
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  // A reset after the answer is a close too.
  socket.on('error', () => {});
  socket.on('close', () => {
    closedAt = Date.now();
  });
  return {
    socket,
    received: () => text,
    closedAfter: () => (closedAt === undefined ? undefined : closedAt - opened),
  };
}

/** Sends `line` every `everyMs` while the socket is open (bounded: at most `times` lines). */
function drip(client: RawClient, line: string, everyMs: number, times = 100): () => void {
  let sent = 0;
  const timer = setInterval(() => {
    sent += 1;
    if (client.closedAfter() !== undefined || sent > times || !client.socket.writable) {
      clearInterval(timer);
      return;
    }
    client.socket.write(line);
  }, everyMs);
  return () => clearInterval(timer);
}

describe('the API port closes slow clients (issue 18)', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const clients: RawClient[] = [];
  const open = async () => {
    const client = await connect(service.baseUrl);
    clients.push(client);
    return client;
  };

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService({
      SNAPWIRE_HTTP_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS}ms`,
      SNAPWIRE_HTTP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`,
      SNAPWIRE_HTTP_KEEPALIVE_TIMEOUT: `${KEEPALIVE_TIMEOUT_MS}ms`,
    });
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await service?.close();
    await fixtures?.close();
  });

  it('20 connections dripping one header line at a time are answered 408 and closed after the headers timeout', async () => {
    const dripping = await Promise.all(Array.from({ length: 20 }, () => open()));
    const stops = dripping.map((client) => {
      client.socket.write('GET /devices HTTP/1.1\r\nHost: snapwire.test\r\n');
      return drip(client, 'X-Slow: 1\r\n', 100);
    });
    try {
      await waitUntil(() => dripping.every((client) => client.closedAfter() !== undefined), {
        timeoutMs: 10_000,
        what: 'every dripping connection closed',
      });
    } finally {
      for (const stop of stops) stop();
    }
    for (const client of dripping) {
      const after = client.closedAfter() ?? Infinity;
      assert.ok(after >= HEADERS_TIMEOUT_MS - 50, `closed after ${after} ms, not before the timeout`);
      assert.ok(after < HEADERS_TIMEOUT_MS + 2_000, `closed after ${after} ms`);
    }
    // The answer says why, in the catalogue's shape (when it got out before the reset).
    const answered = dripping.map((client) => client.received()).filter(Boolean);
    assert.ok(answered.length > 0, 'at least one 408 answer was read');
    for (const text of answered) {
      assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.match(text, /SNAPWIRE_HTTP_HEADERS_TIMEOUT/);
    }
  });

  it('a connection that sends nothing is closed after the headers timeout', async () => {
    const silent = await open();
    await waitUntil(() => silent.closedAfter() !== undefined, { timeoutMs: 10_000, what: 'closed' });
    assert.ok((silent.closedAfter() ?? Infinity) < HEADERS_TIMEOUT_MS + 2_000);
  });

  it('a body that drips is cut by the request timeout', async () => {
    const slowBody = await open();
    slowBody.socket.write(
      'POST /webhooks?key=nope HTTP/1.1\r\nHost: snapwire.test\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{',
    );
    const stop = drip(slowBody, ' ', 100);
    try {
      await waitUntil(() => slowBody.closedAfter() !== undefined, { timeoutMs: 10_000, what: 'closed' });
    } finally {
      stop();
    }
    const after = slowBody.closedAfter() ?? Infinity;
    assert.ok(after >= REQUEST_TIMEOUT_MS - 50, `closed after ${after} ms, not before the request timeout`);
    assert.ok(after < REQUEST_TIMEOUT_MS + 2_000, `closed after ${after} ms`);
  });

  it('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
    const idle = await open();
    idle.socket.write('GET /devices HTTP/1.1\r\nHost: snapwire.test\r\n\r\n');
    await waitUntil(() => /^HTTP\/1\.1 200 /.test(idle.received()), { what: 'the answer' });
    const answeredAt = Date.now();
    assert.equal(idle.closedAfter(), undefined, 'kept alive after the answer');
    await waitUntil(() => idle.closedAfter() !== undefined, { timeoutMs: 10_000, what: 'closed' });
    const idleFor = Date.now() - answeredAt;
    assert.ok(idleFor >= KEEPALIVE_TIMEOUT_MS - 100, `closed ${idleFor} ms after the answer`);
    assert.ok(idleFor < KEEPALIVE_TIMEOUT_MS + 2_000, `closed ${idleFor} ms after the answer`);
  });

  it('a synchronous screenshot that renders longer than the request timeout is answered', async () => {
    // The request timeout covers receiving the request, not the capture: 2 s of rendering_wait > 1.2 s.
    const started = Date.now();
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '2000',
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.ok(Date.now() - started > REQUEST_TIMEOUT_MS);
  });
});

describe('the API port caps its open connections (issue 18)', () => {
  let service: TestService;
  const clients: RawClient[] = [];

  before(async () => {
    service = await startService({ SNAPWIRE_HTTP_MAX_CONNECTIONS: '3' });
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await service?.close();
  });

  it('closes a connection beyond SNAPWIRE_HTTP_MAX_CONNECTIONS at once, and serves again when one ends', async () => {
    const held = await Promise.all(Array.from({ length: 3 }, () => connect(service.baseUrl)));
    clients.push(...held);
    for (const client of held) client.socket.write('GET /devices HTTP/1.1\r\n');
    const extra = await connect(service.baseUrl);
    clients.push(extra);
    extra.socket.write('GET /devices HTTP/1.1\r\nHost: snapwire.test\r\n\r\n');
    await waitUntil(() => extra.closedAfter() !== undefined, { what: 'the fourth connection closed' });
    assert.equal(extra.received(), '', 'closed without an answer');
    assert.ok(
      held.every((client) => client.closedAfter() === undefined),
      'the three held connections stay open',
    );

    held[0]?.socket.destroy();
    // The server counts the closed connection down when it sees it go: ask again until it has.
    const answer = await waitUntil(
      async () => {
        const next = await connect(service.baseUrl);
        clients.push(next);
        next.socket.write('GET /devices HTTP/1.1\r\nHost: snapwire.test\r\nConnection: close\r\n\r\n');
        await waitUntil(() => next.closedAfter() !== undefined, { what: 'the answer' });
        return next.received();
      },
      { what: 'an answer once a slot is free' },
    );
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });
});

describe('HTTP limit settings', () => {
  it('have the documented defaults', () => {
    const settings = loadSettings({});
    assert.equal(settings.httpHeadersTimeoutMs, 20_000);
    assert.equal(settings.httpRequestTimeoutMs, 60_000);
    assert.equal(settings.httpKeepAliveTimeoutMs, 72_000);
    assert.equal(settings.httpIdleTimeoutMs, 120_000 + 60_000, 'SNAPWIRE_MAX_TIMEOUT_MS plus one minute');
    assert.equal(settings.httpMaxConnections, 512);
    assert.equal(loadSettings({ SNAPWIRE_MAX_TIMEOUT_MS: '300000' }).httpIdleTimeoutMs, 360_000);
  });

  it('refuse an idle timeout that would cut a synchronous screenshot, and headers slower than the request', () => {
    assert.throws(
      () => loadSettings({ SNAPWIRE_HTTP_IDLE_TIMEOUT: '60s' }),
      (error: unknown) =>
        error instanceof SettingsError &&
        /SNAPWIRE_HTTP_IDLE_TIMEOUT: must be longer than SNAPWIRE_MAX_TIMEOUT_MS/.test(error.message),
    );
    assert.throws(
      () => loadSettings({ SNAPWIRE_HTTP_HEADERS_TIMEOUT: '30s', SNAPWIRE_HTTP_REQUEST_TIMEOUT: '10s' }),
      /SNAPWIRE_HTTP_HEADERS_TIMEOUT: must not be longer than SNAPWIRE_HTTP_REQUEST_TIMEOUT/,
    );
    assert.throws(
      () => loadSettings({ SNAPWIRE_HTTP_MAX_CONNECTIONS: '0' }),
      /SNAPWIRE_HTTP_MAX_CONNECTIONS/,
    );
  });
});
