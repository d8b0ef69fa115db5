import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../accounts/projects.js';
import { isApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { ScheduleRow } from '../../schedules/store.js';
import type { DashboardContext, DashboardPage } from '../context.js';
import { pickScope, scopeForm, shortId, table } from '../components.js';
import { html, isoTime, type Html } from '../html.js';

type Form = Record<string, string | undefined>;

/**
 * The Schedules page: every schedule of a project + environment, its run history, and pause, resume and
 * run-now buttons. Registered inside the /dashboard plugin, so its session and CSRF hooks apply here.
 */
function registerSchedulesPage(app: FastifyInstance, services: Services, context: DashboardContext) {
  const { projects, schedules, scheduler } = services;

  const query = (request: FastifyRequest) => (request.query ?? {}) as Form;
  const show = (request: FastifyRequest, reply: FastifyReply, title: string, body: Html, status = 200) =>
    context.render(request, reply, { title, active: 'schedules', body, status });
  const back = (reply: FastifyReply, to: string, message: string) =>
    reply
      .code(303)
      .header('location', `${to}${to.includes('?') ? '&' : '?'}msg=${encodeURIComponent(message)}`)
      .send();
  const action = (request: FastifyRequest, schedule: ScheduleRow, verb: string, label: string, style = '') =>
    html`<form method="post" action="/dashboard/schedules/${schedule.id}/${verb}" class="inline">
      <input type="hidden" name="_csrf" value="${context.csrf(request)}" /><button
        type="submit"
        class="${style}"
      >
        ${label}
      </button>
    </form>`;
  const actions = (request: FastifyRequest, schedule: ScheduleRow) => [
    schedule.status === 'ACTIVE' ? action(request, schedule, 'pause', 'Pause', 'secondary') : '',
    schedule.status === 'PAUSED' ? action(request, schedule, 'resume', 'Resume') : '',
    schedule.status !== 'CANCELLED' ? action(request, schedule, 'run', 'Run now') : '',
  ];
  const recurrenceText = (schedule: ScheduleRow) => {
    if (!schedule.recurrence) return `once at ${isoTime(schedule.scheduled_date)}`;
    const r = JSON.parse(schedule.recurrence) as {
      cron?: string;
      timezone?: string;
      interval?: number;
      unit?: string;
      ends?: { type: string; date?: string; count?: number };
    };
    const every = r.cron ? `cron ${r.cron} (${r.timezone ?? 'UTC'})` : `every ${r.interval} ${r.unit}`;
    const ends = r.ends
      ? r.ends.type === 'count'
        ? `, ${r.ends.count} runs`
        : `, until ${r.ends.date}`
      : '';
    return every + ends;
  };
  const statusOf = (status: string) =>
    status === 'ACTIVE' || status === 'succeeded'
      ? html`<span class="ok">${status}</span>`
      : status === 'failed' || status === 'CANCELLED'
        ? html`<span class="bad">${status}</span>`
        : html`<span class="muted">${status}</span>`;
  /** The schedule's owner, to act as it (the operator sees every project). */
  const ownerOf = async (id: string): Promise<{ schedule: ScheduleRow; caller: Caller } | undefined> => {
    const schedule = await schedules.byId(id);
    const project = schedule ? await projects.findById(schedule.project_id) : undefined;
    return schedule && project ? { schedule, caller: { project, env: schedule.env } } : undefined;
  };

  app.get('/schedules', async (request, reply) => {
    const q = query(request);
    const all = await context.projects(request);
    const { project, env } = pickScope(q, all);
    if (!project)
      return show(
        request,
        reply,
        'Schedules',
        html`<h1>Schedules</h1>
          <p>No project.</p>`,
      );
    const list = await schedules.list({ project, env });
    return show(
      request,
      reply,
      'Schedules',
      html`<h1>Schedules</h1>
        ${scopeForm('/dashboard/schedules', all, project, env)}
        <div id="schedules" data-refresh="5000">
          ${table({
            columns: [
              {
                label: 'Schedule',
                cell: (s) =>
                  s.notes
                    ? html`<a href="/dashboard/schedules/${s.id}">${s.notes}</a>`
                    : shortId(s.id, `/dashboard/schedules/${s.id}`),
              },
              {
                label: 'URL',
                // A crawler schedule may name its URLs as url_list: the first one stands for them.
                cell: (s) => {
                  const config = JSON.parse(s.config) as { url?: string; url_list?: string[] };
                  return config.url ?? config.url_list?.[0] ?? '';
                },
                className: 'url',
              },
              { label: 'When', cell: recurrenceText },
              { label: 'Status', cell: (s) => statusOf(s.status) },
              { label: 'Next run', cell: (s) => isoTime(s.next_run_at) },
              { label: 'Webhook', cell: (s) => s.webhook_name },
              { label: 'Runs', cell: (s) => s.fired_count },
              { label: 'Failures in a row', cell: (s) => s.consecutive_failures },
              { label: '', cell: (s) => html`${actions(request, s)}` },
            ],
            rows: list,
            empty: html`No schedule in ${project.name} (${env}). Create one with Scrapfly's SDK
              (<code>createScreenshotSchedule</code>), <code>POST /screenshot/schedules</code> or
              <code>snapwire schedules create</code>.`,
          })}
        </div>`,
    );
  });

  app.get('/schedules/:id', async (request, reply) => {
    const owner = await ownerOf((request.params as { id: string }).id);
    if (!owner) return show(request, reply, 'Schedules', html`<h1>No such schedule</h1>`, 404);
    const { schedule, caller } = owner;
    const runs = await schedules.runs(caller, schedule.id, 200);
    return show(
      request,
      reply,
      'Schedule',
      html`<h1>Schedule ${schedule.notes || schedule.id}</h1>
        <div class="card">
          <p>
            ${statusOf(schedule.status)} · ${recurrenceText(schedule)} · next ${isoTime(schedule.next_run_at)}
            · to webhook <b>${schedule.webhook_name}</b> · project ${caller.project.name} (${caller.env})
          </p>
          <p class="muted">
            id ${schedule.id} · allow_concurrency ${schedule.allow_concurrency ? 'yes' : 'no'} · retries
            ${schedule.retry_on_failure ? schedule.max_retries : 'off'} · created
            ${isoTime(schedule.created_at)}
          </p>
          <pre>${JSON.stringify(JSON.parse(schedule.config), null, 2)}</pre>
          ${actions(request, schedule)}
        </div>
        <h2>Run history</h2>
        <div id="runs" data-refresh="3000">
          ${table({
            columns: [
              { label: 'Due', cell: (run) => isoTime(run.due_at) },
              {
                label: 'Trigger',
                cell: (run) => `${run.trigger}${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}`,
              },
              { label: 'Status', cell: (run) => statusOf(run.status) },
              { label: 'Started', cell: (run) => isoTime(run.started_at) },
              { label: 'Finished', cell: (run) => isoTime(run.finished_at) },
              {
                label: 'Log',
                cell: (run) =>
                  run.log_uuid
                    ? html`<a href="/dashboard/monitoring/log/${run.log_uuid}">${run.log_uuid}</a>`
                    : '—',
              },
              {
                label: 'Error',
                cell: (run) => (run.error_code ? `${run.error_code}: ${run.error_reason ?? ''}` : ''),
              },
            ],
            rows: runs,
            empty: 'No run yet.',
          })}
        </div>`,
    );
  });

  for (const verb of ['pause', 'resume', 'run'] as const) {
    app.post(`/schedules/:id/${verb}`, async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const owner = await ownerOf(id);
      if (!owner) return back(reply, '/dashboard/schedules', 'No such schedule');
      const to = `/dashboard/schedules/${id}`;
      try {
        if (verb === 'pause') await schedules.pause(owner.caller, id);
        if (verb === 'resume') await schedules.resume(owner.caller, id);
        if (verb === 'run') await schedules.execute(owner.caller, id);
      } catch (error) {
        if (!isApiError(error)) throw error;
        return back(reply, to, error.reason);
      }
      await context.audit(
        request,
        verb === 'run' ? 'schedule_run' : verb === 'pause' ? 'schedule_paused' : 'schedule_resumed',
        {
          projectId: owner.caller.project.id,
          target: id,
        },
      );
      scheduler.wake();
      return back(reply, to, verb === 'run' ? 'Run queued' : verb === 'pause' ? 'Paused' : 'Resumed');
    });
  }
}

/** The page as the dashboard registers it (pages/index.ts). */
const schedulesPage: DashboardPage = {
  nav: { key: 'schedules', href: '/dashboard/schedules', label: 'Schedules' },
  register: (app, context) => registerSchedulesPage(app, context.services, context),
};
export default schedulesPage;
