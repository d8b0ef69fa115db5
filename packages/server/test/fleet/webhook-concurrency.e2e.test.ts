import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { PINGS_PER_WINDOW } from '../../src/webhooks/webhook-service.js';

/**
 * A webhook's max_concurrency holds over a fleet: two services on one PostgreSQL schema (and one data
 * folder, as two processes on one machine) deliver to a receiver that holds every request 300 ms and
 * counts how many it holds at once.
 */
describe('webhook max_concurrency over two nodes', () => {
  let nodeA: TestService;
  let nodeB: TestService;
  let receiver: http.Server;
  let receiverUrl: string;
  let inFlight = 0;
  let most = 0;
  let received = 0;

  before(async () => {
    receiver = http.createServer((req, res) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      req.resume();
      setTimeout(() => {
        inFlight -= 1;
        received += 1;
        res.end('ok');
      }, 300);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const env = { SNAPWIRE_QUEUE_POLL: '100ms' };
    nodeA = await startService(env, {}, { postgres: true });
    nodeB = await startService(env, {}, { shareSchema: nodeA.schema, dataDir: nodeA.dataDir });
  });
  after(async () => {
    await nodeB?.close();
    await nodeA?.close();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  const api = (node: TestService, method: string, route: string, body?: unknown) =>
    fetch(`${node.baseUrl}${route}?key=${LIVE_KEY}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('never has more than max_concurrency deliveries of one webhook in flight over both nodes', async () => {
    const created = await api(nodeA, 'POST', '/webhooks', {
      name: 'narrow',
      url: receiverUrl,
      max_concurrency: 2,
      queue_limit: 20,
    });
    assert.equal(created.status, 201, await created.text());
    // As many more pings as the ping rate limit allows (the creation ping counts), queued through both
    // nodes at once.
    const pings = await Promise.all(
      Array.from({ length: PINGS_PER_WINDOW - 1 }, (_, i) =>
        api(i % 2 ? nodeA : nodeB, 'POST', '/webhooks/narrow/ping'),
      ),
    );
    assert.deepEqual(
      pings.map((response) => response.status),
      pings.map(() => 202),
    );
    await waitUntil(() => received >= PINGS_PER_WINDOW, {
      timeoutMs: 30_000,
      what: `${PINGS_PER_WINDOW} deliveries`,
    });
    console.log(`webhook max_concurrency 2 over two nodes: most in flight ${most}`);
    assert.ok(most <= 2, `at most 2 deliveries at once (saw ${most})`);
    // Every delivery has its attempt row, whichever node made it (outcomes are group-committed, so a row
    // may land a moment after the receiver answered).
    const attempts = async () =>
      Number(
        (
          await nodeA.snapwire.store.db
            .selectFrom('webhook_attempts')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    await waitUntil(async () => (await attempts()) >= PINGS_PER_WINDOW, {
      what: `${PINGS_PER_WINDOW} attempt rows`,
    });
    assert.equal(await attempts(), PINGS_PER_WINDOW);
  });
});
