import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { hashPassword, LOGIN_ACCOUNT_ATTEMPTS, LOGIN_WINDOW_MS } from '../../src/dashboard/auth.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD, postForm } from './support.js';

const OPS_PASSWORD = 'ops-password-long-enough';

/**
 * Issue 25 part 2 through the dashboard's real HTTP: the audit log (sign-ins with their address, key
 * creation, the page's filters and export), sessions (end one, all others, an admin ends another user's),
 * the per-account sign-in throttle, TOTP two-factor with recovery codes. The service trusts the proxy
 * (SNAPWIRE_TRUST_PROXY), so each request's address is the X-Forwarded-For the test sends.
 */
describe('dashboard audit log, sessions, per-account throttle and two-factor', () => {
  let service: TestService;
  // The service's clock: the throttle window and TOTP steps are moved, never waited for.
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

  /** Signs in from `address` (with a second factor when `code` is given); the whole answer. */
  const signInFrom = async (
    address: string,
    options: { username?: string; password?: string; code?: string; userAgent?: string } = {},
  ) => {
    const headers = { 'x-forwarded-for': address, 'user-agent': options.userAgent ?? 'test-browser/1' };
    const form = await fetch(`${service.baseUrl}/dashboard/login`, { headers });
    const loginCookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const token = /name="_login" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    let response = await fetch(`${service.baseUrl}/dashboard/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
      body: new URLSearchParams({
        _login: token,
        username: options.username ?? 'admin',
        password: options.password ?? ADMIN_PASSWORD,
        next: '/dashboard',
      }).toString(),
    });
    let codeForm: string | undefined;
    if (options.code !== undefined && response.status === 200) {
      codeForm = await response.text();
      const challenge = (
        response.headers.getSetCookie().find((c) => c.startsWith('snapwire_challenge=')) ?? ''
      ).split(';')[0];
      response = await fetch(`${service.baseUrl}/dashboard/login/code`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `${loginCookie}; ${challenge}`,
        },
        body: new URLSearchParams({ _login: token, code: options.code, next: '/dashboard' }).toString(),
      });
    }
    const cookie =
      (response.headers.getSetCookie().find((c) => c.startsWith('snapwire_session=')) ?? '').split(';')[0] ??
      '';
    let csrf = '';
    if (response.status === 303 && cookie) {
      const page = await fetch(`${service.baseUrl}/dashboard/sessions`, { headers: { cookie } });
      csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    }
    return { response, cookie, csrf, codeForm };
  };
  /** A form POST from `address` (as the proxy would say). */
  const postFrom = (address: string, path: string, fields: Record<string, string>, cookie: string) =>
    fetch(`${service.baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': address,
        cookie,
      },
      body: new URLSearchParams(fields).toString(),
    });
  const page = async (path: string, cookie: string) => {
    const response = await fetch(`${service.baseUrl}${path}`, { headers: { cookie }, redirect: 'manual' });
    return { status: response.status, text: await response.text(), response };
  };
  const auditRows = (filter: Parameters<TestService['snapwire']['services']['audit']['list']>[0] = {}) =>
    service.snapwire.services.audit.list(filter, 1000);

  before(async () => {
    service = await startService(
      { SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD, SNAPWIRE_TRUST_PROXY: 'true' },
      {},
      { browsers: false, clock },
    );
    // A second dashboard user, as the accounts work will make them (the admin ends their sessions).
    await service.snapwire.store.db
      .insertInto('dashboard_users')
      .values({ username: 'ops', password_hash: await hashPassword(OPS_PASSWORD), created_at: clock.now() })
      .execute();
  });
  after(async () => service?.close());

  it('audits a failed then a successful sign-in, each with its address', async () => {
    const failed = await signInFrom('127.0.0.41', { password: 'wrong-password-here' });
    assert.equal(failed.response.status, 401);
    const ok = await signInFrom('127.0.0.42');
    assert.equal(ok.response.status, 303);
    const rows = await auditRows({ actor: 'admin' });
    const failure = rows.find((row) => row.action === 'sign_in_failed');
    const success = rows.find((row) => row.action === 'sign_in');
    assert.equal(failure?.sourceAddress, '127.0.0.41');
    assert.deepEqual(failure?.detail, { reason: 'wrong user or password' });
    assert.equal(success?.sourceAddress, '127.0.0.42');
    assert.ok((success?.createdAt ?? 0) >= (failure?.createdAt ?? Infinity), 'in the order they happened');
  });

  it('audits key creation and rotation with the project, and the page filters and exports them', async () => {
    const { cookie, csrf } = await signInFrom('127.0.0.43');
    const created = await postFrom(
      '127.0.0.43',
      '/dashboard/projects',
      { name: 'acme', plan: 'PRO', _csrf: csrf },
      cookie,
    );
    assert.equal(created.status, 200);
    const rotated = await postFrom(
      '127.0.0.43',
      '/dashboard/projects/acme/rotate-key',
      { env: 'TEST', _csrf: csrf },
      cookie,
    );
    assert.equal(rotated.status, 200);
    const acme = await service.snapwire.services.projects.findByName('acme');
    const rows = await auditRows({ projectId: acme?.id });
    assert.deepEqual(
      rows.map((row) => [row.action, row.actor, row.sourceAddress, row.target]),
      [
        ['key_rotated', 'admin', '127.0.0.43', 'acme/TEST'],
        ['project_created', 'admin', '127.0.0.43', 'acme'],
      ],
    );
    assert.deepEqual(rows[1]?.detail, { plan: 'PRO', keys: ['LIVE', 'TEST'] });

    // The page: by action, by project, by actor, by time range.
    const byAction = await page('/dashboard/audit?action=sign_in_failed', cookie);
    assert.equal(byAction.status, 200);
    const actions = (text: string) => [...text.matchAll(/data-action="([a-z_]+)"/g)].map((m) => m[1]);
    assert.deepEqual(actions(byAction.text), ['sign_in_failed']);
    assert.match(byAction.text, /127\.0\.0\.41/);
    assert.deepEqual(actions((await page('/dashboard/audit?project=acme', cookie)).text), [
      'key_rotated',
      'project_created',
    ]);
    assert.ok(actions((await page('/dashboard/audit?actor=ops', cookie)).text).length === 0);
    const future = new Date(clock.now() + 3_600_000).toISOString().slice(0, 16);
    assert.deepEqual(actions((await page(`/dashboard/audit?from=${future}`, cookie)).text), []);
    const past = new Date(clock.now() - 3_600_000).toISOString().slice(0, 16);
    assert.ok(
      actions((await page(`/dashboard/audit?from=${past}&to=${future}`, cookie)).text).includes(
        'project_created',
      ),
    );

    const csv = await page('/dashboard/audit/export?format=csv&project=acme', cookie);
    assert.equal(csv.status, 200);
    assert.match(csv.response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(
      csv.response.headers.get('content-disposition') ?? '',
      /attachment; filename="snapwire-audit\.csv"/,
    );
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'id,time,actor,action,project,target,source_address,detail');
    assert.equal(lines.length, 3, 'a header and the two rows of acme');
    assert.match(lines[1] ?? '', /,admin,key_rotated,acme,acme\/TEST,127\.0\.0\.43,$/);
    assert.match(
      lines[2] ?? '',
      /,admin,project_created,acme,acme,127\.0\.0\.43,"\{""plan"":""PRO"",""keys"":\[""LIVE"",""TEST""\]\}"$/,
    );
    const json = await page('/dashboard/audit/export?format=json&action=sign_in', cookie);
    const exported = JSON.parse(json.text) as Array<{ action: string; source_address: string }>;
    assert.ok(exported.length >= 2 && exported.every((row) => row.action === 'sign_in'));
    assert.ok(exported.some((row) => row.source_address === '127.0.0.42'));
  });

  it('audits a change made with an API key as the key, with the project and address', async () => {
    const response = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.44' },
      body: JSON.stringify({ name: 'audited-hook', url: 'http://127.0.0.1:9/hook' }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const { webhook_uuid: uuid } = (await response.json()) as { webhook_uuid: string };
    const rows = await auditRows({ action: 'webhook_created' });
    const project = await service.snapwire.services.projects.findByName('default');
    assert.deepEqual(
      rows.map((row) => [row.actor, row.projectId, row.target, row.sourceAddress, row.detail]),
      [['key:default/LIVE', project?.id, uuid, '127.0.0.44', { name: 'audited-hook' }]],
    );
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(LIVE_KEY), 'the key itself is never written');
  });

  it('lists your sessions and ends one (its next request is refused), all others, or an admin ends a user’s', async () => {
    const mine = await signInFrom('127.0.0.51', { userAgent: 'laptop-browser/2' });
    const phone = await signInFrom('127.0.0.52', { userAgent: 'phone-browser/3' });
    const list = await page('/dashboard/sessions', mine.cookie);
    assert.match(list.text, /laptop-browser\/2/);
    assert.match(list.text, /phone-browser\/3/);
    assert.match(list.text, /127\.0\.0\.52/);
    const phoneHandle =
      /<tr[^>]*data-current="no"[\s\S]*?phone-browser\/3[\s\S]*?name="handle" value="([0-9a-f]{64})"/.exec(
        list.text,
      )?.[1];
    assert.ok(phoneHandle, 'the phone session has an End button');

    const withoutToken = await postForm(
      service.baseUrl,
      '/dashboard/sessions/revoke',
      { handle: phoneHandle },
      mine.cookie,
    );
    assert.equal(withoutToken.status, 403, 'CSRF: refused without the token');
    assert.equal((await page('/dashboard', phone.cookie)).status, 200, 'the phone still signed in');

    const ended = await postFrom(
      '127.0.0.51',
      '/dashboard/sessions/revoke',
      { handle: phoneHandle, _csrf: mine.csrf },
      mine.cookie,
    );
    assert.equal(ended.status, 303);
    const refused = await page('/dashboard', phone.cookie);
    assert.equal(refused.status, 303, 'the ended session is refused');
    assert.match(refused.response.headers.get('location') ?? '', /^\/dashboard\/login/);
    assert.equal((await page('/dashboard', mine.cookie)).status, 200, 'this session goes on');

    const other = await signInFrom('127.0.0.53');
    const others = await postFrom(
      '127.0.0.51',
      '/dashboard/sessions/revoke-others',
      { _csrf: mine.csrf },
      mine.cookie,
    );
    assert.equal(others.status, 303);
    assert.equal((await page('/dashboard', other.cookie)).status, 303, 'every other session ended');
    assert.equal((await page('/dashboard', mine.cookie)).status, 200);

    // Another user sees only their own sessions; the admin ends theirs.
    const ops = await signInFrom('127.0.0.54', { username: 'ops', password: OPS_PASSWORD });
    assert.equal(ops.response.status, 303);
    assert.equal((await page('/dashboard/sessions?user=admin', ops.cookie)).status, 403);
    const opsEnds = await postForm(
      service.baseUrl,
      '/dashboard/sessions/revoke-user',
      { user: 'admin', _csrf: ops.csrf },
      ops.cookie,
    );
    assert.equal(opsEnds.status, 403, 'only the admin ends other users’ sessions');
    assert.equal((await page('/dashboard', mine.cookie)).status, 200);
    const seen = await page('/dashboard/sessions?user=ops', mine.cookie);
    assert.match(seen.text, /127\.0\.0\.54/);
    const adminEnds = await postFrom(
      '127.0.0.51',
      '/dashboard/sessions/revoke-user',
      { user: 'ops', _csrf: mine.csrf },
      mine.cookie,
    );
    assert.equal(adminEnds.status, 303);
    assert.equal((await page('/dashboard', ops.cookie)).status, 303, 'the admin ended the ops session');

    const revocations = await auditRows({ action: 'session_revoked' });
    assert.deepEqual(
      revocations.map((row) => [row.actor, row.target, row.sourceAddress]),
      [
        ['admin', 'ops', '127.0.0.51'],
        ['admin', 'admin', '127.0.0.51'],
        ['admin', 'admin', '127.0.0.51'],
      ],
    );
    assert.equal(revocations[0]?.detail?.sessions, 1, 'the one ops session');
    assert.deepEqual(revocations[2]?.detail, { sessions: 1, own: false }, 'the phone');
    // All others: the one made in this test and those of the tests before (none is this session).
    assert.ok(Number(revocations[1]?.detail?.sessions) >= 1);
  });

  it('two-factor: set up with a code from the secret, sign in with a code, a recovery code works once', async () => {
    const { cookie, csrf } = await signInFrom('127.0.0.61');
    assert.equal(
      (await postForm(service.baseUrl, '/dashboard/two-factor/enrol', {}, cookie)).status,
      403,
      'CSRF',
    );
    assert.equal(
      (await postForm(service.baseUrl, '/dashboard/two-factor/enrol', { _csrf: csrf }, cookie)).status,
      303,
    );
    const setup = await page('/dashboard/two-factor', cookie);
    const secret = /<code id="secret">([A-Z2-7]+)<\/code>/.exec(setup.text)?.[1] ?? '';
    const uri = /id="otpauth-uri" href="([^"]+)"/.exec(setup.text)?.[1] ?? '';
    assert.match(uri, /^otpauth:\/\/totp\/Snapwire:admin\?/);
    assert.ok(uri.includes(`secret=${secret}`), 'the URI carries the same secret');
    const app = new TOTP({ secret: Secret.fromBase32(secret) });
    const codeNow = () => app.generate({ timestamp: clock.now() });

    const wrong = await postForm(
      service.baseUrl,
      '/dashboard/two-factor/confirm',
      { code: '12345x', _csrf: csrf },
      cookie,
    );
    assert.equal(wrong.status, 400);
    const confirmed = await postForm(
      service.baseUrl,
      '/dashboard/two-factor/confirm',
      { code: codeNow(), _csrf: csrf },
      cookie,
    );
    assert.equal(confirmed.status, 200);
    const codes = [...(await confirmed.text()).matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map(
      (m) => m[1] ?? '',
    );
    assert.equal(codes.length, 10);

    // The password alone no longer signs in: a code form follows.
    const passwordOnly = await signInFrom('127.0.0.62');
    assert.equal(passwordOnly.response.status, 200);
    assert.equal(passwordOnly.cookie, '', 'no session yet');
    assert.match(await passwordOnly.response.text(), /Two-factor code/);

    clock.offsetMs += 30_000; // a new step: the code used to confirm is never accepted again
    const withCode = await signInFrom('127.0.0.63', { code: codeNow() });
    assert.equal(withCode.response.status, 303);
    assert.ok(withCode.cookie);
    const badCode = await signInFrom('127.0.0.64', { code: '000000' === codeNow() ? '111111' : '000000' });
    assert.equal(badCode.response.status, 401);
    assert.equal(badCode.cookie, '');

    const recovery = codes[0] ?? '';
    const withRecovery = await signInFrom('127.0.0.65', { code: recovery });
    assert.equal(withRecovery.response.status, 303, 'a recovery code signs in');
    const again = await signInFrom('127.0.0.66', { code: recovery });
    assert.equal(again.response.status, 401, 'but only once');

    const signIns = await auditRows({ action: 'sign_in' });
    assert.deepEqual(signIns[0]?.detail, { second_factor: 'recovery_code' });
    assert.equal(signIns[0]?.sourceAddress, '127.0.0.65');
    assert.deepEqual(signIns[1]?.detail, { second_factor: 'totp' });
    const used = await auditRows({ action: 'recovery_code_used' });
    assert.deepEqual(
      used.map((row) => [row.sourceAddress, row.detail?.remaining]),
      [['127.0.0.65', 9]],
    );
    const failures = await auditRows({ action: 'sign_in_failed' });
    assert.deepEqual(failures[0]?.detail, { reason: 'wrong two-factor code' });
    assert.equal(failures[0]?.sourceAddress, '127.0.0.66');

    // Turning it off takes the password; then the password alone signs in again.
    const off = await postForm(
      service.baseUrl,
      '/dashboard/two-factor/disable',
      { password: ADMIN_PASSWORD, _csrf: withCode.csrf },
      withCode.cookie,
    );
    assert.equal(off.status, 303);
    assert.equal((await signInFrom('127.0.0.67')).response.status, 303);
    assert.deepEqual(
      (await auditRows({})).filter((r) => r.action.startsWith('two_factor')).map((r) => r.action),
      ['two_factor_disabled', 'two_factor_enabled'],
    );
  });

  it('throttles sign-in per account across addresses, until the window ends', async () => {
    for (let i = 0; i < LOGIN_ACCOUNT_ATTEMPTS; i += 1) {
      const attempt = await signInFrom(`127.0.7.${i + 1}`, {
        username: 'ops',
        password: 'wrong-password-here',
      });
      assert.equal(attempt.response.status, 401, `attempt ${i + 1} is only wrong`);
    }
    const blocked = await signInFrom('127.0.8.1', { username: 'ops', password: OPS_PASSWORD });
    assert.equal(blocked.response.status, 429, 'the right password from a fresh address waits too');
    assert.ok(Number(blocked.response.headers.get('retry-after')) > 0);
    assert.equal((await signInFrom('127.0.8.2')).response.status, 303, 'another account is not held up');
    clock.offsetMs += LOGIN_WINDOW_MS + 1000;
    assert.equal(
      (await signInFrom('127.0.8.3', { username: 'ops', password: OPS_PASSWORD })).response.status,
      303,
    );
  });
});
