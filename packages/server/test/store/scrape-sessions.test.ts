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
      await sessions.save(projectId, 'LIVE', 'cart', [cookie('sid', '1')], now);
      assert.deepEqual(await sessions.load(projectId, 'LIVE', 'cart', now + 1), [cookie('sid', '1')]);
      assert.equal(await sessions.load(projectId, 'TEST', 'cart', now + 1), undefined);
      assert.equal(await sessions.load(otherProjectId, 'LIVE', 'cart', now + 1), undefined);
      assert.equal(await sessions.load(projectId, 'LIVE', 'Cart', now + 1), undefined);
      await sessions.save(projectId, 'LIVE', 'cart', [cookie('sid', '2'), cookie('seen', 'y')], now + 2);
      assert.deepEqual(await sessions.load(projectId, 'LIVE', 'cart', now + 3), [
        cookie('sid', '2'),
        cookie('seen', 'y'),
      ]);
    });

    it('a session idle longer than SESSION_IDLE_MS reads as new, and sweep deletes it; use restarts the idle time', async () => {
      const start = 50_000_000;
      await sessions.save(projectId, 'LIVE', 'old', [cookie('a', '1')], start);
      await sessions.save(projectId, 'LIVE', 'kept', [cookie('b', '1')], start);
      // Used again just before it would expire: its idle time starts over.
      await sessions.save(projectId, 'LIVE', 'kept', [cookie('b', '2')], start + SESSION_IDLE_MS - 1);
      const later = start + SESSION_IDLE_MS + 1;
      assert.equal(await sessions.load(projectId, 'LIVE', 'old', later), undefined);
      assert.deepEqual(await sessions.load(projectId, 'LIVE', 'kept', later), [cookie('b', '2')]);
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
