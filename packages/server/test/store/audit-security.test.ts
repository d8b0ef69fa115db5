import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import pino from 'pino';
import { ProjectService } from '../../src/accounts/projects.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import {
  DashboardAuth,
  LOGIN_ACCOUNT_ATTEMPTS,
  LOGIN_ATTEMPTS,
  LOGIN_WINDOW_MS,
} from '../../src/dashboard/auth.js';
import { TwoFactor } from '../../src/dashboard/two-factor.js';
import { RetentionSweeper } from '../../src/retention/retention-sweeper.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const DAY_MS = 86_400_000;

/** The audit log, the per-account sign-in throttle and TOTP two-factor (migration 0024) on both dialects. */
for (const dialect of DIALECTS) {
  describe(`audit log and sign-in security (${dialect.name})`, () => {
    let handle: TestStore;
    const clock = { time: Date.UTC(2026, 0, 10), now: () => clock.time };
    let projectId: string;

    before(async () => {
      handle = await dialect.open();
      projectId = (await new ProjectService(handle.store.db, clock).create('acme', 'FREE')).project.id;
      await new DashboardAuth(handle.store.db, clock, 3_600_000).ensureAdmin('correct-horse-battery-staple');
    });
    after(async () => handle?.dispose());

    it('records, filters, pages newest first, and the sweeper keeps rows SNAPWIRE_AUDIT_RETENTION_DAYS', async () => {
      const audit = new AuditLog(handle.store.db, clock);
      const start = clock.time;
      await audit.record({ actor: 'admin', action: 'sign_in', sourceAddress: '127.0.0.9' });
      clock.time += 1000;
      await audit.record({
        actor: 'admin',
        action: 'key_rotated',
        projectId,
        target: 'acme/LIVE',
        sourceAddress: '127.0.0.9',
        detail: { note: 'x' },
      });
      clock.time += 1000;
      await audit.record({ actor: 'mallory', action: 'sign_in_failed', sourceAddress: '127.0.0.7' });

      const all = await audit.list({}, 10);
      assert.deepEqual(
        all.map((row) => row.action),
        ['sign_in_failed', 'key_rotated', 'sign_in'],
      );
      assert.deepEqual(all[1]?.detail, { note: 'x' });
      assert.equal(all[1]?.projectId, projectId);
      assert.deepEqual(
        (await audit.list({ actor: 'admin' }, 10)).map((row) => row.action),
        ['key_rotated', 'sign_in'],
      );
      assert.deepEqual(
        (await audit.list({ projectId }, 10)).map((row) => row.target),
        ['acme/LIVE'],
      );
      assert.deepEqual(
        (await audit.list({ action: 'sign_in_failed' }, 10)).map((row) => row.sourceAddress),
        ['127.0.0.7'],
      );
      assert.deepEqual(
        (await audit.list({ from: start + 500, to: start + 1500 }, 10)).map((row) => row.action),
        ['key_rotated'],
      );
      const first = await audit.list({}, 2);
      const next = await audit.list({ before: first.at(-1)?.id }, 2);
      assert.deepEqual(
        next.map((row) => row.action),
        ['sign_in'],
        'the next page starts after the last row shown',
      );
      assert.deepEqual(await audit.actors(), ['admin', 'mallory']);

      const sweeper = new RetentionSweeper({
        db: handle.store.db,
        clock,
        projects: async () => [],
        logger: pino({ level: 'silent' }),
        auditRetentionDays: 30,
        sweepAudit: (cutoff) => audit.sweep(cutoff),
      });
      clock.time += 29 * DAY_MS;
      assert.equal((await sweeper.sweep()).audit, 0, 'nothing is 30 days old yet');
      clock.time += 2 * DAY_MS;
      await audit.record({ actor: 'admin', action: 'sign_out', sourceAddress: '127.0.0.9' });
      assert.equal((await sweeper.sweep()).audit, 3, 'the three old rows go');
      assert.deepEqual(
        (await audit.list({}, 10)).map((row) => row.action),
        ['sign_out'],
      );
    });

    it('throttles an account across addresses, shared by every process on the store', async () => {
      // Two DashboardAuth objects on one database: two nodes of a fleet.
      const nodeA = new DashboardAuth(handle.store.db, clock, 3_600_000);
      const nodeB = new DashboardAuth(handle.store.db, clock, 3_600_000);
      for (let i = 0; i < LOGIN_ACCOUNT_ATTEMPTS; i += 1) {
        const node = i % 2 === 0 ? nodeA : nodeB;
        assert.equal(await node.reserveSignIn(`127.0.1.${i}`, 'admin'), undefined, `attempt ${i + 1}`);
      }
      const wait = await nodeB.reserveSignIn('127.0.2.1', 'admin');
      assert.ok(wait !== undefined && wait > 0, 'a new address is refused for this account');
      assert.equal(await nodeA.reserveSignIn('127.0.2.2', 'someone-else'), undefined, 'other accounts go on');
      clock.time += LOGIN_WINDOW_MS + 1;
      assert.equal(await nodeA.reserveSignIn('127.0.2.3', 'admin'), undefined, 'the window ends');
      // The per-address budget holds as before.
      for (let i = 0; i < LOGIN_ATTEMPTS - 1; i += 1) await nodeA.reserveSignIn('127.0.3.1', `user${i}`);
      assert.ok((await nodeA.reserveSignIn('127.0.3.1', 'another')) === undefined);
      assert.ok((await nodeB.reserveSignIn('127.0.3.1', 'yet-another')) !== undefined);
    });

    it('TOTP: confirm with a code, a code signs in once, a recovery code once, codes follow the clock', async () => {
      const twoFactor = new TwoFactor(handle.store.db, clock, 'Snapwire');
      const enrolment = await twoFactor.enrol('admin');
      assert.ok(enrolment);
      assert.match(enrolment.uri, /^otpauth:\/\/totp\/Snapwire:admin\?/);
      const app = new TOTP({ secret: Secret.fromBase32(enrolment.secret), period: 30, digits: 6 });
      const codeAt = (time: number) => app.generate({ timestamp: time });
      assert.equal(
        await twoFactor.confirm('admin', '000000' === codeAt(clock.time) ? '111111' : '000000'),
        undefined,
      );
      assert.equal(await twoFactor.enabled('admin'), false);
      const codes = await twoFactor.confirm('admin', codeAt(clock.time));
      assert.equal(codes?.length, 10);
      assert.equal(await twoFactor.enabled('admin'), true);

      clock.time += 30_000;
      const code = codeAt(clock.time);
      assert.equal(await twoFactor.verify('admin', code), 'totp');
      assert.equal(await twoFactor.verify('admin', code), undefined, 'the same code never twice');
      clock.time += 30_000;
      assert.equal(await twoFactor.verify('admin', codeAt(clock.time)), 'totp', 'the next step works');
      clock.time += 30_000;
      assert.equal(
        await twoFactor.verify('admin', codeAt(clock.time - 5 * 60_000)),
        undefined,
        'a code five minutes old is refused',
      );

      const recovery = codes?.[3] ?? '';
      assert.equal(await twoFactor.verify('admin', recovery.toUpperCase()), 'recovery_code');
      assert.equal(await twoFactor.verify('admin', recovery), undefined, 'each recovery code once');
      assert.equal(await twoFactor.remainingRecoveryCodes('admin'), 9);
      const stored = await handle.store.db
        .selectFrom('dashboard_recovery_codes')
        .select('code_hash')
        .execute();
      assert.ok(
        stored.every((row) => !codes?.some((c) => row.code_hash.includes(c))),
        'codes are stored hashed',
      );
      await twoFactor.disable('admin');
      assert.equal(await twoFactor.enabled('admin'), false);
      assert.equal(await twoFactor.remainingRecoveryCodes('admin'), 0);
    });
  });
}
