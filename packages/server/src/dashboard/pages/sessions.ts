import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SessionSummary } from '../auth.js';
import { postButton, selectField, table } from '../components.js';
import { lenient, parse, type DashboardPage } from '../context.js';
import { html, isoTime } from '../html.js';
import { formOf } from '../session.js';

const userQuery = z.object({ user: lenient(z.string().max(200)) });

/**
 * Your dashboard sessions (created, last seen, address, browser): end one, or all but this one. The admin
 * also sees and ends another user's sessions (`?user=NAME`). Ending a session refuses its next request.
 */
const page: DashboardPage = {
  nav: { key: 'sessions', href: '/dashboard/sessions', label: 'Sessions' },
  register(app, ctx) {
    const { auth } = ctx.accounts;

    /** Whose sessions a request may see and end: its own, or anyone's for the admin. */
    const subjectOf = (request: FastifyRequest, asked: string | undefined) => {
      const own = ctx.session(request)?.username ?? '';
      if (!asked || asked === own) return own;
      return ctx.isAdmin(request) ? asked : undefined;
    };
    const toPage = (user: string, own: string) =>
      user === own ? '/dashboard/sessions' : `/dashboard/sessions?user=${encodeURIComponent(user)}`;
    const forbidden = (request: FastifyRequest, reply: FastifyReply) =>
      ctx.render(request, reply, {
        title: 'Refused',
        active: 'sessions',
        status: 403,
        body: html`<h1>Refused</h1>
          <p>Only the administrator sees and ends other users' sessions.</p>`,
      });

    app.get('/sessions', async (request, reply) => {
      const asked = parse(userQuery, request.query).user;
      const user = subjectOf(request, asked);
      if (user === undefined) return forbidden(request, reply);
      const me = ctx.session(request);
      const own = me?.username ?? '';
      const csrf = ctx.csrf(request);
      const rows = await auth.sessionsOf(user);
      const isOwn = user === own;
      return ctx.render(request, reply, {
        title: 'Sessions',
        active: 'sessions',
        body: html`<h1>${isOwn ? 'Your sessions' : `Sessions of ${user}`}</h1>
          ${
            ctx.isAdmin(request)
              ? html`<form method="get" action="/dashboard/sessions" class="filters">
                  ${selectField('User', 'user', await auth.usernames(), user)}<button type="submit">
                    Show
                  </button>
                </form>`
              : ''
          }
          ${table<SessionSummary>({
            id: 'sessions',
            columns: [
              {
                label: 'Session',
                cell: (row) => (row.handle === me?.handle ? html`<strong>this one</strong>` : 'other'),
              },
              { label: 'Created', cell: (row) => isoTime(row.createdAt), className: 'nowrap' },
              { label: 'Last seen', cell: (row) => isoTime(row.lastSeenAt), className: 'nowrap' },
              { label: 'Address', cell: (row) => row.sourceAddress ?? '' },
              { label: 'Browser', cell: (row) => row.userAgent ?? '' },
              { label: 'Expires', cell: (row) => isoTime(row.expiresAt), className: 'nowrap' },
              {
                label: '',
                cell: (row) =>
                  postButton({
                    action: '/dashboard/sessions/revoke',
                    csrf,
                    hidden: { handle: row.handle, user },
                    label: row.handle === me?.handle ? 'Sign out' : 'End',
                    name: 'revoke',
                  }),
              },
            ],
            rows,
            empty: 'No live session.',
            rowAttributes: (row) => ({ 'data-current': row.handle === me?.handle ? 'yes' : 'no' }),
          })}
          <p>
            ${
              isOwn
                ? postButton({
                    action: '/dashboard/sessions/revoke-others',
                    csrf,
                    label: 'End all other sessions',
                    name: 'revoke-others',
                  })
                : postButton({
                    action: '/dashboard/sessions/revoke-user',
                    csrf,
                    hidden: { user },
                    label: `End every session of ${user}`,
                    name: 'revoke-user',
                    confirm: `End every session of ${user}?`,
                  })
            }
          </p>`,
      });
    });

    app.post('/sessions/revoke', async (request, reply) => {
      const body = formOf(request);
      const own = ctx.session(request)?.username ?? '';
      const user = subjectOf(request, body.user);
      if (user === undefined) return forbidden(request, reply);
      const ended = await auth.revoke(user, body.handle ?? '');
      if (!ended) return ctx.back(reply, toPage(user, own), 'No such session.');
      await ctx.audit(request, 'session_revoked', {
        target: user,
        detail: { sessions: 1, own: body.handle === ctx.session(request)?.handle },
      });
      return ctx.back(reply, toPage(user, own), 'Session ended.');
    });

    app.post('/sessions/revoke-others', async (request, reply) => {
      const me = ctx.session(request);
      const count = await auth.revokeAll(me?.username ?? '', me?.handle);
      await ctx.audit(request, 'session_revoked', {
        target: me?.username ?? '',
        detail: { sessions: count, all_others: true },
      });
      return ctx.back(reply, '/dashboard/sessions', `${count} other session${count === 1 ? '' : 's'} ended.`);
    });

    // An admin action: the accounts work's roles will guard it; until then, the admin account only.
    app.post('/sessions/revoke-user', async (request, reply) => {
      const me = ctx.session(request);
      const user = formOf(request).user ?? '';
      if (!ctx.isAdmin(request)) return forbidden(request, reply);
      if (!(await auth.userExists(user))) return ctx.back(reply, '/dashboard/sessions', 'No such user.');
      const count = await auth.revokeAll(user, user === me?.username ? me.handle : undefined);
      await ctx.audit(request, 'session_revoked', { target: user, detail: { sessions: count } });
      return ctx.back(
        reply,
        toPage(user, me?.username ?? ''),
        `${count} session${count === 1 ? '' : 's'} ended.`,
      );
    });
  },
};

export default page;
