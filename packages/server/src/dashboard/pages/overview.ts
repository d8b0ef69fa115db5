import { z } from 'zod';
import { lineChart, humanValue } from '../charts.js';
import { selectField, statCard, table } from '../components.js';
import { lenient, parse, type DashboardPage } from '../context.js';
import { html, raw } from '../html.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Each range and the width of its buckets: about two dozen points per chart. */
export const RANGES = {
  '1h': { span: HOUR, step: 5 * MINUTE, label: 'last hour' },
  '24h': { span: DAY, step: HOUR, label: 'last 24 hours' },
  '7d': { span: 7 * DAY, step: 6 * HOUR, label: 'last 7 days' },
  '30d': { span: 30 * DAY, step: DAY, label: 'last 30 days' },
} as const;
type RangeName = keyof typeof RANGES;

const query = z.object({
  project: lenient(z.string()),
  range: lenient(z.enum(['1h', '24h', '7d', '30d'])),
  // Links made before ranges existed say ?days=N.
  days: lenient(z.coerce.number().int().positive()),
});

function rangeOf(q: z.infer<typeof query>): RangeName {
  if (q.range) return q.range;
  if (q.days === undefined) return '24h';
  return q.days <= 1 ? '24h' : q.days <= 7 ? '7d' : '30d';
}

/** How long one bucket of a range is, in words ("5 minutes", "an hour", "6 hours", "a day"). */
function bucketName(step: number): string {
  if (step < HOUR) return `${step / MINUTE} minutes`;
  if (step === HOUR) return 'an hour';
  if (step < DAY) return `${step / HOUR} hours`;
  return 'a day';
}

function labelOf(at: number, step: number): string {
  const iso = new Date(at).toISOString();
  if (step < HOUR) return iso.slice(11, 16);
  if (step < DAY) return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
  return iso.slice(5, 10);
}

const page: DashboardPage = {
  nav: { key: 'overview', href: '/dashboard', label: 'Overview' },
  register(app, ctx) {
    const { projects, credits, logMetrics } = ctx.services;
    app.get('/', async (request, reply) => {
      const q = parse(query, request.query);
      const all = await ctx.projects(request);
      const project = q.project ? all.find((p) => p.name === q.project) : undefined;
      const rangeName = rangeOf(q);
      const range = RANGES[rangeName];
      const end = Math.ceil((ctx.now() + 1) / range.step) * range.step;
      const from = end - Math.ceil(range.span / range.step) * range.step;
      const overview = await logMetrics.overview(project?.id, from, end, range.step);
      const series = overview.buckets;
      const labels = series.map((b) => labelOf(b.at, range.step));
      const total = series.reduce((s, b) => s + b.requests, 0);
      const ok = series.reduce((s, b) => s + b.successes, 0);
      const failed = series.reduce((s, b) => s + b.failures, 0);
      const used = series.reduce((s, b) => s + b.credits, 0);
      const rate = ok + failed ? humanValue((ok / (ok + failed)) * 100, 'percent') : '—';
      // Credits left this month: of the chosen project, or of every project together.
      const counted = project ? [project] : all;
      const left = (
        await Promise.all(counted.map(async (p) => p.limits.monthlyCredits - (await credits.used(p.id))))
      ).reduce((a, b) => a + Math.max(0, b), 0);
      const picker = html`<form method="get" action="/dashboard" class="filters" id="overview-filters">
        ${selectField(
          'Project',
          'project',
          [['', 'all projects'], ...all.map((p): [string, string] => [p.name, p.name])],
          project?.name ?? '',
        )}
        ${selectField(
          'Range',
          'range',
          Object.entries(RANGES).map(([name, r]): [string, string] => [name, r.label]),
          rangeName,
        )}
        <button type="submit">Show</button>
      </form>`;
      const rateOf = (b: (typeof series)[number]) =>
        b.successes + b.failures ? (b.successes / (b.successes + b.failures)) * 100 : null;
      return ctx.render(request, reply, {
        title: 'Overview',
        active: 'overview',
        body: html`<h1>Overview</h1>
          ${picker}
          <div class="cards">
            ${statCard('Requests', humanValue(total), 'requests')}
            ${statCard('Success rate', rate, 'success-rate')}
            ${statCard('Failures', humanValue(failed), 'failures')}
            ${statCard('Credits used', humanValue(used), 'credits-used')}
            ${statCard('Credits left this month', humanValue(left), 'credits-left')}
          </div>
          <div class="charts">
            ${raw(
              lineChart(
                'Requests',
                labels,
                [
                  { name: 'success', color: '#14813b', values: series.map((b) => b.successes) },
                  { name: 'failure', color: '#c2261b', values: series.map((b) => b.failures) },
                ],
                { kind: 'bars', id: 'requests' },
              ),
            )}
            ${raw(
              lineChart(
                'Success rate',
                labels,
                [{ name: 'success %', color: '#2d5be3', values: series.map(rateOf) }],
                { unit: 'percent', max: 100, id: 'success-rate' },
              ),
            )}
            ${raw(
              lineChart(
                'Latency',
                labels,
                [
                  { name: 'p50', color: '#2d5be3', values: series.map((b) => b.p50) },
                  { name: 'p95', color: '#e38a2d', values: series.map((b) => b.p95) },
                ],
                { unit: 'ms', id: 'latency' },
              ),
            )}
            ${raw(
              lineChart(
                'Credits',
                labels,
                [{ name: 'credits', color: '#7a3fd1', values: series.map((b) => b.credits) }],
                { kind: 'bars', id: 'credits' },
              ),
            )}
          </div>
          <p class="muted">
            Each bar or point covers ${bucketName(range.step)} (UTC). Buckets without a finished request are
            gaps in the rate and latency charts.
          </p>
          <div class="charts">
            <div>
              <h2>Top errors</h2>
              ${table({
                id: 'top-errors',
                columns: [
                  {
                    label: 'Error',
                    cell: (e) =>
                      html`<a
                        href="/dashboard/logs?outcome=failure${project ? `&project=${project.name}` : ''}"
                        >${e.code}</a
                      >`,
                  },
                  { label: 'Requests', cell: (e) => humanValue(e.count) },
                ],
                rows: overview.topErrors,
                empty: 'No failed request in this range: errors would be counted here by code.',
              })}
            </div>
            <div>
              <h2>Top domains</h2>
              ${table({
                id: 'top-domains',
                columns: [
                  {
                    label: 'Domain',
                    cell: (d) =>
                      html`<a href="/dashboard/logs?domain=${encodeURIComponent(d.domain)}">${d.domain}</a>`,
                  },
                  { label: 'Requests', cell: (d) => humanValue(d.requests) },
                  { label: 'Failures', cell: (d) => humanValue(d.failures) },
                ],
                rows: overview.topDomains,
                empty: 'No request in this range: the most captured domains would be listed here.',
              })}
            </div>
          </div>`,
      });
    });
  },
};

export default page;
