import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Project } from '../../accounts/projects.js';
import { decodeCursor, encodeCursor, LOG_KINDS, type LogFilter } from '../../logs/log-queries.js';
import type { ScreenshotLog } from '../../logs/log-store.js';
import { humanValue } from '../charts.js';
import { outcomeOf, selectField, table, textField, upstreamOf } from '../components.js';
import { envField, lenient, parse, type DashboardContext, type DashboardPage } from '../context.js';
import { html, isoTime } from '../html.js';
import { formatOf, kindOf } from '../log-kinds.js';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const query = z.object({
  project: lenient(z.string()),
  env: envField,
  kind: lenient(z.enum(LOG_KINDS)),
  outcome: lenient(z.enum(['success', 'failure', 'pending'])),
  url: lenient(z.string().max(2000)),
  domain: lenient(z.string().max(300)),
  from: lenient(z.string().max(40)),
  to: lenient(z.string().max(40)),
  /** Where the previous page stopped (opaque). */
  cursor: lenient(z.string().max(200)),
  /** How many rows came before this page (for "rows 51-100 of 300"). */
  seen: lenient(z.coerce.number().int().min(0)),
  limit: lenient(z.coerce.number().int().min(10).max(500)),
});
type LogsQuery = z.infer<typeof query>;

/** A day (YYYY-MM-DD, UTC) or an ISO time; `to` of a day includes that whole day. */
function timeOf(value: string | undefined, endOfDay: boolean): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? undefined : ms + (endOfDay && DATE.test(value) ? DAY_MS : 0);
}

function filterOf(q: LogsQuery, all: Project[]): LogFilter {
  return {
    // An unknown project name matches nothing rather than everything.
    projectId: q.project ? (all.find((p) => p.name === q.project)?.id ?? '-') : undefined,
    env: q.env,
    kind: q.kind,
    outcome: q.outcome,
    urlPattern: q.url || undefined,
    domain: q.domain || undefined,
    from: timeOf(q.from, false),
    to: timeOf(q.to, true),
  };
}

/** The query string of the filters only (paging and export links keep them). */
function filterParams(q: LogsQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of ['project', 'env', 'kind', 'outcome', 'url', 'domain', 'from', 'to'] as const) {
    const value = q[name];
    if (value) params.set(name, value);
  }
  return params;
}

const modeOf = (log: ScreenshotLog) => (log.job_uuid ? 'async' : 'sync');
const hasThumbnail = (log: ScreenshotLog) => Boolean(log.blob_key && log.content_type?.startsWith('image/'));

const EXPORT_COLUMNS = [
  'log_uuid',
  'created_at',
  'project',
  'env',
  'kind',
  'status',
  'upstream_status',
  'format',
  'mode',
  'url',
  'final_url',
  'error_code',
  'error_reason',
  'duration_ms',
  'cost',
] as const;

function exportRow(log: ScreenshotLog, names: Map<string, string>): Record<string, string | number | null> {
  return {
    log_uuid: log.log_uuid,
    created_at: new Date(log.created_at).toISOString(),
    project: names.get(log.project_id) ?? log.project_id,
    env: log.env,
    kind: kindOf(log),
    status: log.http_status,
    upstream_status: log.upstream_status,
    format: formatOf(log),
    mode: modeOf(log),
    url: log.url,
    final_url: log.final_url,
    error_code: log.error_code,
    error_reason: log.error_reason,
    duration_ms: log.duration_ms,
    cost: log.cost,
  };
}

/** RFC 4180 quoting; a text cell starting like a formula is prefixed with ' so spreadsheets show it as text. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function* csvLines(ctx: DashboardContext, filter: LogFilter, names: Map<string, string>) {
  yield `${EXPORT_COLUMNS.join(',')}\r\n`;
  for await (const log of ctx.services.logQueries.all(filter)) {
    const row = exportRow(log, names);
    yield `${EXPORT_COLUMNS.map((column) => csvCell(row[column] ?? null)).join(',')}\r\n`;
  }
}

async function* jsonLines(ctx: DashboardContext, filter: LogFilter, names: Map<string, string>) {
  yield '[';
  let first = true;
  for await (const log of ctx.services.logQueries.all(filter)) {
    yield `${first ? '' : ','}\n${JSON.stringify(exportRow(log, names))}`;
    first = false;
  }
  yield '\n]\n';
}

const page: DashboardPage = {
  nav: { key: 'logs', href: '/dashboard/logs', label: 'Logs' },
  register(app, ctx) {
    const { projects, logQueries } = ctx.services;
    const filtersOf = async (request: FastifyRequest) => {
      const q = parse(query, request.query);
      const all = await ctx.projects(request);
      return { q, all, filter: filterOf(q, all), names: new Map(all.map((p) => [p.id, p.name])) };
    };

    app.get('/logs', async (request, reply) => {
      const { q, all, filter, names } = await filtersOf(request);
      const limit = q.limit ?? 50;
      const seen = q.seen ?? 0;
      const [{ rows, next }, total] = await Promise.all([
        logQueries.page(filter, limit, decodeCursor(q.cursor)),
        logQueries.count(filter),
      ]);
      const params = filterParams(q);
      const withParams = (extra: Record<string, string>) => {
        const out = new URLSearchParams(params);
        for (const [name, value] of Object.entries(extra)) out.set(name, value);
        if (q.limit) out.set('limit', String(q.limit));
        return `/dashboard/logs?${out.toString()}`;
      };
      const position =
        rows.length === 0
          ? `0 of ${humanValue(total)}`
          : `${humanValue(seen + 1)}–${humanValue(seen + rows.length)} of ${humanValue(total)}`;
      const pager = html`<nav class="pager" aria-label="pages">
        <span id="log-position" data-total="${total}">Rows ${position}</span>
        ${q.cursor ? html`<a href="${withParams({})}" id="first-page">Newest</a>` : ''}
        ${
          next
            ? html`<a
                href="${withParams({ cursor: encodeCursor(next), seen: String(seen + rows.length) })}"
                id="next-page"
                rel="next"
                >Older →</a
              >`
            : ''
        }
        <span class="muted"
          >Export the ${humanValue(total)} matching rows:
          <a href="/dashboard/logs/export.csv?${params.toString()}" id="export-csv" download>CSV</a> ·
          <a href="/dashboard/logs/export.json?${params.toString()}" id="export-json" download>JSON</a></span
        >
      </nav>`;
      return ctx.render(request, reply, {
        title: 'Logs',
        active: 'logs',
        body: html`<h1>Logs</h1>
          <form method="get" action="/dashboard/logs" class="filters" id="log-filters">
            ${selectField(
              'Project',
              'project',
              [['', 'all'], ...all.map((p): [string, string] => [p.name, p.name])],
              q.project ?? '',
            )}
            ${selectField('Env', 'env', [['', 'all'], 'LIVE', 'TEST'], q.env ?? '')}
            ${selectField('API', 'kind', [['', 'all'], ...LOG_KINDS], q.kind ?? '')}
            ${selectField('Outcome', 'outcome', [['', 'all'], 'success', 'failure', 'pending'], q.outcome ?? '')}
            ${textField('URL contains (* wildcard)', 'url', q.url)}
            ${textField('Domain', 'domain', q.domain, { placeholder: 'example.com' })}
            ${textField('From', 'from', q.from, { type: 'date' })}
            ${textField('To', 'to', q.to, { type: 'date' })}
            <button type="submit">Filter</button>
          </form>
          ${pager}
          ${table({
            id: 'logs',
            // Below 700 px each row is three short lines (time and status; URL; the rest) instead of a
            // card of twelve labelled lines: 50 rows stay a few phone screens long.
            className: 'compact',
            rows,
            rowAttributes: (row) => ({ 'data-log': row.log_uuid }),
            empty:
              total === 0 && params.toString() === ''
                ? 'No request yet: every /screenshot, /scrape and /extraction call (success or failure) is logged here.'
                : 'No log matches these filters.',
            columns: [
              {
                label: 'Time',
                className: 'nowrap lead',
                cell: (row) =>
                  html`<a href="/dashboard/monitoring/log/${row.log_uuid}">${isoTime(row.created_at)}</a>`,
              },
              {
                label: 'Shot',
                cellClass: (row) => (hasThumbnail(row) ? 'lead-thumb' : 'phone-hidden'),
                cell: (row) =>
                  hasThumbnail(row)
                    ? html`<img
                        class="thumb"
                        loading="lazy"
                        alt=""
                        src="/dashboard/monitoring/log/${row.log_uuid}/image?thumb=1"
                      />`
                    : '',
              },
              { label: 'Project', cell: (row) => names.get(row.project_id) ?? row.project_id },
              { label: 'Env', cell: (row) => row.env },
              {
                label: 'API',
                className: 'labelled',
                cell: (row) => html`<span data-kind="${kindOf(row)}">${kindOf(row)}</span>`,
              },
              { label: 'Status', className: 'lead-end', cell: (row) => outcomeOf(row.http_status) },
              { label: 'Upstream', className: 'labelled', cell: (row) => upstreamOf(row.upstream_status) },
              { label: 'Format', cell: formatOf },
              { label: 'Mode', cell: modeOf },
              {
                label: 'URL',
                className: 'url',
                cell: (row) => html`<span title="${row.url}">${row.url}</span>`,
              },
              {
                label: 'Error',
                cellClass: (row) => (row.error_code ? '' : 'phone-hidden'),
                // A code may break after each `::`: the table then fits the window with the API column.
                cell: (row) =>
                  row.error_code
                    ? html`<span
                        >${row.error_code.split('::').map((part, i) => (i === 0 ? part : html`::<wbr />${part}`))}</span
                      >`
                    : '',
              },
              { label: 'Time taken', className: 'num', cell: (row) => humanValue(row.duration_ms, 'ms') },
              { label: 'Cost', className: 'num labelled', cell: (row) => humanValue(row.cost) },
            ],
          })}
          ${rows.length > 0 ? pager : ''}`,
      });
    });

    app.get('/logs/export.csv', async (request, reply) => {
      const { filter, names } = await filtersOf(request);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="snapwire-logs.csv"')
        .send(Readable.from(csvLines(ctx, filter, names)));
    });

    app.get('/logs/export.json', async (request, reply) => {
      const { filter, names } = await filtersOf(request);
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', 'attachment; filename="snapwire-logs.json"')
        .send(Readable.from(jsonLines(ctx, filter, names)));
    });
  },
};

export default page;
