import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, Project } from '../accounts/projects.js';
import { PLAN_NAMES, type PlanName } from '../accounts/plans.js';
import { systemClock } from '../clock.js';
import { isApiError } from '../errors.js';
import type { Services } from '../services.js';
import type { Webhook } from '../webhooks/registry.js';
import { DashboardAuth, randomToken, safeEqual, safeNext, type Session } from './auth.js';
import { lineChart } from './charts.js';
import { curlOf } from './curl.js';
import { dashboardDb } from './db.js';
import { html, isoTime, layout, raw, type Html } from './html.js';
import { DashboardQueries } from './queries.js';

const SESSION_COOKIE = 'snapwire_session';
const LOGIN_COOKIE = 'snapwire_login';
const DAY_MS = 86_400_000;

type Env = 'LIVE' | 'TEST';
type Form = Record<string, string | undefined>;

function cookies(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) out[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
  }
  return out;
}

function form(request: FastifyRequest): Form {
  return (request.body && typeof request.body === 'object' ? request.body : {}) as Form;
}

function query(request: FastifyRequest): Form {
  return (request.query ?? {}) as Form;
}

function outcomeOf(status: number): Html {
  if (status === 0) return html`<span class="muted">pending</span>`;
  return status >= 200 && status < 300
    ? html`<span class="ok">${status}</span>`
    : html`<span class="bad">${status}</span>`;
}

/** The dashboard: server-rendered pages over the same services as the API, behind an admin session. */
export default function dashboardRoute(services: Services) {
  return async (root: FastifyInstance) => {
    await root.register(async (app) => plugin(app, services), { prefix: '/dashboard' });
  };
}

async function plugin(app: FastifyInstance, services: Services): Promise<void> {
  const { settings, projects, webhooks, attempts, queue, blobs, asyncScreenshots } = services;
  const db = dashboardDb(services.store.db);
  const auth = new DashboardAuth(db, systemClock, settings.dashboardSessionTtlMs);
  const data = new DashboardQueries(db);
  const secure = settings.publicUrl.startsWith('https://');
  const sessions = new WeakMap<FastifyRequest, Session>();

  const generated = await auth.ensureAdmin(settings.adminPassword);
  if (generated) {
    process.stdout.write(
      `\nDashboard: ${settings.publicUrl}/dashboard\n  user: admin\n  password: ${generated}\n  (generated now and shown this once; set SNAPWIRE_ADMIN_PASSWORD to choose it)\n\n`,
    );
  }

  // Logs, sessions and every other table expire in the retention room (logs/retention.ts).

  // HTML pages are not part of the API reference.
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const cookie = (name: string, value: string, maxAgeSeconds: number) =>
    `${name}=${encodeURIComponent(value)}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    );
    return payload;
  });

  // Every route but the sign-in page needs a session; every POST needs the session's CSRF token.
  app.addHook('preHandler', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path === '/dashboard/login') return;
    const session = await auth.session(cookies(request)[SESSION_COOKIE]);
    if (!session) {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      return reply.code(303).header('location', `/dashboard/login${next}`).send();
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = form(request)._csrf ?? (request.headers['x-csrf-token'] as string | undefined);
      if (!token || !safeEqual(token, session.csrfToken)) {
        return reply
          .code(403)
          .type('text/html; charset=utf-8')
          .send(
            layout(
              { title: 'Refused' },
              html`<h1>Refused</h1>
                <p>The form's CSRF token is missing or stale. Go back, reload the page and try again.</p>`,
            ),
          );
      }
    }
    sessions.set(request, session);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const session = await auth.session(cookies(request)[SESSION_COOKIE]);
    if (!session) return reply.code(303).header('location', '/dashboard/login').send();
    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(layout({ title: 'Not found', csrf: session.csrfToken }, html`<h1>Not found</h1>`));
  });

  const page = (
    request: FastifyRequest,
    reply: FastifyReply,
    title: string,
    active: string,
    body: Html,
    status = 200,
  ) => {
    const session = sessions.get(request);
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(layout({ title, active, csrf: session?.csrfToken ?? '', flash: query(request).msg }, body));
  };
  const csrfField = (request: FastifyRequest) =>
    html`<input type="hidden" name="_csrf" value="${sessions.get(request)?.csrfToken ?? ''}" />`;
  const back = (reply: FastifyReply, to: string, message?: string) =>
    reply
      .code(303)
      .header(
        'location',
        message ? `${to}${to.includes('?') ? '&' : '?'}msg=${encodeURIComponent(message)}` : to,
      )
      .send();

  /** The project + environment a page looks at (`?project=name&env=LIVE`). */
  const scope = async (request: FastifyRequest) => {
    const q = query(request);
    const all = await projects.list();
    const project = all.find((p) => p.name === q.project) ?? all.find((p) => p.name === 'default') ?? all[0];
    const env: Env = q.env === 'TEST' ? 'TEST' : 'LIVE';
    return { all, project, env };
  };
  const scopePicker = (
    path: string,
    all: Project[],
    project: Project | undefined,
    env: Env,
    extra: Html = html``,
  ) =>
    html` <form method="get" action="${path}" class="filters">
      <label
        >Project
        <select name="project">
          ${all.map((p) => html`<option ${p.id === project?.id ? raw('selected') : ''}>${p.name}</option>`)}
        </select></label
      >
      <label
        >Environment
        <select name="env">
          ${(['LIVE', 'TEST'] as const).map((e) => html`<option ${e === env ? raw('selected') : ''}>${e}</option>`)}
        </select></label
      >
      ${extra}<button type="submit">Show</button>
    </form>`;

  const webhookCaller = async (uuid: string): Promise<{ webhook: Webhook; caller: Caller } | undefined> => {
    const webhook = await webhooks.byUuid(uuid);
    const project = webhook ? await projects.findById(webhook.project_id) : undefined;
    return webhook && project ? { webhook, caller: { project, env: webhook.env } } : undefined;
  };

  // ---- sign-in ----------------------------------------------------------------------------------------
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
              <label>User<input name="username" value="admin" autocomplete="username" /></label>
              <label
                >Password<input name="password" type="password" autocomplete="current-password" autofocus
              /></label>
              <button type="submit">Sign in</button>
            </form>
          </div>`,
        ),
      );
  };

  app.get('/login', async (request, reply) => loginPage(reply, safeNext(query(request).next)));

  app.post('/login', async (request, reply) => {
    const body = form(request);
    const expected = cookies(request)[LOGIN_COOKIE];
    if (!expected || !body._login || !safeEqual(expected, body._login)) {
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(
          layout(
            { title: 'Refused' },
            html`<h1>Refused</h1>
              <p>The sign-in form expired; <a href="/dashboard/login">reload it</a>.</p>`,
          ),
        );
    }
    // Guessing is slowed per client address: every attempt is counted (atomically, in the database)
    // before the password is checked; past LOGIN_ATTEMPTS in the window, sign-in answers 429.
    const waitSeconds = await auth.reserveAttempt(request.ip);
    if (waitSeconds !== undefined) {
      return reply
        .code(429)
        .header('retry-after', String(waitSeconds))
        .type('text/html; charset=utf-8')
        .send(
          layout(
            { title: 'Too many attempts' },
            html`<h1>Too many attempts</h1>
              <p>Wait a few minutes and try again.</p>`,
          ),
        );
    }
    const signedIn = await auth.signIn(body.username ?? '', body.password ?? '');
    if (!signedIn) return loginPage(reply, safeNext(body.next), 'Wrong user or password.');
    await auth.clearAttempts(request.ip);
    return reply
      .code(303)
      .header('set-cookie', [
        cookie(SESSION_COOKIE, signedIn.id, Math.floor(settings.dashboardSessionTtlMs / 1000)),
        cookie(LOGIN_COOKIE, '', 0),
      ])
      .header('location', safeNext(body.next))
      .send();
  });

  app.post('/logout', async (request, reply) => {
    await auth.signOut(cookies(request)[SESSION_COOKIE]);
    return reply
      .code(303)
      .header('set-cookie', cookie(SESSION_COOKIE, '', 0))
      .header('location', '/dashboard/login')
      .send();
  });

  // ---- overview ---------------------------------------------------------------------------------------
  app.get('/', async (request, reply) => {
    const { all, project } = await scope(request);
    const days = Math.min(90, Math.max(1, Number(query(request).days) || 7));
    const to = Date.now();
    const hourly = days <= 2;
    const bucketMs = hourly ? 3_600_000 : DAY_MS;
    const end = Math.ceil(to / bucketMs) * bucketMs;
    const buckets = Math.round((days * DAY_MS) / bucketMs);
    const series = await data.series(
      query(request).project ? project?.id : undefined,
      end - buckets * bucketMs,
      end,
      buckets,
    );
    const labels = series.map((b) =>
      hourly ? new Date(b.at).toISOString().slice(11, 13) + 'h' : new Date(b.at).toISOString().slice(5, 10),
    );
    const total = series.reduce((s, b) => s + b.requests, 0);
    const ok = series.reduce((s, b) => s + b.successes, 0);
    const failed = series.reduce((s, b) => s + b.failures, 0);
    const credits = series.reduce((s, b) => s + b.credits, 0);
    const rate = ok + failed ? `${((ok / (ok + failed)) * 100).toFixed(1)} %` : '—';
    const picker = html`<form method="get" action="/dashboard" class="filters">
      <label
        >Project
        <select name="project">
          <option value="">all projects</option>
          ${all.map((p) => html`<option ${query(request).project === p.name ? raw('selected') : ''}>${p.name}</option>`)}
        </select></label
      >
      <label
        >Window
        <select name="days">
          ${[1, 7, 30, 90].map((d) => html`<option value="${d}" ${d === days ? raw('selected') : ''}>${d} day${d > 1 ? 's' : ''}</option>`)}
        </select></label
      >
      <button type="submit">Show</button>
    </form>`;
    return page(
      request,
      reply,
      'Overview',
      'overview',
      html`<h1>Overview</h1>
        ${picker}
        <div class="cards">
          <div class="card">
            <div class="muted">Requests</div>
            <div class="stat" data-stat="requests">${total}</div>
          </div>
          <div class="card">
            <div class="muted">Success rate</div>
            <div class="stat" data-stat="success-rate">${rate}</div>
          </div>
          <div class="card">
            <div class="muted">Failures</div>
            <div class="stat">${failed}</div>
          </div>
          <div class="card">
            <div class="muted">Credits used</div>
            <div class="stat">${credits}</div>
          </div>
        </div>
        <div class="charts">
          ${raw(
            lineChart('Requests', labels, [
              { name: 'success', color: '#14813b', values: series.map((b) => b.successes) },
              { name: 'failure', color: '#c2261b', values: series.map((b) => b.failures) },
            ]),
          )}
          ${raw(lineChart('Success rate', labels, [{ name: 'success %', color: '#2d5be3', values: series.map((b) => (b.successes + b.failures ? (b.successes / (b.successes + b.failures)) * 100 : 0)) }], { unit: '%', max: 100 }))}
          ${raw(
            lineChart(
              'Latency',
              labels,
              [
                { name: 'p50', color: '#2d5be3', values: series.map((b) => b.p50) },
                { name: 'p95', color: '#e38a2d', values: series.map((b) => b.p95) },
              ],
              { unit: 'ms' },
            ),
          )}
          ${raw(lineChart('Credits', labels, [{ name: 'credits', color: '#7a3fd1', values: series.map((b) => b.credits) }]))}
        </div>`,
    );
  });

  // ---- logs -------------------------------------------------------------------------------------------
  app.get('/logs', async (request, reply) => {
    const q = query(request);
    const { all, project } = await scope(request);
    const outcome =
      q.outcome === 'success' || q.outcome === 'failure' || q.outcome === 'pending' ? q.outcome : undefined;
    const parseDate = (value: string | undefined, endOfDay: boolean) => {
      if (!value) return undefined;
      const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
      return Number.isNaN(ms) ? undefined : ms + (endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(value) ? DAY_MS : 0);
    };
    const rows = await data.logs({
      projectId: q.project ? project?.id : undefined,
      env: q.env === 'LIVE' || q.env === 'TEST' ? q.env : undefined,
      outcome,
      urlPattern: q.url || undefined,
      domain: q.domain || undefined,
      from: parseDate(q.from, false),
      to: parseDate(q.to, true),
      limit: 200,
    });
    const names = new Map(all.map((p) => [p.id, p.name]));
    const sel = (name: string, value: string) => (q[name] === value ? raw('selected') : '');
    return page(
      request,
      reply,
      'Logs',
      'logs',
      html`<h1>Logs</h1>
        <form method="get" action="/dashboard/logs" class="filters" id="log-filters">
          <label
            >Project
            <select name="project">
              <option value="">all</option>
              ${all.map((p) => html`<option ${sel('project', p.name)}>${p.name}</option>`)}
            </select></label
          >
          <label
            >Env
            <select name="env">
              <option value="">all</option>
              <option ${sel('env', 'LIVE')}>LIVE</option>
              <option ${sel('env', 'TEST')}>TEST</option>
            </select></label
          >
          <label
            >Outcome
            <select name="outcome">
              <option value="">all</option>
              <option ${sel('outcome', 'success')}>success</option>
              <option ${sel('outcome', 'failure')}>failure</option>
              <option ${sel('outcome', 'pending')}>pending</option>
            </select></label
          >
          <label>URL contains (* wildcard)<input name="url" value="${q.url ?? ''}" /></label>
          <label>Domain<input name="domain" value="${q.domain ?? ''}" placeholder="example.com" /></label>
          <label>From<input type="date" name="from" value="${q.from ?? ''}" /></label>
          <label>To<input type="date" name="to" value="${q.to ?? ''}" /></label>
          <button type="submit">Filter</button>
        </form>
        <table id="logs">
          <thead>
            <tr>
              <th>Time</th>
              <th>Project</th>
              <th>Env</th>
              <th>Status</th>
              <th>URL</th>
              <th>Error</th>
              <th>ms</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr data-log="${row.log_uuid}">
                  <td><a href="/dashboard/monitoring/log/${row.log_uuid}">${isoTime(row.created_at)}</a></td>
                  <td>${names.get(row.project_id) ?? row.project_id}</td>
                  <td>${row.env}</td>
                  <td>${outcomeOf(row.http_status)}</td>
                  <td class="url" title="${row.url}">${row.url}</td>
                  <td>${row.error_code ?? ''}</td>
                  <td>${row.duration_ms}</td>
                  <td>${row.cost}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${rows.length === 0 ? html`<p class="muted">No log matches.</p>` : ''}`,
    );
  });

  // ---- one log ----------------------------------------------------------------------------------------
  app.get('/monitoring/log/:uuid', async (request, reply) => {
    const { uuid } = request.params as { uuid: string };
    const log = await data.findLog(uuid);
    if (!log)
      return page(
        request,
        reply,
        'Log not found',
        'logs',
        html`<h1>Log not found</h1>
          <p>No log ${uuid}; it may have expired with its project's retention.</p>`,
        404,
      );
    const project = await projects.findById(log.project_id);
    const tab = query(request).tab === 'webhook' ? 'webhook' : 'overview';
    const job = log.job_uuid ? await queue.get(log.job_uuid) : undefined;
    const hook = job ? await webhooks.byUuid(job.webhook_uuid) : undefined;
    const phases: Array<[string, number | null | undefined, string]> = [
      ['queue wait', log.queue_wait_ms, '#9aa3b5'],
      ['navigation', log.navigation_ms, '#2d5be3'],
      ['waits', log.wait_ms, '#e38a2d'],
      ['capture', log.capture_ms, '#14813b'],
      ['encode', log.encode_ms, '#7a3fd1'],
    ];
    const known = phases.reduce((s, [, ms]) => s + (ms ?? 0), 0);
    const tabs = html`<nav class="tabs">
      <a href="?tab=overview" class="${tab === 'overview' ? 'on' : ''}">Overview</a>${
        log.job_uuid
          ? html`<a href="?tab=webhook" id="tab-webhook" class="${tab === 'webhook' ? 'on' : ''}">Webhook</a>`
          : ''
      }
    </nav>`;
    let body: Html;
    if (tab === 'webhook' && job) {
      const history = await attempts.forJob(job.id);
      body = html`<section id="webhook-tab" data-refresh="3000">
        <table>
          <tr>
            <th>Job</th>
            <td>${job.id}</td>
          </tr>
          <tr>
            <th>Webhook</th>
            <td>
              ${hook ? html`<a href="/dashboard/webhooks/${hook.uuid}">${hook.name}</a>` : job.webhook_uuid}
            </td>
          </tr>
          <tr>
            <th>State</th>
            <td data-job-state="${job.state}">${job.state}</td>
          </tr>
          <tr>
            <th>Delivery attempts</th>
            <td>${job.delivery_attempts}</td>
          </tr>
          ${
            job.state === 'delivering'
              ? html`<tr>
                  <th>Next attempt</th>
                  <td>${isoTime(job.run_at)}</td>
                </tr>`
              : ''
          }
          ${
            job.last_error
              ? html`<tr>
                  <th>Last error</th>
                  <td>${job.last_error}</td>
                </tr>`
              : ''
          }
        </table>
        ${job.payload_blob && (job.state === 'done' || job.state === 'failed') ? html`<p><form class="inline" method="post" action="/dashboard/jobs/${job.id}/replay">${csrfField(request)}<input type="hidden" name="back" value="/dashboard/monitoring/log/${log.log_uuid}?tab=webhook" /><button type="submit">Replay delivery</button></form></p>` : ''}
        <h2>Attempts</h2>
        ${attemptTable(history)}
        ${
          job.payload_blob
            ? html`<h2>Payload</h2>
                <p class="muted">
                  What was delivered (${job.payload_content_type ?? 'bytes'}), signed as stored.
                </p>
                ${
                  job.payload_content_type?.startsWith('image/')
                    ? html`<img
                        class="shot"
                        id="payload"
                        alt="delivered payload"
                        src="/dashboard/jobs/${job.id}/payload"
                        style="max-width:480px"
                      />`
                    : html`<a href="/dashboard/jobs/${job.id}/payload">open the payload</a>`
                }`
            : ''
        }
      </section>`;
    } else {
      body = html`<div class="cards" style="grid-template-columns:2fr 1fr">
          <div>
            ${log.blob_key ? html`<img class="shot" id="screenshot" alt="screenshot of ${log.url}" src="/dashboard/monitoring/log/${log.log_uuid}/image" />` : html`<div class="card muted">No image${log.http_status === 0 ? ' yet (pending)' : ''}.</div>`}
          </div>
          <div>
            <table>
              <tr>
                <th>Project</th>
                <td>${project?.name ?? log.project_id} (${log.env})</td>
              </tr>
              <tr>
                <th>Outcome</th>
                <td>${outcomeOf(log.http_status)} ${log.error_code ?? ''}</td>
              </tr>
              ${
                log.error_reason
                  ? html`<tr>
                      <th>Reason</th>
                      <td>${log.error_reason}</td>
                    </tr>`
                  : ''
              }
              <tr>
                <th>URL</th>
                <td style="word-break:break-all">${log.url}</td>
              </tr>
              <tr>
                <th>Upstream</th>
                <td>
                  ${log.upstream_status ?? '—'}
                  ${log.final_url && log.final_url !== log.url ? html`→ ${log.final_url}` : ''}
                </td>
              </tr>
              <tr>
                <th>Refused by the egress guard</th>
                <td id="refused">
                  ${log.refused_requests ?? '—'}
                  ${log.refused_hosts && log.refused_requests ? html`(${(JSON.parse(log.refused_hosts) as string[]).join(', ')})` : ''}
                </td>
              </tr>
              <tr>
                <th>Cost</th>
                <td>${log.cost} credits</td>
              </tr>
              <tr>
                <th>Duration</th>
                <td>${log.duration_ms} ms</td>
              </tr>
              <tr>
                <th>Time</th>
                <td>${isoTime(log.created_at)}</td>
              </tr>
              <tr>
                <th>log_uuid</th>
                <td>${log.log_uuid}</td>
              </tr>
            </table>
          </div>
        </div>
        <h2>Timings</h2>
        ${known > 0 ? html`<div class="bar" aria-label="timings">${phases.map(([name, ms, color]) => (ms ? html`<span title="${name}: ${ms} ms" style="width:${((ms / known) * 100).toFixed(2)}%;background:${color}"></span>` : ''))}</div>` : ''}
        <table id="timings">
          <tr>
            ${phases.map(([name]) => html`<th>${name}</th>`)}
            <th>total</th>
          </tr>
          <tr>
            ${phases.map(([, ms]) => html`<td>${ms ?? '—'}${ms != null ? ' ms' : ''}</td>`)}
            <td>${log.duration_ms} ms</td>
          </tr>
        </table>
        <h2>Request</h2>
        <pre id="curl">${curlOf(settings.publicUrl, log.url, log.params, hook?.name)}</pre>
        <details>
          <summary>Parameters (normalised)</summary>
          <pre>${JSON.stringify(JSON.parse(log.params || '{}'), null, 2)}</pre>
        </details>`;
    }
    return page(
      request,
      reply,
      `Log ${uuid}`,
      'logs',
      html`<h1>Log <code>${log.log_uuid}</code></h1>
        ${tabs}${body}`,
    );
  });

  app.get('/monitoring/log/:uuid/image', async (request, reply) => {
    const { uuid } = request.params as { uuid: string };
    const log = await data.findLog(uuid);
    const image = log?.blob_key ? await blobs.get(log.blob_key) : undefined;
    if (!log || !image) return reply.code(404).send('not found');
    return reply.header('content-type', log.content_type ?? 'application/octet-stream').send(image);
  });

  // ---- webhooks ---------------------------------------------------------------------------------------
  const attemptTable = (rows: Awaited<ReturnType<typeof attempts.forJob>>) =>
    html`<table class="attempts">
        <thead>
          <tr>
            <th>Started</th>
            <th>Job</th>
            <th>#</th>
            <th>Status</th>
            <th>Duration</th>
            <th>Error</th>
            <th>Response</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (a) =>
              html`<tr data-status="${a.status_code ?? ''}">
                <td>${a.started_at.replace('T', ' ').slice(0, 19)}</td>
                <td><code>${a.job_uuid.slice(0, 8)}</code></td>
                <td>${a.attempt}</td>
                <td>
                  ${a.success ? html`<span class="ok">${a.status_code ?? ''}</span>` : html`<span class="bad">${a.status_code ?? 'error'}</span>`}
                </td>
                <td>${a.duration_ms} ms</td>
                <td>${a.error ?? ''}</td>
                <td><code>${(a.response_excerpt ?? '').slice(0, 120)}</code></td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${rows.length === 0 ? html`<p class="muted">No delivery attempt yet.</p>` : ''}`;

  app.get('/webhooks', async (request, reply) => {
    const { all, project, env } = await scope(request);
    if (!project)
      return page(
        request,
        reply,
        'Webhooks',
        'webhooks',
        html`<h1>Webhooks</h1>
          <p>No project.</p>`,
      );
    const caller: Caller = { project, env };
    const list = await webhooks.list(caller);
    return page(
      request,
      reply,
      'Webhooks',
      'webhooks',
      html`<h1>Webhooks</h1>
        ${scopePicker('/dashboard/webhooks', all, project, env)}
        <table id="webhooks">
          <thead>
            <tr>
              <th>Name</th>
              <th>URL</th>
              <th>State</th>
              <th>Consecutive failures</th>
              <th>Queued</th>
            </tr>
          </thead>
          <tbody>
            ${await Promise.all(
              list.map(
                async (w) =>
                  html`<tr>
                    <td><a href="/dashboard/webhooks/${w.uuid}">${w.name}</a></td>
                    <td class="url">${w.url}</td>
                    <td>
                      ${w.enabled ? html`<span class="ok">enabled</span>` : html`<span class="bad">disabled</span> ${w.disable_reason ?? ''}`}
                    </td>
                    <td>${w.consecutive_failed_count} / ${settings.webhookDisableAfter}</td>
                    <td>${await queue.pendingCount(services.store.db, w.uuid)}</td>
                  </tr>`,
              ),
            )}
          </tbody>
        </table>
        <h2>New webhook in ${project.name} (${env})</h2>
        <form method="post" action="/dashboard/webhooks" class="filters" id="new-webhook">
          ${csrfField(request)} <input type="hidden" name="project" value="${project.name}" /><input
            type="hidden"
            name="env"
            value="${env}"
          />
          <label>Name<input name="name" required /></label
          ><label>URL<input name="url" required size="40" /></label> <button type="submit">Create</button>
        </form>`,
    );
  });

  const secretPage = (request: FastifyRequest, reply: FastifyReply, webhook: Webhook, what: string) =>
    page(
      request,
      reply,
      'Webhook secret',
      'webhooks',
      html`<h1>${what}: ${webhook.name}</h1>
        <p>The signing secret (shown on this page only; it is not in the page you come back to):</p>
        <p class="secret" id="secret">${webhook.secret}</p>
        <p><a class="button" href="/dashboard/webhooks/${webhook.uuid}">Back to the webhook</a></p>`,
    );

  const failure = (request: FastifyRequest, reply: FastifyReply, error: unknown, back: string) => {
    if (!isApiError(error)) throw error;
    return page(
      request,
      reply,
      'Error',
      'webhooks',
      html`<h1>Could not do that</h1>
        <p class="bad">${error.reason}</p>
        <p><a href="${back}">Back</a></p>`,
      error.definition.httpStatus,
    );
  };

  app.post('/webhooks', async (request, reply) => {
    const body = form(request);
    const project = body.project ? await projects.findByName(body.project) : undefined;
    if (!project) return back(reply, '/dashboard/webhooks', 'Unknown project');
    const caller: Caller = { project, env: body.env === 'TEST' ? 'TEST' : 'LIVE' };
    try {
      const { webhook } = await services.webhookService.create(caller, {
        name: body.name ?? '',
        url: body.url ?? '',
      });
      services.worker.wake();
      return secretPage(request, reply, webhook, 'Webhook created');
    } catch (error) {
      return failure(request, reply, error, `/dashboard/webhooks?project=${project.name}&env=${caller.env}`);
    }
  });

  app.get('/webhooks/:uuid', async (request, reply) => {
    const found = await webhookCaller((request.params as { uuid: string }).uuid);
    if (!found) return page(request, reply, 'Not found', 'webhooks', html`<h1>No such webhook</h1>`, 404);
    const { webhook: w, caller } = found;
    const [history, jobs, stats, events] = await Promise.all([
      attempts.forWebhook(w.uuid, 100),
      data.jobsOfWebhook(w.uuid, 30),
      data.webhookStats(w.uuid),
      data.events(w.project_id, 10),
    ]);
    const action = (name: string, label: string, cls = '') =>
      html`<form class="inline" method="post" action="/dashboard/webhooks/${w.uuid}/${name}">
        ${csrfField(request)}<button type="submit" class="${cls}" data-action="${name}">${label}</button>
      </form> `;
    const warningAt = Math.ceil(settings.webhookDisableAfter * 0.5);
    return page(
      request,
      reply,
      `Webhook ${w.name}`,
      'webhooks',
      html`<h1>Webhook ${w.name} <span class="muted">${caller.project.name} · ${w.env}</span></h1>
        ${!w.enabled ? html`<div class="warn" id="disabled">Disabled${w.disable_reason ? html`: ${w.disable_reason}` : ''}. Jobs wait until it is enabled again.</div>` : ''}
        ${w.enabled && w.consecutive_failed_count >= warningAt ? html`<div class="warn" id="failing">${w.consecutive_failed_count} consecutive failed deliveries: it is disabled automatically at ${settings.webhookDisableAfter}.</div>` : ''}
        <div class="cards">
          <div class="card">
            <div class="muted">State</div>
            <div class="stat" id="state">${w.enabled ? 'enabled' : 'disabled'}</div>
          </div>
          <div class="card">
            <div class="muted">Success rate (last ${stats.attempts} attempts)</div>
            <div class="stat">
              ${stats.successRate === undefined ? '—' : `${(stats.successRate * 100).toFixed(1)} %`}
            </div>
          </div>
          <div class="card">
            <div class="muted">Consecutive failures</div>
            <div class="stat">${w.consecutive_failed_count} / ${settings.webhookDisableAfter}</div>
          </div>
        </div>
        <p>
          ${w.enabled ? action('disable', 'Disable', 'secondary') : action('enable', w.disable_reason && w.disable_reason !== 'disabled by its owner' ? 'Re-enable' : 'Enable')}
          ${action('ping', 'Send test ping')}${action('reveal', 'Reveal secret', 'secondary')}${action('rotate', 'Rotate secret', 'secondary')}${action('delete', 'Delete', 'danger')}
        </p>
        <form method="post" action="/dashboard/webhooks/${w.uuid}/edit" class="filters">
          ${csrfField(request)} <label>Name<input name="name" value="${w.name}" /></label
          ><label>URL<input name="url" value="${w.url}" size="40" /></label>
          <label
            >Queue limit<input name="queue_limit" value="${w.queue_limit ?? ''}" placeholder="plan" size="6"
          /></label>
          <label
            >Max concurrency<input name="max_concurrency" value="${w.max_concurrency ?? ''}" size="6"
          /></label>
          <label>Timeout ms<input name="timeout_ms" value="${w.timeout_ms ?? ''}" size="6" /></label
          ><button type="submit">Save</button>
        </form>
        <div id="live-deliveries" data-refresh="3000">
          <h2>Jobs</h2>
          <table id="jobs">
            <thead>
              <tr>
                <th>Created</th>
                <th>Job</th>
                <th>Type</th>
                <th>State</th>
                <th>Attempts</th>
                <th>Payload</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${jobs.map(
                (j) =>
                  html`<tr data-job="${j.id}" data-state="${j.state}">
                    <td>${isoTime(j.created_at)}</td>
                    <td>
                      ${j.log_uuid ? html`<a href="/dashboard/monitoring/log/${j.log_uuid}?tab=webhook">${j.id.slice(0, 8)}</a>` : j.id.slice(0, 8)}
                    </td>
                    <td>${j.resource_type}</td>
                    <td>${j.state}</td>
                    <td>${j.delivery_attempts}</td>
                    <td>
                      ${j.payload_blob && j.payload_content_type?.startsWith('image/') ? html`<a href="/dashboard/jobs/${j.id}/payload"><img alt="payload" src="/dashboard/jobs/${j.id}/payload" style="max-height:40px" /></a>` : j.payload_blob ? html`<a href="/dashboard/jobs/${j.id}/payload">${j.payload_content_type ?? 'payload'}</a>` : '—'}
                    </td>
                    <td>
                      ${j.payload_blob && (j.state === 'done' || j.state === 'failed') ? html`<form class="inline" method="post" action="/dashboard/jobs/${j.id}/replay">${csrfField(request)}<input type="hidden" name="back" value="/dashboard/webhooks/${w.uuid}" /><button type="submit" data-action="replay">Replay</button></form>` : ''}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
          <h2>Delivery history</h2>
          ${attemptTable(history)}
        </div>
        <h2>Events</h2>
        <table>
          ${events.map(
            (e) =>
              html`<tr>
                <td>${isoTime(e.created_at)}</td>
                <td>${e.kind}</td>
                <td>${e.message}</td>
              </tr>`,
          )}
        </table>`,
    );
  });

  const webhookAction = (
    name: string,
    run: (
      found: { webhook: Webhook; caller: Caller },
      body: Form,
      request: FastifyRequest,
      reply: FastifyReply,
    ) => Promise<unknown>,
  ) =>
    app.post(`/webhooks/:uuid/${name}`, async (request, reply) => {
      const found = await webhookCaller((request.params as { uuid: string }).uuid);
      if (!found) return page(request, reply, 'Not found', 'webhooks', html`<h1>No such webhook</h1>`, 404);
      try {
        return await run(found, form(request), request, reply);
      } catch (error) {
        return failure(request, reply, error, `/dashboard/webhooks/${found.webhook.uuid}`);
      }
    });
  const toWebhook = (w: Webhook) => `/dashboard/webhooks/${w.uuid}`;
  const numberOrNull = (value: string | undefined) =>
    value === undefined || value.trim() === '' ? null : Number(value);

  webhookAction('enable', async ({ webhook, caller }, _b, _r, reply) => {
    await services.webhookService.enable(caller, webhook.uuid);
    return back(reply, toWebhook(webhook), 'Webhook enabled; waiting jobs resume.');
  });
  webhookAction('disable', async ({ webhook, caller }, _b, _r, reply) => {
    await services.webhookService.update(caller, webhook.uuid, { enabled: false });
    return back(reply, toWebhook(webhook), 'Webhook disabled.');
  });
  webhookAction('ping', async ({ webhook, caller }, _b, _r, reply) => {
    await services.webhookService.ping(caller, webhook);
    return back(reply, toWebhook(webhook), 'Test ping queued.');
  });
  webhookAction('reveal', async ({ webhook }, _b, request, reply) =>
    secretPage(request, reply, webhook, 'Secret'),
  );
  webhookAction('rotate', async ({ webhook, caller }, _b, request, reply) =>
    secretPage(
      request,
      reply,
      await services.webhookService.rotateSecret(caller, webhook.uuid),
      'Secret rotated (the previous one keeps signing an extra header during the grace period)',
    ),
  );
  webhookAction('delete', async ({ webhook, caller }, _b, _r, reply) => {
    await services.webhookService.remove(caller, webhook.uuid);
    return back(
      reply,
      `/dashboard/webhooks?project=${caller.project.name}&env=${caller.env}`,
      `Webhook ${webhook.name} deleted.`,
    );
  });
  webhookAction('edit', async ({ webhook, caller }, body, _r, reply) => {
    const updated = await services.webhookService.update(caller, webhook.uuid, {
      ...(body.name ? { name: body.name } : {}),
      ...(body.url ? { url: body.url } : {}),
      queue_limit: numberOrNull(body.queue_limit),
      max_concurrency: numberOrNull(body.max_concurrency),
      timeout_ms: numberOrNull(body.timeout_ms),
    });
    return back(reply, toWebhook(updated), 'Saved.');
  });

  app.post('/jobs/:id/replay', async (request, reply) => {
    const { id } = request.params as { id: string };
    const to = safeNext(form(request).back);
    const job = await queue.get(id);
    if (!job || !(await services.webhookService.replay(job)))
      return back(reply, to, 'Only a delivered or failed job with a stored result can be replayed.');
    return back(reply, to, 'Replay queued.');
  });

  app.get('/jobs/:id/payload', async (request, reply) => {
    const job = await queue.get((request.params as { id: string }).id);
    const payload = job?.payload_blob ? await blobs.get(job.payload_blob) : undefined;
    if (!job || !payload) return reply.code(404).send('not found');
    return reply.header('content-type', job.payload_content_type ?? 'application/octet-stream').send(payload);
  });

  // ---- projects and keys ------------------------------------------------------------------------------
  const projectsPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    list: Project[],
    revealed?: { name: string; keys: Partial<Record<Env, string>> },
  ) =>
    page(
      request,
      reply,
      'Projects',
      'projects',
      html`<h1>Projects & keys</h1>
        ${revealed ? html`<div class="warn" id="revealed-keys"><strong>Keys of ${revealed.name}, shown this once:</strong>${Object.entries(revealed.keys).map(([env, key]) => html`<div>${env}: <span class="secret" data-env="${env}">${key}</span></div>`)}</div>` : ''}
        <table id="projects">
          <thead>
            <tr>
              <th>Project</th>
              <th>Plan</th>
              <th>Limits</th>
              <th>Keys</th>
              <th>Switch</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${list.map(
              (p) =>
                html`<tr data-project="${p.name}">
                  <td>${p.name}</td>
                  <td>
                    <form class="inline" method="post" action="/dashboard/projects/${p.name}/plan">
                      ${csrfField(request)}<select name="plan">
                        ${PLAN_NAMES.map((n) => html`<option ${n === p.plan ? raw('selected') : ''}>${n}</option>`)}
                      </select>
                      <button type="submit" class="secondary">Set</button>
                    </form>
                  </td>
                  <td class="muted">
                    ${p.limits.monthlyCredits} credits/month · concurrency ${p.limits.concurrency} · webhook
                    queue ${p.limits.webhookQueueLimit} · retention ${p.limits.retentionDays} d
                  </td>
                  <td>
                    ${(['LIVE', 'TEST'] as const).map(
                      (env) =>
                        html`<div>
                          ${env} …${p.keyHints[env] ?? '????'}
                          <form
                            class="inline"
                            method="post"
                            action="/dashboard/projects/${p.name}/rotate-key"
                          >
                            ${csrfField(request)}<input type="hidden" name="env" value="${env}" /><button
                              type="submit"
                              class="secondary"
                            >
                              Rotate
                            </button>
                          </form>
                        </div>`,
                    )}
                  </td>
                  <td>
                    <a href="/dashboard/webhooks?project=${p.name}&env=LIVE">LIVE</a> ·
                    <a href="/dashboard/webhooks?project=${p.name}&env=TEST">TEST</a> ·
                    <a href="/dashboard/logs?project=${p.name}">logs</a>
                  </td>
                  <td></td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>New project</h2>
        <form method="post" action="/dashboard/projects" class="filters" id="new-project">
          ${csrfField(request)} <label>Name<input name="name" required /></label
          ><label
            >Plan<select name="plan">
              ${PLAN_NAMES.map((n) => html`<option ${n === settings.defaultPlan ? raw('selected') : ''}>${n}</option>`)}
            </select></label
          ><button type="submit">Create</button>
        </form>`,
    );

  app.get('/projects', async (request, reply) => projectsPage(request, reply, await projects.list()));

  app.post('/projects', async (request, reply) => {
    const body = form(request);
    const plan = (PLAN_NAMES as readonly string[]).includes(body.plan ?? '')
      ? (body.plan as PlanName)
      : settings.defaultPlan;
    try {
      const created = await projects.create(body.name ?? '', plan);
      return projectsPage(request, reply, await projects.list(), {
        name: created.project.name,
        keys: created.keys,
      });
    } catch (error) {
      return back(reply, '/dashboard/projects', (error as Error).message);
    }
  });

  app.post('/projects/:name/rotate-key', async (request, reply) => {
    const { name } = request.params as { name: string };
    const env: Env = form(request).env === 'TEST' ? 'TEST' : 'LIVE';
    try {
      const key = await projects.rotateKey(name, env);
      return projectsPage(request, reply, await projects.list(), { name, keys: { [env]: key } });
    } catch (error) {
      return back(reply, '/dashboard/projects', (error as Error).message);
    }
  });

  app.post('/projects/:name/plan', async (request, reply) => {
    const { name } = request.params as { name: string };
    try {
      await projects.update(name, { plan: form(request).plan as PlanName });
      return back(reply, '/dashboard/projects', `Plan of ${name} changed.`);
    } catch (error) {
      return back(reply, '/dashboard/projects', (error as Error).message);
    }
  });
}
