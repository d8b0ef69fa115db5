import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../accounts/projects.js';
import { isApiError } from '../../errors.js';
import type { MonitorRow, MonitorRun } from '../../monitors/store.js';
import type { Services } from '../../services.js';
import { pickScope, scopeForm, shortId, table } from '../components.js';
import type { DashboardContext, DashboardPage } from '../context.js';
import { html, isoTime, raw, type Html } from '../html.js';

type Form = Record<string, string | undefined>;
const WHICH = ['before', 'after', 'diff'] as const;

/** The viewer's look: side by side (one column on a phone) and a before/after slider, no sideways scroll. */
const VIEWER_STYLE = raw(`<style>
.mon-sides{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px}
.mon-sides figure{margin:0}.mon-sides img,.mon-slider img{width:100%;height:auto;display:block;border:1px solid var(--line,#ccc)}
.mon-slider{max-width:900px;margin-top:12px}
.mon-stage{position:relative}
.mon-slider .mon-top{position:absolute;top:0;bottom:0;left:0;overflow:hidden;width:50%;border-right:2px solid #d62828}
.mon-slider .mon-top img{max-width:none;height:auto}
.mon-slider input{width:100%;margin-top:8px}
.mon-bar{display:inline-block;height:8px;background:#d62828;vertical-align:middle;min-width:1px}
@media (max-width:700px){.mon-sides{grid-template-columns:minmax(0,1fr)}}
</style>`);
/**
 * Moves the slider's top image (the baseline) over the capture; the top image keeps the stage's full width,
 * so both are drawn at one scale. The range sits below the stage, where the top image cannot cover it.
 */
const SLIDER_SCRIPT = raw(`<script>
document.querySelectorAll('.mon-slider').forEach(function (box) {
  var stage = box.querySelector('.mon-stage'), top = box.querySelector('.mon-top');
  var img = top.querySelector('img'), range = box.querySelector('input');
  var size = function () { img.style.width = stage.clientWidth + 'px'; };
  range.addEventListener('input', function () { top.style.width = range.value + '%'; });
  window.addEventListener('resize', size); size();
});
</script>`);

/**
 * The Monitors pages: every monitor of a project + environment, and per monitor a timeline of runs with
 * their change scores and a before/after/diff viewer (side by side and a slider). Registered inside the
 * /dashboard plugin, so its session and CSRF hooks apply here.
 */
function registerMonitorsPage(app: FastifyInstance, services: Services, context: DashboardContext) {
  const { projects, monitors, monitorRunner, blobs } = services;
  const query = (request: FastifyRequest) => (request.query ?? {}) as Form;
  const show = (request: FastifyRequest, reply: FastifyReply, title: string, body: Html, status = 200) =>
    context.render(request, reply, { title, active: 'monitors', body, status });
  const back = (reply: FastifyReply, to: string, message: string) =>
    reply
      .code(303)
      .header('location', `${to}${to.includes('?') ? '&' : '?'}msg=${encodeURIComponent(message)}`)
      .send();
  const button = (request: FastifyRequest, path: string, label: string, style = '') =>
    html`<form method="post" action="/dashboard/monitors/${path}" class="inline">
      <input type="hidden" name="_csrf" value="${context.csrf(request)}" /><button
        type="submit"
        class="${style}"
      >
        ${label}
      </button>
    </form>`;
  const ownerOf = async (id: string): Promise<{ monitor: MonitorRow; caller: Caller } | undefined> => {
    const monitor = await monitors.byId(id);
    const project = monitor ? await projects.findById(monitor.project_id) : undefined;
    return monitor && project ? { monitor, caller: { project, env: monitor.env } } : undefined;
  };
  const outcome = (run: MonitorRun) =>
    run.status === 'failed'
      ? html`<span class="bad">failed</span>`
      : run.status === 'baseline'
        ? html`<span class="muted">baseline</span>`
        : run.changed
          ? html`<span class="bad">changed</span>`
          : html`<span class="ok">unchanged</span>`;
  const score = (run: MonitorRun) =>
    run.score === null
      ? '—'
      : html`<span class="mon-bar" style="width:${Math.min(100, Math.round(run.score * 1000))}px"></span>
          ${(run.score * 100).toFixed(2)} %`;

  app.get('/monitors', async (request, reply) => {
    const q = query(request);
    // Only the projects the signed-in member sees (team/roles.ts); owners and admins see all.
    const all = await context.projects(request);
    const { project, env } = pickScope(q, all);
    if (!project)
      return show(
        request,
        reply,
        'Monitors',
        html`<h1>Monitors</h1>
          <p>No project.</p>`,
      );
    const list = await monitors.list({ project, env });
    return show(
      request,
      reply,
      'Monitors',
      html`<h1>Monitors</h1>
        ${scopeForm('/dashboard/monitors', all, project, env)}
        ${table({
          id: 'monitors',
          columns: [
            { label: 'Monitor', cell: (m) => shortId(m.id, `/dashboard/monitors/${m.id}`) },
            { label: 'URL', cell: (m) => m.url, className: 'url' },
            { label: 'Status', cell: (m) => m.status },
            { label: 'Next run', cell: (m) => isoTime(m.next_run_at) },
            { label: 'Threshold', cell: (m) => `${(m.change_threshold * 100).toFixed(2)} %` },
            { label: 'Webhook', cell: (m) => m.webhook_name ?? '—' },
            {
              label: 'Approval',
              cell: (m) => (m.pending_run_id ? html`<span class="bad">pending</span>` : ''),
            },
          ],
          rows: list,
          empty: html`No monitor in ${project.name} (${env}). Create one with <code>POST /monitors</code> or
            <code>snapwire monitors create</code> (docs/monitors.md).`,
        })}`,
    );
  });

  app.get('/monitors/:id', async (request, reply) => {
    const owner = await ownerOf((request.params as { id: string }).id);
    if (!owner) return show(request, reply, 'Monitors', html`<h1>No such monitor</h1>`, 404);
    const { monitor, caller } = owner;
    const runs = await monitors.runsOf(monitor.id, 200);
    const wanted = query(request).run;
    const shown = runs.find((r) => r.id === wanted) ?? runs.find((r) => r.status === 'compared') ?? runs[0];
    const image = (run: MonitorRun, which: (typeof WHICH)[number]) =>
      `/dashboard/monitors/${monitor.id}/runs/${run.id}/image/${which}`;
    const viewer = (run: MonitorRun | undefined) => {
      if (!run || !run.after_blob) return html`<p class="muted">No capture to show yet.</p>`;
      if (!run.before_blob) {
        return html`<figure><img src="${image(run, 'after')}" alt="The baseline capture" /></figure>`;
      }
      return html`<div class="mon-sides">
          ${WHICH.map(
            (which) =>
              html`<figure>
                <figcaption>${which}</figcaption>
                <img src="${image(run, which)}" alt="${which} image of run ${run.id}" loading="lazy" />
              </figure>`,
          )}
        </div>
        <div class="mon-slider" data-run="${run.id}">
          <div class="mon-stage">
            <img src="${image(run, 'after')}" alt="After" />
            <div class="mon-top"><img src="${image(run, 'before')}" alt="Before" /></div>
          </div>
          <input type="range" min="0" max="100" value="50" aria-label="Before / after" />
        </div>`;
    };
    const pending = runs.find((r) => r.id === monitor.pending_run_id);
    return show(
      request,
      reply,
      'Monitor',
      html`${VIEWER_STYLE}
        <h1>Monitor</h1>
        <div class="card">
          <p class="url"><b>${monitor.url}</b></p>
          <p>
            ${monitor.status} · next ${isoTime(monitor.next_run_at)} · threshold
            ${(monitor.change_threshold * 100).toFixed(2)} % · confirm ${monitor.confirm_runs} run(s) ·
            ${monitor.require_approval ? 'approval required · ' : ''}webhook ${monitor.webhook_name ?? '—'} ·
            project ${caller.project.name} (${caller.env})
          </p>
          ${button(request, `${monitor.id}/run`, 'Run now')}
          ${
            monitor.status === 'ACTIVE'
              ? button(request, `${monitor.id}/pause`, 'Pause', 'secondary')
              : button(request, `${monitor.id}/resume`, 'Resume')
          }
          ${
            pending
              ? html`<p>
                  <span class="bad">A change waits for approval</span>
                  (<a href="/dashboard/monitors/${monitor.id}?run=${pending.id}">run ${shortId(pending.id)}</a
                  >) ${button(request, `${monitor.id}/runs/${pending.id}/approve`, 'Approve')}
                  ${button(request, `${monitor.id}/runs/${pending.id}/reject`, 'Reject', 'secondary')}
                </p>`
              : ''
          }
        </div>
        <h2>Run ${shown ? html`${shortId(shown.id)} · ${isoTime(shown.finished_at)}` : ''}</h2>
        ${shown?.note ? html`<p class="muted">${shown.note}</p>` : ''}
        ${
          shown?.text_diff
            ? html`<p>
                Words added: ${(JSON.parse(shown.text_diff) as { added: string[] }).added.join(' ') || '—'} ·
                removed: ${(JSON.parse(shown.text_diff) as { removed: string[] }).removed.join(' ') || '—'}
              </p>`
            : ''
        }
        <div id="viewer">${viewer(shown)}</div>
        <h2>Timeline</h2>
        ${table({
          id: 'runs',
          columns: [
            {
              label: 'Run',
              cell: (run) =>
                html`<a href="/dashboard/monitors/${monitor.id}?run=${run.id}">${isoTime(run.due_at)}</a>`,
            },
            { label: 'Outcome', cell: outcome },
            { label: 'Change', cell: score },
            {
              label: 'Regions',
              cell: (run) => (run.regions ? (JSON.parse(run.regions) as unknown[]).length : '—'),
            },
            {
              label: 'Event',
              cell: (run) =>
                run.event_job_id ? html`<a href="/dashboard/jobs/${run.event_job_id}">sent</a>` : '',
            },
            { label: 'Note', cell: (run) => run.error_reason ?? run.note ?? '' },
          ],
          rows: runs,
          rowAttributes: (run) => ({ 'data-score': run.score, 'data-status': run.status }),
          empty: 'No run yet: Run now takes the baseline.',
        })}
        ${SLIDER_SCRIPT}`,
    );
  });

  app.get('/monitors/:id/runs/:run/image/:which', async (request, reply) => {
    const params = request.params as { id: string; run: string; which: string };
    const owner = await ownerOf(params.id);
    const which = WHICH.find((w) => w === params.which);
    if (!owner || !which) return reply.code(404).send('no such image');
    try {
      const { run } = await monitors.requireRun(owner.caller, params.id, params.run);
      const blob = which === 'before' ? run.before_blob : which === 'after' ? run.after_blob : run.diff_blob;
      const bytes = blob ? await blobs.get(blob) : undefined;
      if (!bytes) return reply.code(404).send('this image is not kept');
      return reply.type('image/png').header('cache-control', 'private, max-age=3600').send(bytes);
    } catch (error) {
      if (isApiError(error)) return reply.code(404).send(error.reason);
      throw error;
    }
  });

  for (const verb of ['run', 'pause', 'resume'] as const) {
    app.post(`/monitors/:id/${verb}`, async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const owner = await ownerOf(id);
      if (!owner) return back(reply, '/dashboard/monitors', 'No such monitor');
      const to = `/dashboard/monitors/${id}`;
      if (verb === 'run') {
        const run = await monitorRunner.runNow(owner.monitor);
        return back(reply, `${to}?run=${run.id}`, run.note ?? run.error_reason ?? 'Run finished');
      }
      await (verb === 'pause' ? monitors.pause(owner.caller, id) : monitors.resume(owner.caller, id));
      monitorRunner.wake();
      return back(reply, to, verb === 'pause' ? 'Paused' : 'Resumed');
    });
  }

  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/monitors/:id/runs/:run/${decision}`, async (request, reply) => {
      const { id, run } = request.params as { id: string; run: string };
      const owner = await ownerOf(id);
      if (!owner) return back(reply, '/dashboard/monitors', 'No such monitor');
      const to = `/dashboard/monitors/${id}?run=${run}`;
      try {
        await monitors[decision](owner.caller, id, run);
      } catch (error) {
        if (!isApiError(error)) throw error;
        return back(reply, to, error.reason);
      }
      return back(
        reply,
        to,
        decision === 'approve' ? 'Approved: the new baseline' : 'Rejected: baseline kept',
      );
    });
  }
}

/** The page as the dashboard registers it (pages/index.ts). */
const monitorsPage: DashboardPage = {
  nav: { key: 'monitors', href: '/dashboard/monitors', label: 'Monitors' },
  register: (app, context) => registerMonitorsPage(app, context.services, context),
};
export default monitorsPage;
