import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreditLedger } from '../../src/accounts/credits.js';
import { hashApiKey } from '../../src/accounts/keys.js';
import { PLANS } from '../../src/accounts/plans.js';
import { ProjectError, ProjectService } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { LogStore } from '../../src/logs/log-store.js';
import { isMigrated } from '../../src/store/database.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const clock: Clock & { time: number } = { time: Date.UTC(2026, 10, 27, 12), now: () => clock.time };

for (const dialect of DIALECTS) {
  describe(`accounts and logs on ${dialect.name}`, () => {
    let handle: TestStore;
    let projects: ProjectService;

    before(async () => {
      handle = await dialect.open();
      projects = new ProjectService(handle.store.db, clock);
    });
    after(async () => handle.dispose());

    it('is migrated, and migrating again changes nothing', async () => {
      assert.equal(await isMigrated(handle.store), true);
    });

    it('creates the default project once, with the bootstrap keys, and stores only their hashes', async () => {
      const keys = await projects.ensureDefault('PRO', { LIVE: 'scp-live-bootstrap-1234567890' });
      assert.ok(keys);
      assert.equal(keys.LIVE, 'scp-live-bootstrap-1234567890');
      assert.match(keys.TEST, /^scp-test-[0-9a-f]{32}$/);
      assert.equal(await projects.ensureDefault('PRO', {}), undefined, 'second start creates nothing');

      const rows = await handle.store.db.selectFrom('api_keys').selectAll().execute();
      const stored = JSON.stringify(rows);
      assert.ok(
        !stored.includes(keys.LIVE) && !stored.includes(keys.TEST),
        'no key in clear text in the store',
      );
      assert.ok(rows.some((row) => row.key_hash === hashApiKey(keys.LIVE)));

      const caller = await projects.authenticate(keys.TEST);
      assert.equal(caller?.project.name, 'default');
      assert.equal(caller?.env, 'TEST');
      assert.deepEqual(caller?.project.limits, PLANS.PRO);
    });

    it('creates, lists, changes and rotates projects', async () => {
      const { project, keys } = await projects.create('acme', 'FREE');
      assert.equal(project.plan, 'FREE');
      assert.equal(project.keyHints.LIVE, keys.LIVE.slice(-4));
      await assert.rejects(projects.create('acme', 'FREE'), ProjectError);
      await assert.rejects(projects.create('bad name!', 'FREE'), /a project name is/);

      const changed = await projects.update('acme', { plan: 'DISCOVERY', overrides: { concurrency: 3 } });
      assert.equal(changed.plan, 'DISCOVERY');
      assert.equal(changed.limits.concurrency, 3);
      assert.equal(changed.limits.monthlyCredits, PLANS.DISCOVERY.monthlyCredits);
      const reset = await projects.update('acme', { overrides: { concurrency: null } });
      assert.equal(reset.limits.concurrency, PLANS.DISCOVERY.concurrency);
      await assert.rejects(projects.update('acme', { overrides: { bogus: 1 } }), /invalid limits/);
      await assert.rejects(projects.update('nope', { plan: 'PRO' }), /no project named "nope"/);

      const names = (await projects.list()).map((p) => p.name);
      assert.deepEqual(names.sort(), ['acme', 'default']);

      const fresh = await projects.rotateKey('acme', 'LIVE');
      assert.notEqual(fresh, keys.LIVE);
      assert.equal(await projects.authenticate(keys.LIVE), undefined, 'the old key stops working at once');
      assert.equal((await projects.authenticate(fresh))?.project.name, 'acme');
      assert.equal(
        (await projects.authenticate(keys.TEST))?.env,
        'TEST',
        'the other environment keeps its key',
      );
    });

    it('counts credits per project and month, atomically under concurrent charges', async () => {
      const ledger = new CreditLedger(handle.store.db, clock);
      const acme = await projects.findByName('acme');
      assert.ok(acme);
      await Promise.all(Array.from({ length: 20 }, () => ledger.charge(acme.id, 60)));
      assert.equal(await ledger.used(acme.id), 1200);
      clock.time = Date.UTC(2026, 11, 1);
      assert.equal(await ledger.used(acme.id), 0, 'a new month starts at zero');
      clock.time = Date.UTC(2026, 10, 27, 12);
    });

    it('never shows one project the logs of another', async () => {
      const logs = new LogStore(handle.store.db);
      const acme = await projects.findByName('acme');
      const other = await projects.findByName('default');
      assert.ok(acme && other);
      await logs.record({
        log_uuid: `log-${dialect.name}`,
        project_id: acme.id,
        env: 'LIVE',
        url: 'https://example.com/',
        params: '{}',
        http_status: 200,
        error_code: null,
        error_reason: null,
        upstream_status: 200,
        final_url: 'https://example.com/',
        cost: 60,
        duration_ms: 123,
        blob_key: null,
        content_type: 'image/jpeg',
        created_at: clock.now(),
      });
      assert.equal((await logs.find(acme.id, `log-${dialect.name}`))?.duration_ms, 123);
      assert.equal(await logs.find(other.id, `log-${dialect.name}`), undefined);
    });
  });
}
