import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConcurrencyLeases, LEASE_TTL_MS, projectScope } from '../../src/accounts/concurrency-leases.js';
import type { Clock } from '../../src/clock.js';
import { ApiError } from '../../src/errors.js';
import { FleetLock, withStartupLock } from '../../src/store/fleet-lock.js';
import { FleetMaintenance } from '../../src/store/fleet-maintenance.js';
import { createLogger } from '../../src/logger.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';
import { waitUntil } from '../helpers/wait-until.js';

for (const dialect of DIALECTS) {
  describe(`fleet coordination on ${dialect.name}`, () => {
    const clock: Clock & { time: number } = { time: 1_000_000, now: () => clock.time };
    let handle: TestStore;
    // Two nodes on one database.
    let nodeA: ConcurrencyLeases;
    let nodeB: ConcurrencyLeases;

    before(async () => {
      handle = await dialect.open();
      nodeA = new ConcurrencyLeases(handle.store.db, clock, 'node-a');
      nodeB = new ConcurrencyLeases(handle.store.db, clock, 'node-b');
    });
    after(async () => {
      await nodeA.stop();
      await nodeB.stop();
      await handle.dispose();
    });

    it('a project limit of 2 holds over two nodes, and a release frees exactly one slot', async () => {
      const scope = projectScope('p-limit');
      const first = await nodeA.acquireProjectSlot('p-limit', 2);
      const second = await nodeB.acquireProjectSlot('p-limit', 2);
      await assert.rejects(
        nodeA.acquireProjectSlot('p-limit', 2),
        (error: unknown) =>
          error instanceof ApiError &&
          error.code === 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED' &&
          error.retryAfterSeconds === 1,
      );
      assert.equal(await nodeB.tryAcquire(scope, 2), undefined, 'node B is refused too');
      assert.equal(await nodeA.usage(scope), 2);
      await first();
      await first();
      assert.equal(await nodeA.usage(scope), 1, 'releasing twice frees one slot only');
      const third = await nodeB.acquireProjectSlot('p-limit', 2);
      await assert.rejects(nodeA.acquireProjectSlot('p-limit', 2));
      await second();
      await third();
      assert.equal(await nodeA.usage(scope), 0);
    });

    it('20 acquirers racing at once over two nodes get exactly the limit', async () => {
      const scope = projectScope('p-race');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? nodeA : nodeB).tryAcquire(scope, 3)),
      );
      const granted = results.filter((release) => release !== undefined);
      assert.equal(granted.length, 3);
      await Promise.all(granted.map((release) => release?.()));
    });

    it('slots of a node that died are free again once the lease TTL has passed, not before', async () => {
      const scope = projectScope('p-dead');
      const dead = new ConcurrencyLeases(handle.store.db, clock, 'node-dead');
      assert.ok(await dead.tryAcquire(scope, 1));
      // The dead node never renews; a live one keeps its own slot by renewing.
      clock.time += LEASE_TTL_MS - 1;
      assert.equal(await nodeA.tryAcquire(scope, 1), undefined, 'still held within the TTL');
      clock.time += 2;
      const taken = await nodeA.tryAcquire(scope, 1);
      assert.ok(taken, 'taken over after the TTL');
      clock.time += LEASE_TTL_MS - 1000;
      await nodeA.renew();
      clock.time += 2000;
      assert.equal(await nodeB.tryAcquire(scope, 1), undefined, 'a renewed slot stays held');
      await taken?.();
    });

    it('recoverExpired removes only expired slots', async () => {
      const holder = new ConcurrencyLeases(handle.store.db, clock, 'node-c');
      const kept = await nodeA.tryAcquire(projectScope('p-keep'), 1);
      assert.ok(await holder.tryAcquire(projectScope('p-gone'), 1));
      clock.time += LEASE_TTL_MS + 1;
      await nodeA.renew();
      assert.equal(await nodeB.recoverExpired(), 1);
      assert.equal(await nodeB.usage(projectScope('p-keep')), 1);
      await kept?.();
    });

    it('runOncePerFleet: one node runs the work, others skip it until the hold has passed', async () => {
      const lockA = new FleetLock(handle.store, 'a/1', () => clock.now());
      const lockB = new FleetLock(handle.store, 'b/1', () => clock.now());
      let runs = 0;
      let release!: () => void;
      const blocked = new Promise<void>((resolve) => (release = resolve));
      const first = lockA.runOncePerFleet(
        'sweep',
        async () => {
          runs += 1;
          await blocked;
        },
        { leaseMs: 60_000, holdForMs: 10_000 },
      );
      // While A works, B is kept out.
      await waitUntil(() => runs === 1, { timeoutMs: 5_000, what: 'node A to start the work' });
      assert.equal(
        await lockB.runOncePerFleet('sweep', async () => void (runs += 1), { leaseMs: 60_000 }),
        false,
      );
      release();
      assert.equal(await first, true);
      assert.equal(
        await lockB.runOncePerFleet('sweep', async () => void (runs += 1), { leaseMs: 60_000 }),
        false,
        'held for the rest of the interval',
      );
      clock.time += 10_001;
      assert.equal(
        await lockB.runOncePerFleet('sweep', async () => void (runs += 1), { leaseMs: 60_000 }),
        true,
      );
      assert.equal(runs, 2);
    });

    it('a node that dies holding a lock blocks the work only until its lease runs out', async () => {
      const dead = new FleetLock(handle.store, 'dead/1', () => clock.now());
      const live = new FleetLock(handle.store, 'live/1', () => clock.now());
      assert.equal(await dead.tryAcquire('recovery', 5_000), true);
      assert.equal(await live.tryAcquire('recovery', 5_000), false);
      clock.time += 5_001;
      assert.equal(await live.tryAcquire('recovery', 5_000), true);
    });

    it('FleetMaintenance runs a task once per interval over three nodes ticking together', async () => {
      const logger = createLogger('silent');
      const nodes = ['m1', 'm2', 'm3'].map(
        (id) => new FleetMaintenance(new FleetLock(handle.store, `${id}/x`, () => clock.now()), logger),
      );
      let runs = 0;
      const task = {
        name: 'retention',
        intervalMs: 60_000,
        leaseMs: 30_000,
        run: async () => void (runs += 1),
      };
      for (let round = 0; round < 3; round += 1) {
        const ran = await Promise.all(nodes.map((node) => node.tick(task)));
        assert.equal(ran.filter(Boolean).length, 1, `round ${round}: exactly one node ran it`);
        clock.time += 60_000;
      }
      assert.equal(runs, 3);
    });

    it('withStartupLock serialises start-up work', async () => {
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 4 }, () =>
          withStartupLock(handle.store, async () => {
            inside += 1;
            most = Math.max(most, inside);
            await new Promise((resolve) => setTimeout(resolve, 20));
            inside -= 1;
          }),
        ),
      );
      if (dialect.name === 'postgres') assert.equal(most, 1);
    });
  });
}
