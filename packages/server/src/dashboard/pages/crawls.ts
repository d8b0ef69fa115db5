import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isApiError } from '../../errors.js';
import { postButton, statCard, table } from '../components.js';
import { lenient, parse, scopePicker, type DashboardPage, type Env } from '../context.js';
import { html, isoTime } from '../html.js';
import { formOf } from '../session.js';

const LIST_LIMIT = 100;
const URLS_PER_PAGE = 200;
const idParams = z.object({ uuid: z.string().regex(/^[0-9A-Za-z-]{1,64}$/) });
const URL_STATUSES = ['visited', 'failed', 'skipped', 'pending'] as const;
const urlsQuery = z.object({
  status: lenient(z.enum(URL_STATUSES)),
  page: lenient(z.coerce.number().int().min(1).max(100_000)),
});

const scopeQuery = (project: string, env: Env) => `project=${encodeURIComponent(project)}&env=${env}`;
const secondsToMs = (s: number | null) => (s === null ? null : s * 1000);
const statusCell = (status: string) =>
  status === 'DONE'
    ? html`<span class="ok">${status}</span>`
    : status === 'CANCELLED'
      ? html`<span class="bad">${status}</span>`
      : status;

/**
 * The crawls of a project (POST /crawl) and one crawl: live counts, its URLs by status (paged, each
 * fetched page linked to its log), depths, and Cancel.
 */
const page: DashboardPage = {
  nav: { key: 'crawls', href: '/dashboard/crawls', label: 'Crawls' },
  register(app, ctx) {
    const { crawls } = ctx.services;

    app.get('/crawls', async (request, reply) => {
      const { all, project, env } = await ctx.scope(request);
      if (!project) {
        return ctx.render(request, reply, {
          title: 'Crawls',
          active: 'crawls',
          body: html`<h1>Crawls</h1>
            <p class="empty">
              No project yet: create one on <a href="/dashboard/projects">Projects & keys</a>.
            </p>`,
        });
      }
      const list = await crawls.list({ project, env }, LIST_LIMIT);
      const scope = scopeQuery(project.name, env);
      return ctx.render(request, reply, {
        title: 'Crawls',
        active: 'crawls',
        body: html`<h1>Crawls</h1>
          ${scopePicker('/dashboard/crawls', all, project, env)}
          ${table({
            id: 'crawls',
            rows: list,
            empty: `No crawl in ${project.name} (${env}) yet: POST /crawl with a key of this project starts one.`,
            rowAttributes: (c) => ({ 'data-crawl': c.crawler_uuid }),
            columns: [
              {
                label: 'Seed URL',
                className: 'url',
                cell: (c) => html`<a href="/dashboard/crawls/${c.crawler_uuid}?${scope}">${c.seed_url}</a>`,
              },
              { label: 'Status', cell: (c) => statusCell(c.status) },
              { label: 'Visited', cell: (c) => c.state.urls_visited },
              { label: 'Failed', cell: (c) => c.state.urls_failed },
              { label: 'Queued', cell: (c) => c.state.urls_to_crawl },
              { label: 'Credits', cell: (c) => c.state.api_credit_used },
              {
                label: 'Started',
                className: 'nowrap',
                cell: (c) => isoTime(secondsToMs(c.state.start_time)),
              },
              { label: 'Stop reason', cell: (c) => c.state.stop_reason ?? '' },
            ],
          })}`,
      });
    });

    const notFound = (request: FastifyRequest, reply: FastifyReply) =>
      ctx.render(request, reply, {
        title: 'Not found',
        active: 'crawls',
        status: 404,
        body: html`<h1>No such crawl in this project</h1>
          <p><a href="/dashboard/crawls">All crawls</a></p>`,
      });

    app.get('/crawls/:uuid', async (request, reply) => {
      const id = idParams.safeParse(request.params);
      const { project, env } = await ctx.scope(request);
      if (!id.success || !project) return notFound(request, reply);
      const caller = { project, env };
      const shown = parse(urlsQuery, request.query);
      const pageNumber = shown.page ?? 1;
      let status, overview;
      try {
        status = await crawls.status(caller, id.data.uuid);
        overview = await crawls.overview(caller, id.data.uuid, {
          offset: (pageNumber - 1) * URLS_PER_PAGE,
          limit: URLS_PER_PAGE,
          ...(shown.status ? { status: shown.status } : {}),
        });
      } catch (error) {
        if (isApiError(error)) return notFound(request, reply);
        throw error;
      }
      const s = status.state;
      const finished = status.is_finished;
      const deepest = Math.max(1, ...overview.depths.map((d) => d.count));
      const scope = scopeQuery(project.name, env);
      const inStatus = {
        visited: s.urls_visited,
        failed: s.urls_failed,
        skipped: s.urls_skipped,
        pending: s.urls_to_crawl,
      };
      const matching = shown.status ? inStatus[shown.status] : s.urls_extracted;
      const urlsHref = (filter: string | undefined, pageAt: number) =>
        `/dashboard/crawls/${status.crawler_uuid}?${scope}${filter ? `&status=${filter}` : ''}${
          pageAt > 1 ? `&page=${pageAt}` : ''
        }#urls`;
      const first = (pageNumber - 1) * URLS_PER_PAGE;
      return ctx.render(request, reply, {
        title: `Crawl ${overview.seedUrl}`,
        active: 'crawls',
        body: html`<h1>Crawl of ${overview.seedUrl}</h1>
          <p class="muted">
            ${status.crawler_uuid} · ${project.name} (${env}) ·
            <a href="/dashboard/crawls?${scope}">All crawls</a>
          </p>
          <div class="cards" id="crawl-counts">
            ${statCard('Status', statusCell(status.status), 'status')}
            ${statCard('Visited', s.urls_visited, 'visited')} ${statCard('Failed', s.urls_failed, 'failed')}
            ${statCard('Skipped', s.urls_skipped, 'skipped')} ${statCard('Queued', s.urls_to_crawl, 'queued')}
            ${statCard('Credits', s.api_credit_used, 'credits')}
          </div>
          <p>
            Started
            ${isoTime(secondsToMs(s.start_time))}${s.stop_reason ? ` · stopped: ${s.stop_reason}` : ''}
          </p>
          ${
            finished
              ? ''
              : postButton({
                  action: `/dashboard/crawls/${status.crawler_uuid}/cancel`,
                  label: 'Cancel crawl',
                  csrf: ctx.csrf(request),
                  className: 'danger',
                  name: 'cancel',
                  confirm: 'Cancel this crawl? Its queued URLs are skipped.',
                  hidden: { project: project.name, env },
                })
          }
          <h2>URLs by depth</h2>
          ${table({
            id: 'depths',
            rows: overview.depths,
            empty: 'No URL found yet.',
            columns: [
              { label: 'Depth', cell: (d) => d.depth },
              { label: 'URLs', cell: (d) => d.count },
              {
                label: '',
                cell: (d) =>
                  html`<div class="bar">
                    <span style="width:${Math.round((d.count / deepest) * 100)}%;background:var(--ok)"></span>
                  </div>`,
              },
            ],
          })}
          <h2 id="urls">URLs, in discovery order</h2>
          <nav class="pager" aria-label="URL statuses" id="url-filter">
            ${[undefined, ...URL_STATUSES].map((filter) =>
              filter === shown.status
                ? html`<strong data-filter="${filter ?? 'all'}"
                    >${filter ?? 'all'} (${filter ? inStatus[filter] : s.urls_extracted})</strong
                  >`
                : html`<a href="${urlsHref(filter, 1)}" data-filter="${filter ?? 'all'}"
                    >${filter ?? 'all'} (${filter ? inStatus[filter] : s.urls_extracted})</a
                  >`,
            )}
          </nav>
          ${table({
            id: 'crawl-urls',
            rows: overview.urls,
            empty: shown.status
              ? `No ${shown.status} URL${pageNumber > 1 ? ' on this page' : ''}.`
              : 'No URL yet: the seed URL appears here once the crawl starts.',
            rowAttributes: (u) => ({ 'data-status': u.status }),
            columns: [
              { label: 'URL', className: 'url', cell: (u) => u.url },
              { label: 'Depth', cell: (u) => u.depth },
              { label: 'Status', cell: (u) => u.status },
              { label: 'HTTP', cell: (u) => u.httpStatus ?? '' },
              { label: 'Reason', cell: (u) => u.reason ?? '' },
              {
                label: 'Log',
                // A page fetched (visited, or failed on its answer) has a log; one never fetched has none.
                cell: (u) =>
                  u.logUuid ? html`<a href="/dashboard/monitoring/log/${u.logUuid}" data-log>log</a>` : '',
              },
            ],
          })}
          <nav class="pager" aria-label="URL pages">
            <span id="url-position" data-total="${matching}"
              >${
                overview.urls.length === 0
                  ? `0 of ${matching}`
                  : `${first + 1}–${first + overview.urls.length} of ${matching}`
              }</span
            >
            ${
              pageNumber > 1
                ? html`<a href="${urlsHref(shown.status, pageNumber - 1)}" id="urls-previous" rel="prev"
                    >← Previous</a
                  >`
                : ''
            }
            ${
              first + overview.urls.length < matching
                ? html`<a href="${urlsHref(shown.status, pageNumber + 1)}" id="urls-next" rel="next"
                    >Next →</a
                  >`
                : ''
            }
          </nav>`,
      });
    });

    app.post('/crawls/:uuid/cancel', async (request, reply) => {
      const id = idParams.safeParse(request.params);
      const body = formOf(request);
      const project = (await ctx.services.projects.list()).find((p) => p.name === body.project);
      const env: Env = body.env === 'TEST' ? 'TEST' : 'LIVE';
      if (!id.success || !project) return ctx.back(reply, '/dashboard/crawls', 'Unknown crawl');
      const to = `/dashboard/crawls/${id.data.uuid}?${scopeQuery(project.name, env)}`;
      try {
        await crawls.cancel({ project, env }, id.data.uuid);
      } catch (error) {
        if (isApiError(error)) return ctx.back(reply, '/dashboard/crawls', 'No such crawl in this project');
        throw error;
      }
      return ctx.back(reply, to, 'Crawl cancelled.');
    });
  },
};

export default page;
