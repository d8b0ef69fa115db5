import { esc } from './html.js';

export type ChartUnit = 'count' | 'ms' | 'percent';

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/**
 * The one number formatter of the dashboard (cards, tables, axes, row counts): counts in full with
 * thousands separators (16,260; 1,000,000), durations in ms, s or min (1234 ms -> "1.2 s"), percentages
 * with at most one decimal (99.5 %).
 */
export function humanValue(value: number, unit: ChartUnit = 'count'): string {
  if (unit === 'percent') return `${Number.isInteger(value) ? value : value.toFixed(1)} %`;
  if (unit === 'ms') {
    if (value >= 60_000) return `${trim(value / 60_000)} min`;
    if (value >= 1000) return `${trim(value / 1000)} s`;
    return `${Math.round(value)} ms`;
  }
  return GROUPED.format(value);
}

/** A round axis top at or above `value` (47 -> 50, 2.8 k -> 3 k), so the mid line is round too. */
function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((f) => f * magnitude >= value) ?? 10;
  return step * magnitude;
}

function trim(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '');
}

export interface ChartSeries {
  name: string;
  color: string;
  /** null: no data in that bucket, drawn as a gap rather than as zero. */
  values: Array<number | null>;
}

export interface ChartOptions {
  unit?: ChartUnit;
  max?: number;
  /**
   * `bars` (counts: one stacked bar per bucket, so that a range whose traffic sits in one bucket still
   * shows a bar) or `lines` (rates and latencies: a line per run of known buckets, a dot for a lone one).
   */
  kind?: 'bars' | 'lines';
  /** data-chart of the figure (tests and links find a chart by it). */
  id?: string;
}

// The plot is an SVG stretched to its box (preserveAspectRatio none, strokes that do not scale), and the
// axis labels are HTML beside it: text keeps its size at every width, 11 px on a phone as on a desktop,
// instead of shrinking with a viewBox.
const PLOT_WIDTH = 1000;
const PLOT_HEIGHT = 100;
/** At most this many x labels; on a phone every other one is hidden (class `minor`). */
const MAX_X_LABELS = 8;

/** A small server-rendered chart of one or more series over the same buckets. No script needed. */
export function lineChart(
  title: string,
  labels: string[],
  series: ChartSeries[],
  options: ChartOptions = {},
): string {
  const kind = options.kind ?? 'lines';
  const count = Math.max(1, labels.length);
  const stackTotals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const known =
    kind === 'bars' ? stackTotals : series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const ceiling = niceCeiling(Math.max(1, ...known));
  // Counts are whole: a small odd top (3) would put 1.5 requests on the middle line.
  const max =
    options.max ?? ((options.unit ?? 'count') === 'count' && ceiling % 2 === 1 ? ceiling + 1 : ceiling);
  const x = (index: number) => ((index + 0.5) / count) * PLOT_WIDTH;
  const y = (value: number) => PLOT_HEIGHT - (value / max) * PLOT_HEIGHT;
  const percent = (index: number) => ((index + 0.5) / count) * 100;

  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line class="grid" x1="0" x2="${PLOT_WIDTH}" y1="${y(max * f)}" y2="${y(max * f)}" vector-effect="non-scaling-stroke"/>`,
    )
    .join('');
  // Each label centred on its grid line, except the bottom one, which sits above the axis (clear of the
  // x labels).
  const yLabels = [0, 0.5, 1]
    .map(
      (f) =>
        `<span style="bottom:${f * 100}%${f === 0 ? ';transform:none' : ''}">${esc(humanValue(max * f, options.unit))}</span>`,
    )
    .join('');
  const every = Math.max(1, Math.ceil(labels.length / MAX_X_LABELS));
  let shown = 0;
  const xLabels = labels
    .map((label, index) => {
      if (index % every !== 0) return '';
      const minor = shown++ % 2 === 1;
      // Centred under its bucket, but kept inside the plot at either end.
      const at = percent(index);
      const shift = at < 8 ? '0' : at > 92 ? '-100%' : '-50%';
      return `<span${minor ? ' class="minor"' : ''} style="left:${at.toFixed(2)}%;transform:translateX(${shift})">${esc(label)}</span>`;
    })
    .join('');

  let marks = '';
  if (kind === 'bars') {
    const width = (PLOT_WIDTH / count) * 0.72;
    marks = labels
      .map((label, i) => {
        let base = 0;
        return series
          .map((s) => {
            const value = s.values[i] ?? 0;
            if (value <= 0) return '';
            const top = base + value;
            const rect = `<rect class="chart-bar" x="${(x(i) - width / 2).toFixed(2)}" y="${y(top).toFixed(2)}" width="${width.toFixed(2)}" height="${(y(base) - y(top)).toFixed(2)}" style="fill:${s.color}"><title>${esc(`${label}: ${humanValue(value, options.unit)} ${s.name}`)}</title></rect>`;
            base = top;
            return rect;
          })
          .join('');
      })
      .join('');
  } else {
    // A run of known values is one polyline; a lone known value between gaps is a dot (a zero-length
    // line with round caps: it stays round however the plot is stretched).
    marks = series
      .map((s) => {
        const runs: Array<Array<[number, number, number]>> = [[]];
        s.values.forEach((v, i) => {
          if (v === null) runs.push([]);
          else runs[runs.length - 1]?.push([x(i), y(v), v]);
        });
        return runs
          .filter((run) => run.length > 0)
          .map((run) => {
            const [first] = run;
            if (run.length === 1 && first) {
              const [px, py, value] = first;
              return `<line class="dot" x1="${px.toFixed(1)}" y1="${py.toFixed(2)}" x2="${px.toFixed(1)}" y2="${py.toFixed(2)}" style="stroke:${s.color}" stroke-width="7" stroke-linecap="round" vector-effect="non-scaling-stroke"><title>${esc(`${s.name}: ${humanValue(value, options.unit)}`)}</title></line>`;
            }
            return `<polyline fill="none" style="stroke:${s.color}" stroke-width="2" stroke-linejoin="round" vector-effect="non-scaling-stroke" points="${run
              .map(([px, py]) => `${px.toFixed(1)},${py.toFixed(2)}`)
              .join(' ')}"><title>${esc(s.name)}</title></polyline>`;
          })
          .join('');
      })
      .join('');
  }
  const legend = series
    .map((s) => `<li><i class="swatch" style="background:${s.color}"></i>${esc(s.name)}</li>`)
    .join('');
  return `<figure class="card chart" style="margin:0"${options.id ? ` data-chart="${esc(options.id)}"` : ''}><figcaption><strong>${esc(title)}</strong><ul class="legend">${legend}</ul></figcaption><div class="plot"><div class="y-axis" aria-hidden="true">${yLabels}</div><svg role="img" aria-label="${esc(
    title,
  )}" viewBox="0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}" preserveAspectRatio="none">${grid}${marks}</svg><div class="x-axis" aria-hidden="true">${xLabels}</div></div></figure>`;
}
