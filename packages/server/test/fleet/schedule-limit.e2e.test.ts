import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY } from '../helpers/service.js';
import { createDatabase, freePort, Node } from './support.js';

/**
 * SNAPWIRE_MAX_SCHEDULES over a fleet: two Snapwire processes on one PostgreSQL database take creates of
 * the same project at the same moment; the limit holds over both (count and insert under one lock).
 */
describe('the schedule limit over two nodes on one PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  let receiver: Receiver;
  let nodeA: Node;
  let nodeB: Node;

  before(async () => {
    database = await createDatabase();
    receiver = await startReceiver('127.0.0.1');
    const env = { DATABASE_URL: database.url, SNAPWIRE_MAX_SCHEDULES: '2', SNAPWIRE_BROWSER_PREWARM: '0' };
    nodeA = new Node('node-a', await freePort(), env);
    nodeB = new Node('node-b', await freePort(), { ...env, SNAPWIRE_DATA_DIR: nodeA.dataDir });
    await nodeA.start();
    await nodeB.start();
  });
  after(async () => {
    for (const node of [nodeA, nodeB]) {
      await node?.kill();
      node?.dispose();
    }
    await receiver?.close();
    await database?.drop();
  });

  const api = (node: Node, method: string, route: string, body?: unknown) =>
    fetch(`${node.base}${route}?key=${LIVE_KEY}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('20 creates at once over both nodes make exactly 2; the 18 others are a 429 LIMIT_REACHED naming the setting', async () => {
    const hook = await api(nodeA, 'POST', '/webhooks', { name: 'hook', url: receiver.url });
    assert.equal(hook.status, 201, await hook.clone().text());
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api(i % 2 ? nodeA : nodeB, 'POST', '/screenshot/schedules', {
          screenshot_config: { url: `${receiver.url}?page=${i}` },
          webhook_name: 'hook',
          recurrence: { interval: 1, unit: 'hour' },
        }),
      ),
    );
    const bodies = await Promise.all(
      responses.map(async (response) => ({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: (await response.json()) as Record<string, unknown>,
      })),
    );
    assert.equal(bodies.filter((answer) => answer.status === 201).length, 2, 'exactly 2 were made');
    for (const answer of bodies.filter((each) => each.status !== 201)) {
      assert.equal(answer.status, 429);
      assert.equal(answer.body.code, 'ERR::SCHEDULER::LIMIT_REACHED');
      assert.equal(answer.body.error, 'ERR::SCHEDULER::LIMIT_REACHED', 'the SDKs read the code from error');
      assert.equal(answer.body.retryable, false);
      assert.equal(answer.retryAfter, null);
      assert.match(
        String(answer.body.reason),
        /already has 2 active or paused schedules.*SNAPWIRE_MAX_SCHEDULES/,
      );
    }
    // What both nodes see: the two, no more.
    for (const node of [nodeA, nodeB]) {
      const listed = (await (await api(node, 'GET', '/schedules')).json()) as Array<{ status: string }>;
      assert.deepEqual(
        listed.map((schedule) => schedule.status),
        ['ACTIVE', 'ACTIVE'],
      );
    }
  });
});
