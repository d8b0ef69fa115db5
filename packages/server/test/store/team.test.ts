import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProjectService } from '../../src/accounts/projects.js';
import { ensureAdminAccount } from '../../src/admin/admin-password.js';
import { DashboardAuth } from '../../src/dashboard/auth.js';
import { INVITATION_TTL_MS, TeamStore } from '../../src/team/team-store.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

/** Users, roles, memberships and one-time links (migration 0023) on both dialects. */
for (const dialect of DIALECTS) {
  describe(`team store (${dialect.name})`, () => {
    let handle: TestStore;
    let team: TeamStore;
    let acme: string;
    let other: string;
    const clock = { t: 1_000_000, now: () => clock.t };

    before(async () => {
      handle = await dialect.open();
      const projects = new ProjectService(handle.store.db, clock);
      acme = (await projects.create('acme', 'FREE')).project.id;
      other = (await projects.create('other', 'FREE')).project.id;
      await ensureAdminAccount(handle.store.db, clock, 'first-owner-password');
      team = new TeamStore(handle.store.db, clock, handle.store.dialect);
    });
    after(async () => handle?.dispose());

    it("makes the first start's admin the owner", async () => {
      assert.deepEqual(await team.accessOf('admin'), { username: 'admin', role: 'owner', projectIds: 'all' });
    });

    it('invites once: the accepted user has the role and projects; the link is refused when reused', async () => {
      const link = await team.invite({
        email: 'Vi.Ewer@Example.com',
        role: 'viewer',
        projectIds: [acme],
        createdBy: 'admin',
      });
      assert.equal(link.email, 'vi.ewer@example.com');
      assert.equal(link.expiresAt, clock.t + INVITATION_TTL_MS);
      assert.equal((await team.pendingLinks()).length, 1);
      const user = await team.accept(link.token, 'Vi Ewer', 'viewer-password-1');
      assert.equal(user.role, 'viewer');
      assert.deepEqual(await team.accessOf(user.username), {
        username: user.username,
        role: 'viewer',
        projectIds: [acme],
      });
      await assert.rejects(team.accept(link.token, 'Again', 'viewer-password-2'), /already used/);
      assert.equal((await team.pendingLinks()).length, 0);
      // Sign in by email in any case.
      const auth = new DashboardAuth(handle.store.db, clock, 60_000);
      assert.ok(await auth.signIn('VI.EWER@example.COM', 'viewer-password-1'));
    });

    it('one email is one user whatever its case', async () => {
      await assert.rejects(
        team.invite({ email: 'vi.ewer@EXAMPLE.com', role: 'admin', projectIds: [], createdBy: 'admin' }),
        /already a member/,
      );
      assert.equal((await team.find('VI.EWER@example.com'))?.username, 'vi.ewer@example.com');
    });

    it('refuses an expired or revoked invitation', async () => {
      const expiring = await team.invite({
        email: 'late@example.com',
        role: 'developer',
        projectIds: [other],
        createdBy: 'admin',
      });
      clock.t += INVITATION_TTL_MS + 1;
      assert.equal(await team.openLink(expiring.token, 'invite'), undefined);
      await assert.rejects(team.accept(expiring.token, 'Late', 'developer-password'), /expired/);
      const revoked = await team.invite({
        email: 'gone@example.com',
        role: 'developer',
        projectIds: [],
        createdBy: 'admin',
      });
      await team.revoke(revoked.id);
      await assert.rejects(team.accept(revoked.token, 'Gone', 'developer-password'), /revoked/);
    });

    it('keeps the last owner: demoting or removing them is refused, a second owner makes it possible', async () => {
      await assert.rejects(team.setRole('admin', 'admin', 'owner'), /last owner/);
      await assert.rejects(team.remove('admin', 'owner'), /last owner/);
      await assert.rejects(team.setRole('vi.ewer@example.com', 'owner', 'admin'), /only an owner/);
      await team.setRole('vi.ewer@example.com', 'owner', 'owner');
      await team.setRole('admin', 'admin', 'owner');
      assert.equal((await team.accessOf('admin'))?.role, 'admin');
      await team.setRole('admin', 'owner', 'owner');
      await team.setRole('vi.ewer@example.com', 'viewer', 'owner');
    });

    it('resets a password once with a link and signs out the old sessions', async () => {
      const auth = new DashboardAuth(handle.store.db, clock, 60_000);
      const before = await auth.signIn('vi.ewer@example.com', 'viewer-password-1');
      const link = await team.resetLink('VI.EWER@example.com', 'admin');
      assert.equal(await team.resetPassword(link.token, 'a-new-viewer-password'), 'vi.ewer@example.com');
      assert.equal(await auth.session(before?.id), undefined);
      assert.ok(await auth.signIn('vi.ewer@example.com', 'a-new-viewer-password'));
      await assert.rejects(team.resetPassword(link.token, 'yet-another-password'), /already used/);
    });

    it('removes a user with their sessions and memberships; projects can be set', async () => {
      await team.setProjects('vi.ewer@example.com', [acme, other]);
      assert.deepEqual(
        ((await team.accessOf('vi.ewer@example.com'))?.projectIds as string[]).sort(),
        [acme, other].sort(),
      );
      const auth = new DashboardAuth(handle.store.db, clock, 60_000);
      const signedIn = await auth.signIn('vi.ewer@example.com', 'a-new-viewer-password');
      await team.remove('Vi.Ewer@example.com', 'admin');
      assert.equal(await team.accessOf('vi.ewer@example.com'), undefined);
      assert.equal(await auth.session(signedIn?.id), undefined);
    });
  });
}
