import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.js';
import { CrawlStore, MAX_URL_ATTEMPTS } from '../../src/crawler/crawl-store.js';
import { parseCrawlRequest } from '../../src/request/crawl-request.js';
import pino from 'pino';
import { RetentionSweeper } from '../../src/retention/retention-sweeper.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`crawl frontier on ${dialect.name}: claims, leases, fencing`, () => {
    const clock: Clock & { time: number } = { time: 1_000_000, now: () => clock.time };
    let handle: TestStore;
    let store: CrawlStore;

    before(async () => {
      handle = await dialect.open();
      store = new CrawlStore(handle.store.db, handle.store.dialect, clock);
    });
    after(async () => handle.dispose());
    beforeEach(() => {
      clock.time = 1_000_000;
    });

    /** A crawl of http://site.test/ with `extra` more pending URLs; a project of its own unless given. */
    const newCrawl = async (body: Record<string, unknown>, extra = 0, projectId?: string) => {
      const uuid = randomUUID();
      await store.create({
        uuid,
        projectId: projectId ?? `project-${uuid}`,
        env: 'LIVE',
        request: parseCrawlRequest({ url: 'http://site.test/', ...body }),
      });
      if (extra > 0) {
        await store.discover(
          uuid,
          Array.from({ length: extra }, (_, i) => ({
            url: `http://site.test/p${i}`,
            depth: 1,
            status: 'pending' as const,
          })),
        );
      }
      return uuid;
    };

    it('never hands one URL to two workers claiming at once, and keeps max_concurrency across them', async () => {
      const uuid = await newCrawl({ max_concurrency: 7 }, 39);
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, w) => store.claim(uuid, `w${w}`, 30_000, 5)),
      );
      const urls = claims.flat().map((claim) => claim.url);
      assert.equal(urls.length, 7, 'no more in flight than max_concurrency');
      assert.equal(new Set(urls).size, urls.length, 'no URL claimed twice');
      assert.equal((await store.get(uuid))?.status, 'RUNNING');
    });

    it("takes over a dead node's URL when its lease runs out, and refuses the dead node's late result", async () => {
      const uuid = await newCrawl({}, 0);
      const [dead] = await store.claim(uuid, 'node-a', 30_000, 1);
      assert.ok(dead);
      assert.deepEqual(await store.claim(uuid, 'node-b', 30_000, 1), [], 'leased: not claimable');
      clock.time += 30_001;
      const [taken] = await store.claim(uuid, 'node-b', 30_000, 1);
      assert.equal(taken?.url, dead.url);
      assert.equal(await store.complete(dead, { status: 'visited', credits: 1 }), false, 'fenced');
      assert.equal(await store.complete(taken!, { status: 'visited', contentsBlob: 'b', credits: 1 }), true);
      assert.equal(await store.complete(taken!, { status: 'visited', credits: 1 }), false, 'written once');
      const counts = await store.counts(uuid);
      assert.equal(counts.visited, 1);
      assert.equal(counts.pending, 0);
      assert.equal((await store.get(uuid))?.api_credit_used, 1, 'billed once');
    });

    it('a renewed lease is not taken over; a taken-over one cannot be renewed', async () => {
      const uuid = await newCrawl({}, 0);
      const [slow] = await store.claim(uuid, 'node-a', 30_000, 1);
      assert.ok(slow);
      clock.time += 20_000;
      assert.equal(await store.extend(slow, 30_000), true);
      clock.time += 20_000; // 40 s after the claim, 20 s after the renewal
      assert.deepEqual(await store.claim(uuid, 'node-b', 30_000, 1), [], 'still leased by its renewal');
      clock.time += 10_001;
      const [taken] = await store.claim(uuid, 'node-b', 30_000, 1);
      assert.equal(taken?.url, slow.url, 'claimable once the renewal ran out');
      assert.equal(await store.extend(slow, 30_000), false, "the old holder's renewal is fenced");
    });

    it(`fails a URL whose lease ran out ${MAX_URL_ATTEMPTS} times instead of retrying it forever`, async () => {
      const uuid = await newCrawl({}, 0);
      for (let attempt = 0; attempt < MAX_URL_ATTEMPTS; attempt += 1) {
        assert.equal((await store.claim(uuid, 'crashy', 1_000, 1)).length, 1);
        clock.time += 1_001;
      }
      assert.deepEqual(await store.claim(uuid, 'crashy', 1_000, 1), []);
      const [failed] = await store.urls(uuid, 'failed', 0, 10);
      assert.equal(failed?.reason, 'too_many_attempts');
    });

    it('claims no more than page_limit pages, and one URL per delay', async () => {
      const limited = await newCrawl({ page_limit: 3, max_concurrency: 10 }, 20);
      assert.equal((await store.claim(limited, 'w', 30_000, 10)).length, 3);
      const polite = await newCrawl({ delay: 500, max_concurrency: 10 }, 20);
      assert.equal((await store.claim(polite, 'w', 30_000, 10)).length, 1);
      assert.equal((await store.claim(polite, 'w', 30_000, 10)).length, 0, 'within the delay');
      clock.time += 500;
      assert.equal((await store.claim(polite, 'w', 30_000, 10)).length, 1);
    });

    it('records a URL once however often it is discovered', async () => {
      const uuid = await newCrawl({}, 0);
      const again = [{ url: 'http://site.test/a', depth: 1, status: 'pending' as const }];
      assert.equal(await store.discover(uuid, again), 1);
      assert.equal(await store.discover(uuid, again), 0);
      assert.equal(
        await store.discover(uuid, [{ url: 'http://site.test/', depth: 3, status: 'pending' }]),
        0,
      );
      assert.equal((await store.counts(uuid)).total, 2);
    });

    it('cancel ends an active crawl once, skips what was pending, and fences results in flight', async () => {
      const uuid = await newCrawl({}, 5);
      const [inFlight] = await store.claim(uuid, 'w', 30_000, 1);
      const end = { status: 'CANCELLED' as const, stopReason: 'user_cancelled', success: false };
      assert.equal(await store.finish(uuid, end), true);
      assert.equal(await store.finish(uuid, end), false, 'idempotent');
      assert.equal(await store.complete(inFlight!, { status: 'visited', credits: 1 }), false);
      const counts = await store.counts(uuid);
      assert.equal(counts.skipped, 6);
      assert.equal(counts.pending, 0);
      const row = await store.get(uuid);
      assert.equal(row?.status, 'CANCELLED');
      assert.equal(row?.stop_reason, 'user_cancelled');
      assert.deepEqual(await store.claim(uuid, 'w', 30_000, 5), [], 'an ended crawl hands out nothing');
      assert.equal(
        await store.discover(uuid, [{ url: 'http://site.test/late', depth: 1, status: 'pending' }]),
        0,
        'an ended crawl takes no new URLs',
      );
      assert.equal((await store.counts(uuid)).pending, 0);
    });

    it('retention sweeps ended crawls with their URLs past the project retention, never a running one', async () => {
      const ended = await newCrawl({}, 3, 'p1');
      const running = await newCrawl({}, 3, 'p1');
      await store.claim(running, 'w', 30_000, 1);
      await store.finish(ended, { status: 'DONE', stopReason: 'no_more_urls', success: true });
      const retention = new RetentionSweeper({
        db: handle.store.db,
        clock,
        projects: async () => [{ id: 'p1', limits: { retentionDays: 7 } }],
        logger: pino({ level: 'silent' }),
      });
      clock.time += 6 * 86_400_000;
      assert.equal((await retention.sweep()).crawls, 0, 'within retention');
      clock.time += 2 * 86_400_000;
      assert.ok((await retention.sweep()).crawls >= 1);
      assert.equal(await store.get(ended), undefined);
      assert.equal((await store.counts(ended)).total, 0, 'its URLs went with it');
      assert.equal((await store.get(running))?.status, 'RUNNING');
      assert.equal((await store.counts(running)).total, 4);
    });

    it("two crawls of one host in one project share its concurrency; another project's do not", async () => {
      const project = `shared-${randomUUID()}`;
      const first = await newCrawl({ max_concurrency: 3 }, 10, project);
      const second = await newCrawl({ max_concurrency: 5 }, 10, project);
      const stranger = await newCrawl({ max_concurrency: 3 }, 10);
      const mine = await store.claim(first, 'w', 30_000, 10);
      assert.equal(mine.length, 3);
      assert.deepEqual(await store.claim(second, 'w', 30_000, 10), [], 'the host has 3 in flight already');
      assert.equal((await store.claim(stranger, 'w', 30_000, 10)).length, 3, 'another project is not held');
      assert.equal(await store.complete(mine[0]!, { status: 'visited', credits: 1 }), true);
      assert.equal((await store.claim(second, 'w', 30_000, 10)).length, 1, 'the room one page left');
      // A crawl that ended holds nothing.
      await store.finish(first, { status: 'DONE', stopReason: 'user_cancelled', success: false });
      assert.equal((await store.claim(second, 'w', 30_000, 10)).length, 4, 'its own max_concurrency now');
    });

    it('two crawls of one host in one project share its delay: one URL per the longest delay', async () => {
      const project = `polite-${randomUUID()}`;
      const slow = await newCrawl({ delay: 1_000, max_concurrency: 10 }, 10, project);
      const eager = await newCrawl({ max_concurrency: 10 }, 10, project);
      assert.equal((await store.claim(eager, 'w', 30_000, 10)).length, 1, "the slow crawl's delay holds");
      assert.deepEqual(await store.claim(slow, 'w', 30_000, 10), [], 'within the delay, whichever claims');
      clock.time += 999;
      assert.deepEqual(await store.claim(eager, 'w', 30_000, 10), []);
      clock.time += 1;
      assert.equal((await store.claim(slow, 'w', 30_000, 10)).length, 1);
      assert.deepEqual(await store.claim(eager, 'w', 30_000, 10), []);
    });

    it('shows a crawl to its project and environment only', async () => {
      const uuid = await newCrawl({}, 0, 'p1');
      assert.ok(await store.find(uuid, 'p1', 'LIVE'));
      assert.equal(await store.find(uuid, 'p1', 'TEST'), undefined);
      assert.equal(await store.find(uuid, 'p2', 'LIVE'), undefined);
    });
  });
}
