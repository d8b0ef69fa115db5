import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { provideSessionCheck } from '../http/auth.js';
import { randomToken, safeEqual, safeNext, type DashboardAuth, type Session } from './auth.js';
import { html, layout } from './html.js';

export const SESSION_COOKIE = 'snapwire_session';
const LOGIN_COOKIE = 'snapwire_login';

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
  const { auth } = options;
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

  const loginPage = (reply: FastifyReply, next: string, error?: string) => {
    // Sign-in CSRF: a random token in a cookie that the form must echo (double submit), so another site
    // cannot sign a browser into this dashboard.
    const token = randomToken();
    return reply
      .code(error ? 401 : 200)
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
          </div>`,
        ),
      );
  };

  // The sign-in page and form are for those without a session; sign-out is a session route (CSRF token).
  const open = { config: { auth: 'none' } } as const;
  app.get('/login', open, async (request, reply) => loginPage(reply, safeNext((request.query as Form).next)));

  app.post('/login', open, async (request, reply) => {
    const body = formOf(request);
    const expected = cookiesOf(request)[LOGIN_COOKIE];
    if (!expected || !body._login || !safeEqual(expected, body._login)) {
      return refused(
        reply,
        403,
        'Refused',
        html`<h1>Refused</h1>
          <p>The sign-in form expired; <a href="/dashboard/login">reload it</a>.</p>`,
      );
    }
    // Guessing is slowed per client address: every attempt is counted (atomically, in the store, so
    // parallel bursts and the nodes of a fleet share one count) before the password is checked.
    const wait = await auth.reserveAttempt(request.ip);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      return refused(
        reply,
        429,
        'Too many attempts',
        html`<h1>Too many attempts</h1>
          <p>Wait a few minutes and try again.</p>`,
      );
    }
    const signedIn = await auth.signIn(body.username ?? '', body.password ?? '');
    if (!signedIn) return loginPage(reply, safeNext(body.next), 'Wrong user or password.');
    await auth.clearAttempts(request.ip);
    return reply
      .code(303)
      .header('set-cookie', [
        cookie(SESSION_COOKIE, signedIn.id, Math.floor(options.sessionTtlMs / 1000)),
        cookie(LOGIN_COOKIE, '', 0),
      ])
      .header('location', safeNext(body.next))
      .send();
  });

  app.post('/logout', async (request, reply) => {
    await auth.signOut(cookiesOf(request)[SESSION_COOKIE]);
    return reply
      .code(303)
      .header('set-cookie', cookie(SESSION_COOKIE, '', 0))
      .header('location', '/dashboard/login')
      .send();
  });

  return (request) => sessions.get(request);
}
