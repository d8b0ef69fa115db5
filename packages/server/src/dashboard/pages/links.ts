import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken, safeEqual } from '../auth.js';
import { TeamError } from '../../team/team-store.js';
import { inlineError, textField } from '../components.js';
import type { DashboardPage } from '../context.js';
import { html, layout } from '../html.js';
import { cookiesOf, formOf, SESSION_COOKIE, type Form } from '../session.js';

// The form of a link page echoes a random token kept in a cookie (double submit, as the sign-in form
// does), so another site cannot post it: it would sign the browser into an account of its choosing.
const LINK_COOKIE = 'snapwire_link';

/** The pages a one-time link opens: accept an invitation, reset a password. No session needed. */
const page: DashboardPage = {
  register(app, ctx) {
    const secure = ctx.settings.publicUrl.startsWith('https://');
    const cookie = (name: string, value: string, maxAgeSeconds: number) =>
      `${name}=${encodeURIComponent(value)}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
    const { auth } = ctx.accounts;
    const open = { config: { auth: 'none' } } as const;

    const send = (reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>) =>
      reply.code(status).type('text/html; charset=utf-8').send(layout({ title }, body));
    const gone = (reply: FastifyReply) =>
      send(
        reply,
        410,
        'Link not valid',
        html`<div class="login card">
          <h1>This link does not work</h1>
          <p>
            It was already used, revoked, or has expired. Ask an owner or admin of this Snapwire for a new
            one.
          </p>
        </div>`,
      );

    const form = async (
      reply: FastifyReply,
      kind: 'invite' | 'reset',
      token: string,
      shown: { error?: string; values?: Form; status?: number } = {},
    ) => {
      const link = await ctx.team.openLink(token, kind);
      if (!link) return gone(reply);
      const echo = randomToken();
      const action = kind === 'invite' ? '/dashboard/accept' : '/dashboard/reset';
      reply.header('set-cookie', cookie(LINK_COOKIE, echo, 3600));
      return send(
        reply,
        shown.status ?? 200,
        kind === 'invite' ? 'Accept invitation' : 'Reset password',
        html`<div class="login card">
          <h1>${kind === 'invite' ? 'Join Snapwire' : 'Choose a new password'}</h1>
          <p>${link.email}${link.role ? html` · role <b>${link.role}</b>` : ''}</p>
          ${inlineError(shown.error)}
          <form method="post" action="${action}">
            <input type="hidden" name="_link" value="${echo}" />
            <input type="hidden" name="token" value="${token}" />
            ${kind === 'invite' ? textField('Name', 'name', shown.values?.name, { required: true }) : ''}
            <label
              >Password (12+ characters)<input
                name="password"
                type="password"
                autocomplete="new-password"
                required
            /></label>
            <button type="submit">${kind === 'invite' ? 'Join' : 'Set password'}</button>
          </form>
        </div>`,
      );
    };

    const tokenOf = (request: FastifyRequest, body?: Form) => {
      const value = body ? body.token : (request.query as Record<string, unknown> | undefined)?.token;
      return typeof value === 'string' && value.length <= 200 ? value : '';
    };
    const echoed = (request: FastifyRequest, body: Form) => {
      const expected = cookiesOf(request)[LINK_COOKIE];
      return Boolean(expected && body._link && safeEqual(expected, body._link));
    };
    const signedIn = async (reply: FastifyReply, username: string, password: string) => {
      const session = await auth.signIn(username, password);
      if (!session) return reply.code(303).header('location', '/dashboard/login').send();
      return reply
        .code(303)
        .header('set-cookie', [
          cookie(SESSION_COOKIE, session.id, Math.floor(ctx.settings.dashboardSessionTtlMs / 1000)),
          cookie(LINK_COOKIE, '', 0),
        ])
        .header('location', '/dashboard')
        .send();
    };
    const refusedEcho = (reply: FastifyReply) =>
      send(
        reply,
        403,
        'Refused',
        html`<h1>Refused</h1>
          <p>The form expired; open the link again.</p>`,
      );

    for (const kind of ['invite', 'reset'] as const) {
      const path = kind === 'invite' ? '/accept' : '/reset';
      app.get(path, open, async (request, reply) => form(reply, kind, tokenOf(request)));
      app.post(path, open, async (request, reply) => {
        const body = formOf(request);
        if (!echoed(request, body)) return refusedEcho(reply);
        const token = tokenOf(request, body);
        const password = body.password ?? '';
        try {
          if (kind === 'invite') {
            const user = await ctx.team.accept(token, body.name ?? '', password);
            return await signedIn(reply, user.username, password);
          }
          return await signedIn(reply, await ctx.team.resetPassword(token, password), password);
        } catch (error) {
          if (!(error instanceof TeamError)) throw error;
          if (error.status === 404) return gone(reply);
          return form(reply, kind, token, { error: error.message, values: body, status: error.status });
        }
      });
    }
  },
};

export default page;
