import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isApiError } from '../../src/errors.js';
import { JobDeadline } from '../../src/engine/deadline.js';
import { FairQueue } from '../../src/engine/fair-queue.js';
import { startService, type TestService } from '../helpers/service.js';

// Issue 12: a capture waits in the browser queue at most SNAPWIRE_BROWSER_QUEUE_WAIT (then 429 with
// Retry-After), and the queue serves projects in turn. Real Chromium, one slot.

describe('fair queue', () => {
  it('serves keys in turn, each key first come first served', () => {
    const queue = new FairQueue<string>();
    for (const item of ['a1', 'a2', 'a3']) queue.push('a', item);
    queue.push('b', 'b1');
    queue.push('c', 'c1');
    queue.push('b', 'b2');
    assert.equal(queue.remove('c', 'c1'), true);
    assert.equal(queue.size, 5);
    const order: string[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) order.push(item);
    assert.deepEqual(order, ['a1', 'b1', 'a2', 'b2', 'a3']);
    assert.equal(queue.size, 0);
  });
});

describe('browser queue: bounded wait and round-robin across projects', () => {
  let service: TestService;

  before(async () => {
    service = await startService({
      SNAPWIRE_BROWSER_CONCURRENCY: '1',
      SNAPWIRE_BROWSER_QUEUE_WAIT: '2s',
    });
  });
  after(async () => service?.close());

  /** Holds the only slot until the returned function is called. */
  async function holdSlot() {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const done = service.snapwire.services.pool.withPage(
      { queueKey: 'spinner' },
      new JobDeadline(Date.now(), 60_000),
      async () => {
        started();
        await held;
      },
    );
    await running;
    return { release, done };
  }

  it('answers 429 with Retry-After after the queue wait, long before the request timeout', async () => {
    const hold = await holdSlot();
    try {
      const started = Date.now();
      const waited = service.snapwire.services.pool.withPage(
        { queueKey: 'patient' },
        new JobDeadline(Date.now(), 60_000),
        async () => 'ran',
      );
      const error = await waited.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      const elapsed = Date.now() - started;
      assert.ok(isApiError(error), String(error));
      assert.equal(error.code, 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED');
      assert.equal(error.definition.httpStatus, 429);
      assert.ok((error.retryAfterSeconds ?? 0) >= 1);
      assert.ok(elapsed >= 1_900 && elapsed < 10_000, `gave up after ${elapsed} ms, not at the 60 s timeout`);
    } finally {
      hold.release();
      await hold.done;
    }
  });

  it("serves a second project's capture before the first project's backlog", async () => {
    const hold = await holdSlot();
    const order: string[] = [];
    const run = (project: string, name: string) =>
      service.snapwire.services.pool.withPage(
        { queueKey: project },
        new JobDeadline(Date.now(), 60_000),
        async () => {
          order.push(name);
        },
      );
    const jobs = [
      run('spinner', 'spin-1'),
      run('spinner', 'spin-2'),
      run('spinner', 'spin-3'),
      run('normal', 'normal-1'),
    ];
    hold.release();
    await hold.done;
    await Promise.all(jobs);
    assert.deepEqual(order, ['spin-1', 'normal-1', 'spin-2', 'spin-3']);
  });
});
