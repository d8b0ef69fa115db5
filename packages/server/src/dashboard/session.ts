import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import { provideSessionCheck } from '../http/auth.js';
import {
  accountThrottleKey,
  randomToken,
  safeEqual,
  safeNext,
  type DashboardAuth,
  type Session,
} from './auth.js';
import { html, layout } from './html.js';
import { CHALLENGE_TTL_MS, type TwoFactor } from './two-factor.js';
import {
  decodePending,
  encodePending,
  SingleSignOnError,
  type SingleSignOn,
} from '../team/single-sign-on.js';
import type { TeamStore } from '../team/team-store.js';

export const SESSION_COOKIE = 'snapwire_session';
const LOGIN_COOKIE = 'snapwire_login';
/** A right password waiting for its second factor (dashboard/two-factor.ts). */
const CHALLENGE_COOKIE = 'snapwire_challenge';
/** A single sign-on under way: its state, nonce and PKCE verifier, for the provider's answer. */
const SSO_COOKIE = 'snapwire_sso';
const SSO_TTL_SECONDS = 600;

export type Form = Record<string, string | undefined>;

export function cookiesOf(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) out[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
  }
  return out;
}

export function formOf(request: FastifyRequest): Form {
  return (request.body && typeof request.body === 'object' ? request.body : {}) as Form;
}

// safeNext (only a path inside the dashboard, no CR/LF) lives in auth.ts beside the sign-in throttle.
export { safeNext };

export interface SessionOptions {
  auth: DashboardAuth;
  twoFactor: TwoFactor;
  audit: AuditLog;
  team: TeamStore;
  /** OpenID Connect sign-in, when SNAPWIRE_OIDC_* are set. */
  sso: SingleSignOn | undefined;
  secureCookies: boolean;
  sessionTtlMs: number;
  now: () => number;
}

/**
 * Sessions of the dashboard: the sign-in and sign-out routes, the session check the auth gate runs for
 * every `session` route (http/auth.ts), and the hook that asks their POSTs for that session's CSRF token.
 * Returns how a handler finds its session.
 */
export function installSessions(
  app: FastifyInstance,
  options: SessionOptions,
): (request: FastifyRequest) => Session | undefined {
  const { auth, twoFactor, audit, sso } = options;
  const clientOf = (request: FastifyRequest) => ({
    address: request.ip,
    userAgent: request.headers['user-agent'],
  });
  const sessions = new WeakMap<FastifyRequest, Session>();
  const cookie = (name: string, value: string, maxAgeSeconds: number) =>
    `${name}=${encodeURIComponent(value)}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${options.secureCookies ? '; Secure' : ''}`;
  const refused = (reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>) =>
    reply.code(status).type('text/html; charset=utf-8').send(layout({ title }, body));

  provideSessionCheck(app, async (request, reply) => {
    const session = await auth.session(cookiesOf(request)[SESSION_COOKIE]);
    if (!session) {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      void reply.code(303).header('location', `/dashboard/login${next}`).send();
      return false;
    }
    sessions.set(request, session);
    return true;
  });

  // After the form is parsed: a POST of a session route carries that session's CSRF token.
  app.addHook('preHandler', async (request, reply) => {
    const session = sessions.get(request);
    if (request.routeOptions.config.auth !== 'session' || !session) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = formOf(request)._csrf ?? (request.headers['x-csrf-token'] as string | undefined);
      if (!token || !safeEqual(token, session.csrfToken)) {
        return refused(
          reply,
          403,
          'Refused',
          html`<h1>Refused</h1>
            <p>The form's CSRF token is missing or stale. Go back, reload the page and try again.</p>`,
        );
      }
    }
  });

  const SSO_NOT_CONFIGURED = 'Single sign-on is not configured here: sign in with a password.';
  const loginPage = (reply: FastifyReply, next: string, error?: string, status = error ? 401 : 200) => {
    // Sign-in CSRF: a random token in a cookie that the form must echo (double submit), so another site
    // cannot sign a browser into this dashboard.
    const token = randomToken();
    return reply
      .code(status)
      .header('set-cookie', cookie(LOGIN_COOKIE, token, 3600))
      .type('text/html; charset=utf-8')
      .send(
        layout(
          { title: 'Sign in' },
          html`<div class="login card">
            <h1>Sign in</h1>
            ${error ? html`<p class="bad" role="alert">${error}</p>` : ''}
            <form method="post" action="/dashboard/login">
              <input type="hidden" name="_login" value="${token}" /><input
                type="hidden"
                name="next"
                value="${next}"
              />
              <label>User or email<input name="username" value="admin" autocomplete="username" /></label>
              <label
                >Password<input name="password" type="password" autocomplete="current-password" autofocus
              /></label>
              <button type="submit">Sign in</button>
            </form>
            ${
              sso
                ? html`<p class="sso">
                    <a class="button" href="/dashboard/sso?next=${encodeURIComponent(next)}"
                      >Sign in with SSO</a
                    >
                  </p>`
                : ''
            }
          </div>`,
        ),
      );
  };

  const codePage = (reply: FastifyReply, token: string, next: string, error?: string) =>
    reply
      .code(error ? 401 : 200)
      .type('text/html; charset=utf-8')
      .send(
        layout(
          { title: 'Two-factor code' },
          html`<div class="login card">
            <h1>Two-factor code</h1>
            ${error ? html`<p class="bad" role="alert">${error}</p>` : ''}
            <p>Type the 6-digit code of your authenticator app, or one of your recovery codes.</p>
            <form method="post" action="/dashboard/login/code">
              <input type="hidden" name="_login" value="${token}" /><input
                type="hidden"
                name="next"
                value="${next}"
              />
              <label
                >Code<input name="code" autocomplete="one-time-code" inputmode="text" autofocus required
              /></label>
              <button type="submit">Sign in</button>
            </form>
          </div>`,
        ),
      );

  const tooMany = (reply: FastifyReply, wait: number) => {
    reply.header('retry-after', String(wait));
    return refused(
      reply,
      429,
      'Too many attempts',
      html`<h1>Too many attempts</h1>
        <p>Wait a few minutes and try again.</p>`,
    );
  };
  const expiredForm = (reply: FastifyReply) =>
    refused(
      reply,
      403,
      'Refused',
      html`<h1>Refused</h1>
        <p>The sign-in form expired; <a href="/dashboard/login">reload it</a>.</p>`,
    );
  const signedInReply = (reply: FastifyReply, id: string, next: string) =>
    reply
      .code(303)
      .header('set-cookie', [
        cookie(SESSION_COOKIE, id, Math.floor(options.sessionTtlMs / 1000)),
        cookie(LOGIN_COOKIE, '', 0),
        cookie(CHALLENGE_COOKIE, '', 0),
      ])
      .header('location', next)
      .send();

  // The sign-in page and form are for those without a session; sign-out is a session route (CSRF token).
  const open = { config: { auth: 'none' } } as const;
  app.get('/login', open, async (request, reply) => loginPage(reply, safeNext((request.query as Form).next)));

  app.post('/login', open, async (request, reply) => {
    const body = formOf(request);
    const expected = cookiesOf(request)[LOGIN_COOKIE];
    if (!expected || !body._login || !safeEqual(expected, body._login)) return expiredForm(reply);
    const username = body.username ?? '';
    // Guessing is slowed per client address and per account: every attempt is counted (atomically, in
    // the store, so parallel bursts and the nodes of a fleet share the counts) before the password is
    // checked. Refusals by the throttle are not audited: a flood would flood the log.
    const wait = await auth.reserveSignIn(request.ip, username);
    if (wait !== undefined) return tooMany(reply, wait);
    const user = await auth.checkPassword(username, body.password ?? '');
    if (user === undefined) {
      await audit.record({
        actor: username,
        action: 'sign_in_failed',
        sourceAddress: request.ip,
        detail: { reason: 'wrong user or password' },
      });
      return loginPage(reply, safeNext(body.next), 'Wrong user or password.');
    }
    if (await twoFactor.enabled(user)) {
      // The password was right: the same sign-in form token carries on to the code form.
      const challenge = await twoFactor.openChallenge(user);
      reply.header('set-cookie', cookie(CHALLENGE_COOKIE, challenge, Math.floor(CHALLENGE_TTL_MS / 1000)));
      return codePage(reply, body._login, safeNext(body.next));
    }
    const signedIn = await auth.startSession(user, clientOf(request));
    await auth.clearAttempts(request.ip);
    await auth.clearAttempts(accountThrottleKey(username));
    await audit.record({ actor: user, action: 'sign_in', sourceAddress: request.ip });
    return signedInReply(reply, signedIn.id, safeNext(body.next));
  });

  app.post('/login/code', open, async (request, reply) => {
    const body = formOf(request);
    const cookies = cookiesOf(request);
    const expected = cookies[LOGIN_COOKIE];
    if (!expected || !body._login || !safeEqual(expected, body._login)) return expiredForm(reply);
    const challenge = cookies[CHALLENGE_COOKIE];
    const username = await twoFactor.challengeUser(challenge);
    if (!challenge || !username) return loginPage(reply, safeNext(body.next), 'Sign in again.');
    const wait = await auth.reserveSignIn(request.ip, username);
    if (wait !== undefined) return tooMany(reply, wait);
    const factor = await twoFactor.verify(username, body.code ?? '');
    if (!factor) {
      await audit.record({
        actor: username,
        action: 'sign_in_failed',
        sourceAddress: request.ip,
        detail: { reason: 'wrong two-factor code' },
      });
      return codePage(reply, body._login, safeNext(body.next), 'Wrong code.');
    }
    await twoFactor.closeChallenge(challenge);
    const signedIn = await auth.startSession(username, clientOf(request));
    await auth.clearAttempts(request.ip);
    await auth.clearAttempts(accountThrottleKey(username));
    if (factor === 'recovery_code') {
      await audit.record({
        actor: username,
        action: 'recovery_code_used',
        sourceAddress: request.ip,
        detail: { remaining: await twoFactor.remainingRecoveryCodes(username) },
      });
    }
    await audit.record({
      actor: username,
      action: 'sign_in',
      sourceAddress: request.ip,
      detail: { second_factor: factor },
    });
    return signedInReply(reply, signedIn.id, safeNext(body.next));
  });

  // Single sign-on (team/single-sign-on.ts): to the provider, and its answer back. Refusals are audited
  // with the reason, and shown on the sign-in page.
  const ssoRefused = async (request: FastifyRequest, reply: FastifyReply, error: unknown, next: string) => {
    if (!(error instanceof SingleSignOnError)) throw error;
    await audit.record({
      actor: error.email?.toLowerCase() ?? 'sso',
      action: 'sign_in_failed',
      sourceAddress: request.ip,
      detail: { method: 'sso', reason: error.reason },
    });
    return loginPage(reply, next, error.message);
  };
  app.get('/sso', open, async (request, reply) => {
    const next = safeNext((request.query as Form).next);
    if (!sso)
      // Not a failed sign-in: the page is not there (404), with the password form beside the reason.
      return loginPage(reply, next, SSO_NOT_CONFIGURED, 404);
    try {
      const { url, pending } = await sso.start(next);
      return reply
        .code(303)
        .header('set-cookie', cookie(SSO_COOKIE, encodePending(pending), SSO_TTL_SECONDS))
        .header('location', url)
        .send();
    } catch (error) {
      return ssoRefused(request, reply, error, next);
    }
  });

  app.get('/sso/callback', open, async (request, reply) => {
    const pending = decodePending(cookiesOf(request)[SSO_COOKIE]);
    const next = pending?.next ?? '/dashboard';
    // The pending sign-in is used once, whatever the answer.
    reply.header('set-cookie', cookie(SSO_COOKIE, '', 0));
    if (!sso) return loginPage(reply, next, SSO_NOT_CONFIGURED, 404);
    try {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const identity = await sso.finish(query, pending);
      const user = await options.team.userForSingleSignOn(
        identity.email,
        identity.name,
        sso.settings.newUsers,
      );
      if (!user) {
        throw new SingleSignOnError(
          `No Snapwire user has the email ${identity.email}: ask an owner or admin to invite you.`,
          'unknown user',
          identity.email,
        );
      }
      if (user.created) {
        await audit.record({
          actor: user.username,
          action: 'user_created',
          target: user.username,
          sourceAddress: request.ip,
          detail: { method: 'sso', role: sso.settings.newUsers },
        });
      }
      if (await twoFactor.enabled(user.username)) {
        // The provider vouched for the email; this dashboard's second factor is still asked for.
        const token = randomToken();
        const challenge = await twoFactor.openChallenge(user.username);
        reply.header('set-cookie', [
          cookie(LOGIN_COOKIE, token, 3600),
          cookie(CHALLENGE_COOKIE, challenge, Math.floor(CHALLENGE_TTL_MS / 1000)),
        ]);
        return codePage(reply, token, next);
      }
      const signedIn = await auth.startSession(user.username, clientOf(request));
      await audit.record({
        actor: user.username,
        action: 'sign_in',
        sourceAddress: request.ip,
        detail: { method: 'sso' },
      });
      return signedInReply(reply, signedIn.id, next);
    } catch (error) {
      return ssoRefused(request, reply, error, next);
    }
  });

  app.post('/logout', async (request, reply) => {
    const session = sessions.get(request);
    await auth.signOut(cookiesOf(request)[SESSION_COOKIE]);
    if (session)
      await audit.record({ actor: session.username, action: 'sign_out', sourceAddress: request.ip });
    return reply
      .code(303)
      .header('set-cookie', cookie(SESSION_COOKIE, '', 0))
      .header('location', '/dashboard/login')
      .send();
  });

  return (request) => sessions.get(request);
}
