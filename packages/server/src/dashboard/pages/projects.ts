import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Project } from '../../accounts/projects.js';
import { PLAN_NAMES, type PlanName } from '../../accounts/plans.js';
import { csrfInput, inlineError, postButton, selectField, table, textField } from '../components.js';
import type { DashboardPage, Env } from '../context.js';
import { html } from '../html.js';
import { formOf, type Form } from '../session.js';

const nameParams = z.object({ name: z.string().min(1).max(200) });

const page: DashboardPage = {
  nav: { key: 'projects', href: '/dashboard/projects', label: 'Projects & keys' },
  register(app, ctx) {
    const { projects, settings } = { projects: ctx.services.projects, settings: ctx.settings };

    const projectsPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      shown: {
        revealed?: { name: string; keys: Partial<Record<Env, string>> };
        form?: Form;
        error?: string;
        status?: number;
      } = {},
    ) => {
      const list: Project[] = await ctx.projects(request);
      const csrf = ctx.csrf(request);
      const { revealed } = shown;
      return ctx.render(request, reply, {
        title: 'Projects',
        active: 'projects',
        status: shown.status ?? 200,
        body: html`<h1>Projects & keys</h1>
          ${
            revealed
              ? html`<div class="warn" id="revealed-keys">
                  <strong>Keys of ${revealed.name}, shown this once:</strong>${Object.entries(
                    revealed.keys,
                  ).map(
                    ([env, key]) =>
                      html`<div>${env}: <span class="secret" data-env="${env}">${key}</span></div>`,
                  )}
                </div>`
              : ''
          }
          ${table({
            id: 'projects',
            rows: list,
            empty: 'No project: the "default" project is created at start-up; create others below.',
            rowAttributes: (p) => ({ 'data-project': p.name }),
            columns: [
              { label: 'Project', cell: (p) => p.name },
              {
                label: 'Plan',
                cell: (p) =>
                  html`<form class="inline" method="post" action="/dashboard/projects/${p.name}/plan">
                    ${csrfInput(csrf)}<select name="plan" aria-label="plan of ${p.name}">
                      ${PLAN_NAMES.map((n) => html`<option ${n === p.plan ? html`selected` : ''}>${n}</option>`)}
                    </select>
                    <button type="submit" class="secondary">Set</button>
                  </form>`,
              },
              {
                label: 'Limits',
                cell: (p) =>
                  html`<span class="muted"
                    >${p.limits.monthlyCredits} credits/month · concurrency ${p.limits.concurrency} · webhook
                    queue ${p.limits.webhookQueueLimit} · retention ${p.limits.retentionDays} d</span
                  >`,
              },
              {
                label: 'Keys',
                cell: (p) =>
                  (['LIVE', 'TEST'] as const).map(
                    (env) =>
                      html`<div>
                        ${env} …${p.keyHints[env] ?? '????'}
                        ${postButton({
                          action: `/dashboard/projects/${p.name}/rotate-key`,
                          label: 'Rotate',
                          csrf,
                          className: 'secondary',
                          name: 'rotate-key',
                          hidden: { env },
                          confirm: `Rotate the ${env} key of ${p.name}? The current key stops working at once.`,
                        })}
                      </div>`,
                  ),
              },
              {
                label: 'Switch',
                cell: (p) =>
                  html`<a href="/dashboard/webhooks?project=${p.name}&env=LIVE">LIVE</a> ·
                    <a href="/dashboard/webhooks?project=${p.name}&env=TEST">TEST</a> ·
                    <a href="/dashboard/logs?project=${p.name}">logs</a>`,
              },
            ],
          })}
          <h2>New project</h2>
          ${inlineError(shown.error)}
          <form method="post" action="/dashboard/projects" class="filters" id="new-project">
            ${csrfInput(csrf)} ${textField('Name', 'name', shown.form?.name, { required: true })}
            ${selectField('Plan', 'plan', [...PLAN_NAMES], shown.form?.plan ?? settings.defaultPlan)}
            <button type="submit">Create</button>
          </form>`,
      });
    };

    app.get('/projects', async (request, reply) => projectsPage(request, reply));

    app.post('/projects', async (request, reply) => {
      const body = formOf(request);
      const plan = (PLAN_NAMES as readonly string[]).includes(body.plan ?? '')
        ? (body.plan as PlanName)
        : settings.defaultPlan;
      try {
        const created = await projects.create(body.name ?? '', plan);
        await ctx.audit(request, 'project_created', {
          projectId: created.project.id,
          target: created.project.name,
          detail: { plan, keys: Object.keys(created.keys) },
        });
        return projectsPage(request, reply, {
          revealed: { name: created.project.name, keys: created.keys },
        });
      } catch (error) {
        // Inline, with the name as typed, so it can be corrected rather than typed again.
        return projectsPage(request, reply, { form: body, error: (error as Error).message, status: 400 });
      }
    });

    app.post('/projects/:name/rotate-key', async (request, reply) => {
      const params = nameParams.safeParse(request.params);
      const env: Env = formOf(request).env === 'TEST' ? 'TEST' : 'LIVE';
      try {
        if (!params.success) throw new Error('No such project');
        const key = await projects.rotateKey(params.data.name, env);
        await ctx.audit(request, 'key_rotated', {
          projectId: (await projects.findByName(params.data.name))?.id,
          target: `${params.data.name}/${env}`,
        });
        return projectsPage(request, reply, { revealed: { name: params.data.name, keys: { [env]: key } } });
      } catch (error) {
        return ctx.back(reply, '/dashboard/projects', (error as Error).message);
      }
    });

    app.post('/projects/:name/plan', async (request, reply) => {
      const params = nameParams.safeParse(request.params);
      try {
        if (!params.success) throw new Error('No such project');
        const changed = await projects.update(params.data.name, { plan: formOf(request).plan as PlanName });
        await ctx.audit(request, 'plan_changed', {
          projectId: changed.id,
          target: changed.name,
          detail: { plan: changed.plan },
        });
        return ctx.back(reply, '/dashboard/projects', `Plan of ${params.data.name} changed.`);
      } catch (error) {
        return ctx.back(reply, '/dashboard/projects', (error as Error).message);
      }
    });
  },
};

export default page;
