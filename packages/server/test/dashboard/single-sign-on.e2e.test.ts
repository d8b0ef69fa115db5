import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/dashboard/auth.js';
import { startOpenIdProvider, type TestProvider } from '../helpers/openid-provider.js';
import { startService, type TestService } from '../helpers/service.js';

// The services run with PORT=0 and no SNAPWIRE_PUBLIC_URL, so this is the redirect URI they announce.
const REDIRECT_URI = 'http://localhost:0/dashboard/sso/callback';

/**
 * Issue 25 item 6: OpenID Connect single sign-on against a real OpenID provider (`oidc-provider`) on
 * loopback, through the dashboard's real HTTP: the authorization-code flow with PKCE, state and nonce;
 * users matched by verified email without case; new users made with the configured role, or refused; a
 * forged, replayed or misdirected answer refused with a message that says why, and each audited.
 */
describe('dashboard single sign-on (OpenID Connect)', () => {
  let provider: TestProvider;
  /** New users become viewers; its allowed networks leave loopback out (the operator-endpoint rule opens it). */
  let creating: TestService;
  /** New users refused (the default). */
  let refusing: TestService;

  const oidcEnv = (extra: Record<string, string>) => ({
    SNAPWIRE_OIDC_ISSUER: provider.issuer,
    SNAPWIRE_OIDC_CLIENT_ID: provider.clientId,
    SNAPWIRE_OIDC_CLIENT_SECRET: provider.clientSecret,
    SNAPWIRE_TRUST_PROXY: 'true',
    ...extra,
  });

  before(async () => {
    provider = await startOpenIdProvider(REDIRECT_URI);
    provider.accounts = {
      dev: { email: 'dev@example.com', email_verified: true, name: 'Dev' },
      devShouting: { email: 'DEV@Example.COM', email_verified: true, name: 'Dev' },
      newcomer: { email: 'newcomer@example.com', email_verified: true, name: 'New Comer' },
      unverified: { email: 'dev@example.com', email_verified: false },
      stranger: { email: 'stranger@example.com', email_verified: true },
    };
    creating = await startService(
      oidcEnv({ SNAPWIRE_OIDC_NEW_USERS: 'viewer', SNAPWIRE_ALLOWED_NETWORKS: '10.99.0.0/16' }),
      {},
      { browsers: false },
    );
    refusing = await startService(oidcEnv({}), {}, { browsers: false });
    for (const service of [creating, refusing]) {
      await service.snapwire.store.db
        .insertInto('dashboard_users')
        .values({
          username: 'dev@example.com',
          email: 'dev@example.com',
          name: 'Dev',
          role: 'developer',
          password_hash: await hashPassword('a-password-nobody-uses'),
          created_at: Date.now(),
        })
        .execute();
    }
  });
  after(async () => {
    await creating?.close();
    await refusing?.close();
    await provider?.close();
  });

  /**
   * A browser's single sign-on: the dashboard's redirect to the provider, the provider's own redirects
   * (its cookies kept), then the provider's answer back to the dashboard's callback.
   */
  const signOn = async (
    service: TestService,
    account: string,
    options: { address?: string; alterRequest?: (url: URL) => void; alterAnswer?: (url: URL) => void } = {},
  ) => {
    provider.nextAccount = account;
    const address = options.address ?? '127.0.0.77';
    const start = await fetch(`${service.baseUrl}/dashboard/sso?next=/dashboard/sessions`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': address },
    });
    assert.equal(start.status, 303, 'the dashboard sends the browser to the provider');
    const ssoCookie =
      start.headers
        .getSetCookie()
        .find((c) => c.startsWith('snapwire_sso='))
        ?.split(';')[0] ?? '';
    let location = new URL(start.headers.get('location') ?? '');
    assert.equal(location.origin, provider.issuer);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    options.alterRequest?.(location);
    const jar = new Map<string, string>();
    for (let hop = 0; hop < 10 && !location.href.startsWith(REDIRECT_URI); hop++) {
      const answer = await fetch(location, {
        redirect: 'manual',
        headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
      });
      for (const set of answer.headers.getSetCookie()) {
        const [pair = ''] = set.split(';');
        const index = pair.indexOf('=');
        jar.set(pair.slice(0, index), pair.slice(index + 1));
      }
      const next = answer.headers.get('location');
      assert.ok(next, `the provider redirects (HTTP ${answer.status}: ${await answer.text()})`);
      location = new URL(next, location);
    }
    const callback = new URL(`${service.baseUrl}/dashboard/sso/callback${location.search}`);
    options.alterAnswer?.(callback);
    const answer = await fetch(callback, {
      redirect: 'manual',
      headers: { cookie: ssoCookie, 'x-forwarded-for': address },
    });
    const session =
      answer.headers
        .getSetCookie()
        .find((c) => c.startsWith('snapwire_session=') && !c.startsWith('snapwire_session=;'))
        ?.split(';')[0] ?? '';
    return {
      status: answer.status,
      location: answer.headers.get('location'),
      text: alertOf(await answer.text()),
      session,
    };
  };

  /** The message the sign-in page shows (its alert), unescaped. */
  const alertOf = (page: string) =>
    (/<p class="bad" role="alert">([^<]*)<\/p>/.exec(page)?.[1] ?? page.slice(0, 200))
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');

  const lastFailure = async (service: TestService) =>
    (await service.snapwire.services.audit.list({ action: 'sign_in_failed' }, 1))[0];

  it('shows "Sign in with SSO" on the sign-in page', async () => {
    const page = await (await fetch(`${refusing.baseUrl}/dashboard/login`)).text();
    assert.match(page, /href="\/dashboard\/sso\?next=[^"]*"\s*>Sign in with SSO</);
  });

  it('signs an existing user in by their verified email, into a dashboard session, audited', async () => {
    const result = await signOn(refusing, 'dev', { address: '127.0.0.78' });
    assert.equal(result.status, 303, result.text);
    assert.equal(result.location, '/dashboard/sessions');
    const sessions = await fetch(`${refusing.baseUrl}/dashboard/sessions`, {
      headers: { cookie: result.session },
      redirect: 'manual',
    });
    assert.equal(sessions.status, 200, 'the session is the dashboard session');
    assert.match(await sessions.text(), /dev@example\.com/);
    const [row] = await refusing.snapwire.services.audit.list({ action: 'sign_in' }, 1);
    assert.equal(row?.actor, 'dev@example.com');
    assert.equal(row?.sourceAddress, '127.0.0.78');
    assert.deepEqual(row?.detail, { method: 'sso' });
  });

  it('matches an email that differs only in case to the same user (no second user)', async () => {
    const before = (
      await refusing.snapwire.store.db.selectFrom('dashboard_users').select('username').execute()
    ).length;
    const result = await signOn(refusing, 'devShouting');
    assert.equal(result.status, 303, result.text);
    const [row] = await refusing.snapwire.services.audit.list({ action: 'sign_in' }, 1);
    assert.equal(row?.actor, 'dev@example.com');
    const users = await refusing.snapwire.store.db.selectFrom('dashboard_users').select('username').execute();
    assert.equal(users.length, before);
  });

  it('refuses an unknown email when new users are refused (the default)', async () => {
    const result = await signOn(refusing, 'stranger');
    assert.equal(result.status, 401);
    assert.match(
      result.text,
      /No Snapwire user has the email stranger@example\.com: ask an owner or admin to invite you/,
    );
    assert.equal(result.session, '');
    const row = await lastFailure(refusing);
    assert.equal(row?.actor, 'stranger@example.com');
    assert.deepEqual(row?.detail, { method: 'sso', reason: 'unknown user' });
  });

  it('makes a new user with the configured role (reaching a loopback provider outside the allowed networks)', async () => {
    const result = await signOn(creating, 'newcomer');
    assert.equal(result.status, 303, result.text);
    const member = await creating.snapwire.store.db
      .selectFrom('dashboard_users')
      .select(['username', 'role', 'name'])
      .where('email', '=', 'newcomer@example.com')
      .executeTakeFirst();
    assert.deepEqual(member, { username: 'newcomer@example.com', role: 'viewer', name: 'New Comer' });
    const actions = (await creating.snapwire.services.audit.list({ actor: 'newcomer@example.com' }, 10)).map(
      (row) => row.action,
    );
    assert.deepEqual(actions, ['sign_in', 'user_created']);
  });

  it('refuses an unverified email', async () => {
    const result = await signOn(refusing, 'unverified');
    assert.equal(result.status, 401);
    assert.match(result.text, /does not say the email dev@example\.com is verified/);
    assert.deepEqual((await lastFailure(refusing))?.detail, { method: 'sso', reason: 'email not verified' });
  });

  it('refuses an ID token signed with a key the provider did not publish', async () => {
    provider.tamperIdToken = ({ header, claims }) => ({ header, claims, key: provider.strangerKey });
    const result = await signOn(refusing, 'dev');
    assert.equal(result.status, 401);
    assert.match(result.text, /signature does not verify with the sign-in provider's published keys/);
    assert.equal(result.session, '');
    assert.deepEqual((await lastFailure(refusing))?.detail, { method: 'sso', reason: 'bad signature' });
  });

  it('refuses an ID token whose nonce is not this sign-in’s', async () => {
    const result = await signOn(refusing, 'dev', {
      alterRequest: (url) => url.searchParams.set('nonce', 'a-nonce-of-another-sign-in'),
    });
    assert.equal(result.status, 401);
    assert.match(result.text, /nonce mismatch/);
    assert.deepEqual((await lastFailure(refusing))?.detail, { method: 'sso', reason: 'nonce mismatch' });
  });

  it('refuses an ID token issued for another client (audience)', async () => {
    provider.tamperIdToken = ({ header, claims }) => ({
      header,
      claims: { ...claims, aud: 'another-client' },
      key: provider.signingKey,
    });
    const result = await signOn(refusing, 'dev');
    assert.equal(result.status, 401);
    assert.match(result.text, /issued for another client/);
    assert.deepEqual((await lastFailure(refusing))?.detail, { method: 'sso', reason: 'wrong audience' });
  });

  it('refuses an answer whose state is not the one this browser started with', async () => {
    const result = await signOn(refusing, 'dev', {
      alterAnswer: (url) => url.searchParams.set('state', 'a-state-of-another-browser'),
    });
    assert.equal(result.status, 401);
    assert.match(result.text, /state mismatch/);
    assert.deepEqual((await lastFailure(refusing))?.detail, { method: 'sso', reason: 'state mismatch' });
  });

  it('refuses an answer with no sign-in started in this browser', async () => {
    const answer = await fetch(`${refusing.baseUrl}/dashboard/sso/callback?code=x&state=y`, {
      redirect: 'manual',
    });
    assert.equal(answer.status, 401);
    assert.match(alertOf(await answer.text()), /not started in this browser/);
  });

  it('reaches the provider only through the egress guard: a denied range is refused', async () => {
    const denied = await startService(
      oidcEnv({ SNAPWIRE_DENIED_NETWORKS: '127.0.0.0/8' }),
      {},
      { browsers: false },
    );
    try {
      const start = await fetch(`${denied.baseUrl}/dashboard/sso`, { redirect: 'manual' });
      assert.equal(start.status, 401);
      assert.match(alertOf(await start.text()), /refused by the egress guard/);
      assert.deepEqual((await lastFailure(denied))?.detail, { method: 'sso', reason: 'egress refused' });
    } finally {
      await denied.close();
    }
  });
});
