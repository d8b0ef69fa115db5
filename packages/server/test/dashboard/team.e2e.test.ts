import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { ADMIN_PASSWORD, postForm, signIn } from './support.js';

interface ReceivedMail {
  to: string[];
  body: string;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives. */
async function startSmtp(): Promise<{ url: string; mails: ReceivedMail[]; close(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Opens a one-time link's page and posts its form (the page's double-submit cookie included). */
async function useLink(link: string, fields: Record<string, string>) {
  const page = await fetch(link, { redirect: 'manual' });
  const text = await page.text();
  if (page.status !== 200) return { status: page.status, text, cookie: '' };
  const echoCookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const echo = /name="_link" value="([^"]+)"/.exec(text)?.[1] ?? '';
  const token = new URL(link).searchParams.get('token') ?? '';
  const path = new URL(link).pathname;
  const answer = await postForm(new URL(link).origin, path, { _link: echo, token, ...fields }, echoCookie);
  const cookie =
    (answer.headers.getSetCookie().find((c) => c.startsWith('snapwire_session=')) ?? '').split(';')[0] ?? '';
  return { status: answer.status, text: await answer.text(), cookie };
}

const csrfOf = async (baseUrl: string, cookie: string, path = '/dashboard/logs') =>
  /name="_csrf" value="([^"]+)"/.exec(
    await (await fetch(`${baseUrl}${path}`, { headers: { cookie } })).text(),
  )?.[1] ?? '';

const linkIn = (text: string) =>
  /(http:\/\/[^\s"<]+\/dashboard\/(?:accept|reset)\?token=[A-Za-z0-9_%-]+)/
    .exec(text)?.[1]
    ?.replaceAll('&amp;', '&') ?? '';

describe('team: invitations by mail, roles, project membership', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const clock = { t: Date.UTC(2026, 0, 5), now: () => clock.t };
  let owner: { cookie: string; csrf: string };

  before(async () => {
    smtp = await startSmtp();
    fixtures = await startFixtureServer();
    service = await startService(
      {
        SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        SNAPWIRE_SMTP_URL: smtp.url,
        SNAPWIRE_PUBLIC_URL: 'http://127.0.0.1:1',
      },
      {},
      { browsers: false, clock },
    );
    const projects = service.snapwire.services.projects;
    for (const name of ['acme', 'other']) {
      const { keys } = await projects.create(name, 'FREE');
      const url = `${fixtures.origin}/${name}-only-page`;
      await fetch(`${service.baseUrl}/scrape?${new URLSearchParams({ key: keys.LIVE ?? '', url })}`);
    }
    const signed = await signIn(service.baseUrl);
    owner = { cookie: signed.cookie, csrf: signed.csrf };
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await smtp?.close();
  });

  const local = (link: string) => link.replace('http://127.0.0.1:1', service.baseUrl);

  it('owner invites a viewer by mail; the viewer accepts, signs in and sees only their project', async () => {
    const invited = await postForm(
      service.baseUrl,
      '/dashboard/team/invite',
      { _csrf: owner.csrf, email: 'Viewer@Example.com', role: 'viewer', projects: 'acme' },
      owner.cookie,
    );
    assert.equal(invited.status, 200);
    const shown = linkIn(await invited.text());
    assert.ok(shown, 'the link is shown to the inviter');
    const mail = await waitUntil(() => smtp.mails.find((m) => m.to.includes('viewer@example.com')), {
      what: 'the invitation mail',
    });
    const mailed = linkIn(mail.body.replace(/=\r?\n/g, '').replace(/=3D/g, '='));
    assert.equal(mailed, shown);

    const accepted = await useLink(local(mailed), { name: 'Vera Viewer', password: 'viewer-password-123' });
    assert.equal(accepted.status, 303);
    const viewerCookie = accepted.cookie;
    const logs = await fetch(`${service.baseUrl}/dashboard/logs`, {
      headers: { cookie: viewerCookie },
      redirect: 'follow',
    });
    const page = await logs.text();
    assert.equal(logs.status, 200);
    assert.match(page, /acme-only-page/);
    assert.doesNotMatch(page, /other-only-page/);
    assert.doesNotMatch(page, /href="\/dashboard\/team"/, "no Team entry in a viewer's navigation");
    assert.match(page, /<option value="acme"/);
    assert.doesNotMatch(page, /<option value="other"/, 'the project picker lists only their project');
    const otherLogs = await fetch(`${service.baseUrl}/dashboard/logs?project=other`, {
      headers: { cookie: viewerCookie },
    });
    assert.equal(otherLogs.status, 403);

    // Signing in again works with the email in another case.
    const again = await signIn(service.baseUrl, 'viewer-password-123', 'VIEWER@example.COM');
    assert.equal(again.response.status, 303);

    // A viewer posting to an admin action is refused, even with a valid CSRF token.
    const csrf = await csrfOf(service.baseUrl, viewerCookie);
    assert.ok(csrf);
    const refused = await postForm(
      service.baseUrl,
      '/dashboard/team/invite',
      { _csrf: csrf, email: 'x@example.com', role: 'owner' },
      viewerCookie,
    );
    assert.equal(refused.status, 403);
  });

  it('refuses a reused invitation, an expired one and a revoked one', async () => {
    const make = async (email: string) =>
      linkIn(
        await (
          await postForm(
            service.baseUrl,
            '/dashboard/team/invite',
            { _csrf: owner.csrf, email, role: 'developer', projects: 'other' },
            owner.cookie,
          )
        ).text(),
      );
    const once = local(await make('dev@example.com'));
    assert.equal((await useLink(once, { name: 'Dev', password: 'developer-password' })).status, 303);
    assert.equal((await useLink(once, { name: 'Dev', password: 'developer-password' })).status, 410);

    const late = local(await make('late@example.com'));
    clock.t += 7 * 24 * 3_600_000 + 1_000;
    // The owner's session expired with the week that passed: sign in again.
    const again = await signIn(service.baseUrl);
    owner = { cookie: again.cookie, csrf: again.csrf };
    assert.equal((await useLink(late, { name: 'Late', password: 'late-password-123' })).status, 410);

    const revoked = local(await make('revoked@example.com'));
    const team = await (
      await fetch(`${service.baseUrl}/dashboard/team`, { headers: { cookie: owner.cookie } })
    ).text();
    const id = /data-email="revoked@example.com" data-link-id="([^"]+)"/.exec(team)?.[1] ?? '';
    assert.ok(id);
    assert.equal(
      (
        await postForm(
          service.baseUrl,
          `/dashboard/team/invitations/${id}/revoke`,
          { _csrf: owner.csrf },
          owner.cookie,
        )
      ).status,
      303,
    );
    assert.equal((await useLink(revoked, { name: 'R', password: 'revoked-password' })).status, 410);
  });

  it('refuses to demote the last owner, and a CSRF attempt', async () => {
    const demote = await postForm(
      service.baseUrl,
      '/dashboard/team/users/admin/role',
      { _csrf: owner.csrf, role: 'admin' },
      owner.cookie,
    );
    assert.equal(demote.status, 409);
    assert.match(await demote.text(), /last owner/);
    const forged = await postForm(
      service.baseUrl,
      '/dashboard/team/users/admin/role',
      { role: 'viewer' },
      owner.cookie,
    );
    assert.equal(forged.status, 403);
    const members = await (
      await fetch(`${service.baseUrl}/dashboard/team`, { headers: { cookie: owner.cookie } })
    ).text();
    assert.match(members, /data-user="admin" data-role="owner"/);
  });

  it("refuses a removed user's next request", async () => {
    const dev = await signIn(service.baseUrl, 'developer-password', 'dev@example.com');
    assert.equal(
      (
        await fetch(`${service.baseUrl}/dashboard/logs?project=other`, {
          headers: { cookie: dev.cookie },
          redirect: 'manual',
        })
      ).status,
      200,
    );
    const removed = await postForm(
      service.baseUrl,
      '/dashboard/team/users/DEV@example.com/remove',
      { _csrf: owner.csrf },
      owner.cookie,
    );
    assert.equal(removed.status, 303);
    const next = await fetch(`${service.baseUrl}/dashboard/logs?project=other`, {
      headers: { cookie: dev.cookie },
      redirect: 'manual',
    });
    assert.equal(next.status, 303);
    assert.match(next.headers.get('location') ?? '', /\/dashboard\/login/);
  });

  it('resets a password with a one-time link', async () => {
    const made = await postForm(
      service.baseUrl,
      '/dashboard/team/users/viewer@example.com/reset-link',
      { _csrf: owner.csrf },
      owner.cookie,
    );
    const link = local(linkIn(await made.text()));
    assert.ok(link.includes('/dashboard/reset?'));
    assert.equal((await useLink(link, { password: 'brand-new-password' })).status, 303);
    assert.equal((await useLink(link, { password: 'another-password-1' })).status, 410);
    assert.equal(
      (await signIn(service.baseUrl, 'brand-new-password', 'viewer@example.com')).response.status,
      303,
    );
  });

  it("shows the team's changes made in the dashboard on the audit page, by the member who made them", async () => {
    const changed = await postForm(
      service.baseUrl,
      '/dashboard/team/users/viewer@example.com/role',
      { _csrf: owner.csrf, role: 'developer' },
      owner.cookie,
    );
    assert.equal(changed.status, 303);
    const audit = await (
      await fetch(`${service.baseUrl}/dashboard/audit?actor=admin`, { headers: { cookie: owner.cookie } })
    ).text();
    // The rows (data-action), not the filter's list of every action.
    for (const action of ['user_invited', 'user_role_changed', 'user_removed', 'reset_link_created']) {
      assert.match(
        audit,
        new RegExp(`data-action="${action}" data-actor="admin"`),
        `a ${action} row by admin`,
      );
    }
    assert.match(audit, /viewer@example\.com/, 'with the member changed as the target');
    assert.doesNotMatch(audit, /token=/, 'never the one-time link');
  });
});
