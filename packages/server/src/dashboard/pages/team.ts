import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Project } from '../../accounts/projects.js';
import { ROLES, isRole } from '../../team/roles.js';
import { TeamError } from '../../team/team-store.js';
import { csrfInput, inlineError, postButton, selectField, table, textField } from '../components.js';
import type { DashboardContext, DashboardPage } from '../context.js';
import { html, isoTime } from '../html.js';
import { accessOf } from '../route-access.js';
import { formOf, type Form } from '../session.js';

const usernameParams = z.object({ username: z.string().min(1).max(254) });
const idParams = z.object({ id: z.string().min(1).max(64) });

/** Project names typed as a comma-separated list, checked against the known projects. */
function projectIdsOf(names: string | undefined, all: Project[]): string[] {
  const wanted = (names ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return wanted.map((name) => {
    const project = all.find((p) => p.name === name);
    if (!project) throw new TeamError(`no project named "${name}"`);
    return project.id;
  });
}

/** The one-time link's address, as the invited user opens it. */
export function linkUrl(ctx: DashboardContext, kind: 'invite' | 'reset', token: string): string {
  const path = kind === 'invite' ? 'accept' : 'reset';
  return `${ctx.settings.publicUrl.replace(/\/$/, '')}/dashboard/${path}?token=${encodeURIComponent(token)}`;
}

/** The Team page: members, roles, projects, invitations (owners and admins: dashboard/route-access.ts). */
const page: DashboardPage = {
  nav: { key: 'team', href: '/dashboard/team', label: 'Team' },
  register(app, ctx) {
    const { team } = ctx;

    const teamPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      shown: {
        link?: { url: string; email: string; mailed: string };
        error?: string;
        form?: Form;
        status?: number;
      } = {},
    ) => {
      const csrf = ctx.csrf(request);
      const all = await ctx.services.projects.list();
      const names = (ids: string[]) => ids.map((id) => all.find((p) => p.id === id)?.name ?? id).join(', ');
      const members = await team.members();
      const links = await team.pendingLinks();
      return ctx.render(request, reply, {
        title: 'Team',
        active: 'team',
        status: shown.status,
        body: html`<h1>Team</h1>
          ${
            shown.link
              ? html`<div class="card" id="one-time-link">
                  <p>One-time link for <b>${shown.link.email}</b> (shown this once${shown.link.mailed}):</p>
                  <p><code data-link>${shown.link.url}</code></p>
                </div>`
              : ''
          }
          ${table({
            id: 'members',
            columns: [
              { label: 'User', cell: (m) => m.email ?? m.username },
              { label: 'Name', cell: (m) => m.name ?? '' },
              { label: 'Role', cell: (m) => m.role },
              {
                label: 'Projects',
                cell: (m) => (m.role === 'owner' || m.role === 'admin' ? 'all' : names(m.projectIds)),
              },
              {
                label: 'Change',
                cell: (m) =>
                  html`<form
                      class="inline"
                      method="post"
                      action="/dashboard/team/users/${encodeURIComponent(m.username)}/role"
                    >
                      ${csrfInput(csrf)} ${selectField('Role', 'role', [...ROLES], m.role)}
                      <button type="submit" data-action="role">Set role</button>
                    </form>
                    <form
                      class="inline"
                      method="post"
                      action="/dashboard/team/users/${encodeURIComponent(m.username)}/projects"
                    >
                      ${csrfInput(csrf)}
                      ${textField('Projects', 'projects', names(m.projectIds), { size: 20 })}
                      <button type="submit" data-action="projects">Set projects</button>
                    </form>
                    ${postButton({
                      action: `/dashboard/team/users/${encodeURIComponent(m.username)}/reset-link`,
                      label: 'Reset link',
                      csrf,
                      name: 'reset-link',
                    })}
                    ${postButton({
                      action: `/dashboard/team/users/${encodeURIComponent(m.username)}/remove`,
                      label: 'Remove',
                      csrf,
                      name: 'remove',
                      className: 'danger',
                      confirm: `Remove ${m.email ?? m.username}? They are signed out at once.`,
                    })}`,
              },
            ],
            rows: members,
            empty: 'No users.',
            rowAttributes: (m) => ({ 'data-user': m.username, 'data-role': m.role }),
          })}
          <h2>Pending links</h2>
          ${table({
            id: 'invitations',
            columns: [
              { label: 'Kind', cell: (l) => l.kind },
              { label: 'Email', cell: (l) => l.email },
              { label: 'Role', cell: (l) => l.role ?? '' },
              { label: 'Projects', cell: (l) => names(l.projectIds) },
              { label: 'Expires', cell: (l) => isoTime(l.expiresAt) },
              {
                label: '',
                cell: (l) =>
                  postButton({
                    action: `/dashboard/team/invitations/${l.id}/revoke`,
                    label: 'Revoke',
                    csrf,
                    name: 'revoke',
                  }),
              },
            ],
            rows: links,
            empty: 'No pending invitation or reset link.',
            rowAttributes: (l) => ({ 'data-email': l.email, 'data-link-id': l.id }),
          })}
          <h2>Invite</h2>
          ${inlineError(shown.error)}
          <form method="post" action="/dashboard/team/invite" class="filters" id="invite">
            ${csrfInput(csrf)}
            ${textField('Email', 'email', shown.form?.email, { required: true, type: 'email' })}
            ${selectField('Role', 'role', [...ROLES], shown.form?.role ?? 'viewer')}
            ${textField('Projects (comma-separated)', 'projects', shown.form?.projects, {
              placeholder: all[0]?.name ?? 'default',
            })}
            <button type="submit">Invite</button>
          </form>`,
      });
    };

    const fail = (request: FastifyRequest, reply: FastifyReply, error: unknown, form?: Form) => {
      if (!(error instanceof TeamError)) throw error;
      return teamPage(request, reply, { error: error.message, form, status: error.status });
    };

    /** Mails the link when SMTP is set; the page says whether it went. */
    const mail = async (email: string, kind: 'invite' | 'reset', url: string): Promise<string> => {
      if (!ctx.mailer || !email) return '';
      try {
        await ctx.mailer.send(
          kind === 'invite'
            ? {
                to: email,
                subject: 'You are invited to Snapwire',
                text: `You are invited to the Snapwire dashboard. Open this link to choose your name and password (it works once, for 7 days):\n\n${url}\n`,
              }
            : {
                to: email,
                subject: 'Reset your Snapwire password',
                text: `Open this link to choose a new password for the Snapwire dashboard (it works once, for 24 hours):\n\n${url}\n`,
              },
        );
        return `; mailed to ${email}`;
      } catch (error) {
        return `; the mail could not be sent (${(error as Error).message.slice(0, 200)})`;
      }
    };

    app.get('/team', async (request, reply) => teamPage(request, reply));

    app.post('/team/invite', async (request, reply) => {
      const form = formOf(request);
      try {
        if (!isRole(form.role)) throw new TeamError('pick a role: owner, admin, developer or viewer');
        if (form.role === 'owner' && accessOf(request)?.role !== 'owner') {
          throw new TeamError('only an owner invites an owner', 403);
        }
        const link = await team.invite({
          email: form.email ?? '',
          role: form.role,
          projectIds: projectIdsOf(form.projects, await ctx.services.projects.list()),
          createdBy: ctx.session(request)?.username ?? '',
        });
        const url = linkUrl(ctx, 'invite', link.token);
        await ctx.audit(request, 'user_invited', {
          target: link.email,
          detail: { role: form.role },
        });
        return teamPage(request, reply, {
          link: { url, email: link.email, mailed: await mail(link.email, 'invite', url) },
        });
      } catch (error) {
        return fail(request, reply, error, form);
      }
    });

    app.post('/team/invitations/:id/revoke', async (request, reply) => {
      try {
        const id = idParams.safeParse(request.params);
        if (!id.success) throw new TeamError('no such pending invitation', 404);
        await team.revoke(id.data.id);
        await ctx.audit(request, 'invitation_revoked', { target: id.data.id });
        return ctx.back(reply, '/dashboard/team', 'Link revoked.');
      } catch (error) {
        return fail(request, reply, error);
      }
    });

    const userAction = (
      verb: 'role' | 'projects' | 'remove' | 'reset-link',
      run: (
        username: string,
        form: Form,
        request: FastifyRequest,
        reply: FastifyReply,
      ) => Promise<FastifyReply>,
    ) =>
      app.post(`/team/users/:username/${verb}`, async (request, reply) => {
        try {
          const params = usernameParams.safeParse(request.params);
          if (!params.success) throw new TeamError('no such user', 404);
          return await run(params.data.username, formOf(request), request, reply);
        } catch (error) {
          return fail(request, reply, error);
        }
      });
    const actorRole = (request: FastifyRequest) => accessOf(request)?.role ?? 'viewer';

    userAction('role', async (username, form, request, reply) => {
      if (!isRole(form.role)) throw new TeamError('pick a role: owner, admin, developer or viewer');
      await team.setRole(username, form.role, actorRole(request));
      await ctx.audit(request, 'user_role_changed', { target: username, detail: { role: form.role } });
      return ctx.back(reply, '/dashboard/team', `${username} is now ${form.role}.`);
    });
    userAction('projects', async (username, form, request, reply) => {
      const projectIds = projectIdsOf(form.projects, await ctx.services.projects.list());
      await team.setProjects(username, projectIds);
      await ctx.audit(request, 'user_projects_changed', {
        target: username,
        detail: { projects: projectIds },
      });
      return ctx.back(reply, '/dashboard/team', `Projects of ${username} saved.`);
    });
    userAction('remove', async (username, _form, request, reply) => {
      await team.remove(username, actorRole(request));
      await ctx.audit(request, 'user_removed', { target: username });
      return ctx.back(reply, '/dashboard/team', `${username} removed.`);
    });
    userAction('reset-link', async (username, _form, request, reply) => {
      const target = await team.find(username);
      if (target?.role === 'owner' && actorRole(request) !== 'owner') {
        throw new TeamError('only an owner makes a reset link for an owner', 403);
      }
      const link = await team.resetLink(username, ctx.session(request)?.username ?? '');
      const url = linkUrl(ctx, 'reset', link.token);
      await ctx.audit(request, 'reset_link_created', { target: username });
      return teamPage(request, reply, {
        link: { url, email: link.email || username, mailed: await mail(link.email, 'reset', url) },
      });
    });
  },
};

export default page;
