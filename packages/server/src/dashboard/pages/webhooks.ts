import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, Project } from '../../accounts/projects.js';
import { isApiError } from '../../errors.js';
import { csrfInput, inlineError, table, textField } from '../components.js';
import { scopePicker, type DashboardPage, type Env } from '../context.js';
import { html } from '../html.js';
import { formOf, type Form } from '../session.js';
import { secretPage } from '../webhook-views.js';

/** The webhooks of one project + environment, and the form that creates one. */
const page: DashboardPage = {
  nav: { key: 'webhooks', href: '/dashboard/webhooks', label: 'Webhooks' },
  register(app, ctx) {
    const { settings, projects, webhooks, queue, asyncScreenshots } = ctx.services;

    const listPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      scope: { all: Project[]; project: Project | undefined; env: Env },
      typed: { form?: Form; error?: string; status?: number } = {},
    ) => {
      const { all, project, env } = scope;
      if (!project) {
        return ctx.render(request, reply, {
          title: 'Webhooks',
          active: 'webhooks',
          body: html`<h1>Webhooks</h1>
            <p class="empty">
              No project yet: create one on <a href="/dashboard/projects">Projects & keys</a>.
            </p>`,
        });
      }
      const list = await webhooks.list({ project, env });
      const pending = new Map(
        await Promise.all(list.map(async (w) => [w.uuid, await queue.pendingCount(w.uuid)] as const)),
      );
      return ctx.render(request, reply, {
        title: 'Webhooks',
        active: 'webhooks',
        status: typed.status ?? 200,
        body: html`<h1>Webhooks</h1>
          ${scopePicker('/dashboard/webhooks', all, project, env)}
          ${table({
            id: 'webhooks',
            rows: list,
            empty: `No webhook in ${project.name} (${env}) yet: create one below, then pass its name as webhook_name to make a /screenshot call asynchronous.`,
            columns: [
              { label: 'Name', cell: (w) => html`<a href="/dashboard/webhooks/${w.uuid}">${w.name}</a>` },
              { label: 'URL', className: 'url', cell: (w) => w.url },
              {
                label: 'State',
                cell: (w) =>
                  w.enabled
                    ? html`<span class="ok">enabled</span>`
                    : html`<span class="bad">disabled</span> ${w.disable_reason ?? ''}`,
              },
              {
                label: 'Consecutive failures',
                cell: (w) => `${w.consecutive_failed_count} / ${settings.webhookDisableAfter}`,
              },
              { label: 'Queued', cell: (w) => pending.get(w.uuid) ?? 0 },
            ],
          })}
          <h2>New webhook in ${project.name} (${env})</h2>
          ${inlineError(typed.error)}
          <form method="post" action="/dashboard/webhooks" class="filters" id="new-webhook">
            ${csrfInput(ctx.csrf(request))}
            <input type="hidden" name="project" value="${project.name}" /><input
              type="hidden"
              name="env"
              value="${env}"
            />
            ${textField('Name', 'name', typed.form?.name, { required: true })}
            ${textField('URL', 'url', typed.form?.url, { required: true, size: 40 })}
            <button type="submit">Create</button>
          </form>`,
      });
    };

    app.get('/webhooks', async (request, reply) => listPage(request, reply, await ctx.scope(request)));

    app.post('/webhooks', async (request, reply) => {
      const body = formOf(request);
      const all = await projects.list();
      const project = all.find((p) => p.name === body.project);
      if (!project) return ctx.back(reply, '/dashboard/webhooks', 'Unknown project');
      const env: Env = body.env === 'TEST' ? 'TEST' : 'LIVE';
      const caller: Caller = { project, env };
      try {
        const { webhook } = await ctx.services.webhookService.create(caller, {
          name: body.name ?? '',
          url: body.url ?? '',
        });
        await ctx.audit(request, 'webhook_created', {
          projectId: project.id,
          target: webhook.uuid,
          detail: { name: webhook.name, env },
        });
        return secretPage(ctx, request, reply, webhook, 'Webhook created');
      } catch (error) {
        if (!isApiError(error)) throw error;
        // The form comes back with what was typed and the reason next to it.
        return listPage(
          request,
          reply,
          { all, project, env },
          { form: body, error: error.reason, status: error.definition.httpStatus },
        );
      }
    });

    // ---- one webhook ----------------------------------------------------------------------------------
  },
};

export default page;
