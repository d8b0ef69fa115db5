import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollingLoop } from '../../src/queue/polling-loop.js';
import { waitUntil } from '../helpers/wait-until.js';

/** A room that counts its looks and sleeps as long as the test says. */
function countingRoom(sleepMs: number, lookBody: (look: number) => Promise<void> = async () => {}) {
  const room = {
    looks: 0,
    failures: [] as unknown[],
    async look() {
      room.looks += 1;
      await lookBody(room.looks);
      return room.looks;
    },
    sleepAfter: async () => sleepMs,
    lookFailed: (error: unknown) => room.failures.push(error),
  };
  return room;
}

describe('PollingLoop (the worker and the scheduler)', () => {
  it('a wake-up cuts a long sleep short', async () => {
    const room = countingRoom(60_000);
    const loop = new PollingLoop(room);
    loop.start();
    await waitUntil(() => room.looks === 1);
    loop.wake();
    await waitUntil(() => room.looks === 2, { timeoutMs: 2_000 });
    await loop.stop();
  });

  it('a wake-up during a look is not lost: the loop looks again at once', async () => {
    let release: () => void = () => {};
    const room = countingRoom(60_000, (look) =>
      look === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve(),
    );
    const loop = new PollingLoop(room);
    loop.start();
    await waitUntil(() => room.looks === 1);
    loop.wake(); // while the first look is still running
    release();
    await waitUntil(() => room.looks === 2, { timeoutMs: 2_000 });
    await loop.stop();
  });

  it('a look that throws is reported and the loop goes on', async () => {
    const room = countingRoom(1, async (look) => {
      if (look === 1) throw new Error('store outage');
    });
    const loop = new PollingLoop(room);
    loop.start();
    await waitUntil(() => room.looks >= 3);
    await loop.stop();
    assert.equal(room.failures.length, 1);
    assert.match(String(room.failures[0]), /store outage/);
  });

  it('stop() waits for the look in progress, and no look starts after it', async () => {
    let release: () => void = () => {};
    const room = countingRoom(1, () => new Promise<void>((resolve) => (release = resolve)));
    const loop = new PollingLoop(room);
    loop.start();
    await waitUntil(() => room.looks === 1);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, 'stop() returned while a look was running');
    release();
    await stopping;
    assert.equal(room.looks, 1);
    assert.equal(loop.running, false);
  });
});
