import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditFilter, type AuditRecord } from '../../audit/audit-log.js';
import { selectField, table, textField } from '../components.js';
import { lenient, parse, type DashboardPage } from '../context.js';
import { html, isoTime } from '../html.js';

const PAGE_SIZE = 50;
/** An export is one answer: this many rows at most (narrow the filters for more). */
export const EXPORT_MAX_ROWS = 50_000;

const filterQuery = z.object({
  actor: lenient(z.string().max(200)),
  action: lenient(z.string().max(64)),
  project: lenient(z.string().max(200)),
  from: lenient(z.string().max(40)),
  to: lenient(z.string().max(40)),
  before: lenient(z.string().max(64)),
  format: lenient(z.enum(['csv', 'json'])),
});

/** `YYYY-MM-DDTHH:MM` (UTC, as the datetime-local field sends it) or any ISO time; else undefined. */
function utcTimeOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A CSV field: quoted when needed; a leading = + - @ is defused so that a spreadsheet does not run it. */
function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The audit log (docs/dashboard.md, "Audit log"): filters, pages, CSV and JSON export. */
const page: DashboardPage = {
  nav: { key: 'audit', href: '/dashboard/audit', label: 'Audit' },
  register(app, ctx) {
    const { audit, projects } = ctx.services;

    const filterOf = async (request: FastifyRequest) => {
      const q = parse(filterQuery, request.query);
      const all = await projects.list();
      const project = q.project ? all.find((p) => p.name === q.project) : undefined;
      const filter: AuditFilter = {
        actor: q.actor || undefined,
        action: q.action || undefined,
        // An unknown project name matches nothing rather than everything.
        projectId: q.project ? (project?.id ?? '-') : undefined,
        from: utcTimeOf(q.from),
        to: utcTimeOf(q.to),
        before: q.before || undefined,
      };
      return { q, all, filter, names: new Map(all.map((p) => [p.id, p.name])) };
    };

    app.get('/audit', async (request, reply) => {
      const { q, all, filter, names } = await filterOf(request);
      const rows = await audit.list(filter, PAGE_SIZE + 1);
      const shown = rows.slice(0, PAGE_SIZE);
      const params = (extra: Record<string, string>) => {
        const search = new URLSearchParams();
        for (const key of ['actor', 'action', 'project', 'from', 'to'] as const) {
          const value = q[key];
          if (value) search.set(key, value);
        }
        for (const [key, value] of Object.entries(extra)) search.set(key, value);
        return search.toString();
      };
      const last = shown.at(-1);
      return ctx.render(request, reply, {
        title: 'Audit log',
        active: 'audit',
        body: html`<h1>Audit log</h1>
          <form method="get" action="/dashboard/audit" class="filters" id="audit-filters">
            ${textField('Actor', 'actor', q.actor, { placeholder: 'admin or key:PROJECT/ENV' })}
            ${selectField('Action', 'action', ['', ...AUDIT_ACTIONS], q.action)}
            ${selectField('Project', 'project', ['', ...all.map((p) => p.name)], q.project)}
            ${textField('From (UTC)', 'from', q.from, { type: 'datetime-local' })}
            ${textField('To (UTC)', 'to', q.to, { type: 'datetime-local' })}
            <button type="submit">Show</button>
          </form>
          <p>
            Export what the filters select:
            <a href="/dashboard/audit/export?${params({ format: 'csv' })}" id="export-csv">CSV</a>
            · <a href="/dashboard/audit/export?${params({ format: 'json' })}" id="export-json">JSON</a>
          </p>
          ${table<AuditRecord>({
            id: 'audit',
            columns: [
              { label: 'Time', cell: (row) => isoTime(row.createdAt), className: 'nowrap' },
              { label: 'Actor', cell: (row) => row.actor },
              { label: 'Action', cell: (row) => row.action },
              {
                label: 'Project',
                cell: (row) => (row.projectId ? (names.get(row.projectId) ?? row.projectId) : ''),
              },
              { label: 'Target', cell: (row) => row.target ?? '' },
              { label: 'Address', cell: (row) => row.sourceAddress },
              { label: 'Detail', cell: (row) => (row.detail ? JSON.stringify(row.detail) : '') },
            ],
            rows: shown,
            empty: 'Nothing recorded for these filters.',
            rowAttributes: (row) => ({ 'data-action': row.action, 'data-actor': row.actor }),
          })}
          ${
            rows.length > PAGE_SIZE && last
              ? html`<p><a href="/dashboard/audit?${params({ before: last.id })}" id="older">Older</a></p>`
              : ''
          }`,
      });
    });

    app.get('/audit/export', async (request, reply) => {
      const { q, filter, names } = await filterOf(request);
      const rows: AuditRecord[] = [];
      let before = filter.before;
      // Read in pages of 1000 (bounded by EXPORT_MAX_ROWS) so that no single query holds the whole log.
      while (rows.length < EXPORT_MAX_ROWS) {
        const batch = await audit.list({ ...filter, before }, Math.min(1000, EXPORT_MAX_ROWS - rows.length));
        rows.push(...batch);
        if (batch.length < 1000) break;
        before = batch.at(-1)?.id;
      }
      const out = rows.map((row) => ({
        id: row.id,
        time: new Date(row.createdAt).toISOString(),
        actor: row.actor,
        action: row.action,
        project: row.projectId ? (names.get(row.projectId) ?? row.projectId) : null,
        target: row.target,
        source_address: row.sourceAddress,
        detail: row.detail,
      }));
      const format = q.format ?? 'csv';
      reply.header('content-disposition', `attachment; filename="snapwire-audit.${format}"`);
      if (format === 'json') return reply.type('application/json; charset=utf-8').send(JSON.stringify(out));
      const header = ['id', 'time', 'actor', 'action', 'project', 'target', 'source_address', 'detail'];
      const lines = out.map((row) =>
        [
          row.id,
          row.time,
          row.actor,
          row.action,
          row.project,
          row.target,
          row.source_address,
          row.detail ? JSON.stringify(row.detail) : '',
        ]
          .map(csvField)
          .join(','),
      );
      return reply.type('text/csv; charset=utf-8').send([header.join(','), ...lines].join('\r\n') + '\r\n');
    });
  },
};

export default page;
