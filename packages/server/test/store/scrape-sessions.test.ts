import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProjectService } from '../../src/accounts/projects.js';
import { ScrapeSessionStore, SESSION_IDLE_MS } from '../../src/scrape/session-store.js';
import type { StoredCookie } from '../../src/scrape/cookie-jar.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const cookie = (name: string, value: string): StoredCookie => ({
  name,
  value,
  domain: 'shop.test',
  hostOnly: true,
  path: '/',
  secure: false,
  httpOnly: true,
});

/** session=NAME's jars (migration 0015): per project, environment and name, gone after the idle time. */
for (const dialect of DIALECTS) {
  describe(`scrape sessions (${dialect.name})`, () => {
    let handle: TestStore;
    let sessions: ScrapeSessionStore;
    let projectId: string;
    let otherProjectId: string;

    before(async () => {
      handle = await dialect.open();
      const projects = new ProjectService(handle.store.db, { now: () => 0 });
      projectId = (await projects.create('acme', 'FREE')).project.id;
      otherProjectId = (await projects.create('other', 'FREE')).project.id;
      sessions = new ScrapeSessionStore(handle.store.db);
    });
    after(async () => handle?.dispose());

    it('keeps a jar per project, environment and name; a save replaces it', async () => {
      const now = 1_000_000;
      assert.equal(await sessions.load(projectId, 'LIVE', 'cart', now), undefined);
      await sessions.save(
        projectId,
        'LIVE',
        'cart',
        { cookies: [cookie('sid', '1')], localStorage: {} },
        now,
      );
      assert.deepEqual((await sessions.load(projectId, 'LIVE', 'cart', now + 1))?.cookies, [
        cookie('sid', '1'),
      ]);
      assert.equal(await sessions.load(projectId, 'TEST', 'cart', now + 1), undefined);
      assert.equal(await sessions.load(otherProjectId, 'LIVE', 'cart', now + 1), undefined);
      assert.equal(await sessions.load(projectId, 'LIVE', 'Cart', now + 1), undefined);
      await sessions.save(
        projectId,
        'LIVE',
        'cart',
        { cookies: [cookie('sid', '2'), cookie('seen', 'y')], localStorage: {} },
        now + 2,
      );
      assert.deepEqual((await sessions.load(projectId, 'LIVE', 'cart', now + 3))?.cookies, [
        cookie('sid', '2'),
        cookie('seen', 'y'),
      ]);
    });

    it("keeps a render_js session's localStorage per origin beside its cookies", async () => {
      const now = 2_000_000;
      const storage = { 'http://shop.test': { cart: '3' }, 'https://other.test': { theme: 'dark' } };
      await sessions.save(
        projectId,
        'LIVE',
        'stored',
        { cookies: [cookie('sid', '1')], localStorage: storage },
        now,
      );
      assert.deepEqual(await sessions.load(projectId, 'LIVE', 'stored', now + 1), {
        cookies: [cookie('sid', '1')],
        localStorage: storage,
      });
      // Saved again without storage (a scrape without a browser kept none): none is read back.
      await sessions.save(projectId, 'LIVE', 'stored', { cookies: [], localStorage: {} }, now + 2);
      assert.deepEqual((await sessions.load(projectId, 'LIVE', 'stored', now + 3))?.localStorage, {});
    });

    it('a session idle longer than SESSION_IDLE_MS reads as new, and sweep deletes it; use restarts the idle time', async () => {
      const start = 50_000_000;
      await sessions.save(projectId, 'LIVE', 'old', { cookies: [cookie('a', '1')], localStorage: {} }, start);
      await sessions.save(
        projectId,
        'LIVE',
        'kept',
        { cookies: [cookie('b', '1')], localStorage: {} },
        start,
      );
      // Used again just before it would expire: its idle time starts over.
      await sessions.save(
        projectId,
        'LIVE',
        'kept',
        { cookies: [cookie('b', '2')], localStorage: {} },
        start + SESSION_IDLE_MS - 1,
      );
      const later = start + SESSION_IDLE_MS + 1;
      assert.equal(await sessions.load(projectId, 'LIVE', 'old', later), undefined);
      assert.deepEqual((await sessions.load(projectId, 'LIVE', 'kept', later))?.cookies, [cookie('b', '2')]);
      assert.ok((await sessions.sweep(later)) >= 1);
      const left = await handle.store.db
        .selectFrom('scrape_sessions')
        .select('name')
        .where('project_id', '=', projectId)
        .execute();
      assert.ok(!left.some((row) => row.name === 'old'));
      assert.ok(left.some((row) => row.name === 'kept'));
    });
  });
}
