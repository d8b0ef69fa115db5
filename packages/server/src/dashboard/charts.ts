import { esc } from './html.js';

export type ChartUnit = 'count' | 'ms' | 'percent';

/** Human units for axes and cards: 4400 -> "4.4 k", 1234 ms -> "1.2 s", 99.5 % -> "99.5 %". */
export function humanValue(value: number, unit: ChartUnit = 'count'): string {
  if (unit === 'percent') return `${Number.isInteger(value) ? value : value.toFixed(1)} %`;
  if (unit === 'ms') {
    if (value >= 60_000) return `${trim(value / 60_000)} min`;
    if (value >= 1000) return `${trim(value / 1000)} s`;
    return `${Math.round(value)} ms`;
  }
  if (value >= 1_000_000) return `${trim(value / 1_000_000)} M`;
  if (value >= 1000) return `${trim(value / 1000)} k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
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

/** A small server-rendered SVG chart: one or more series over the same buckets. No script needed. */
export function lineChart(
  title: string,
  labels: string[],
  series: ChartSeries[],
  options: { unit?: ChartUnit; max?: number } = {},
): string {
  const width = 560;
  const height = 180;
  const pad = { left: 52, right: 10, top: 22, bottom: 24 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const known = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = options.max ?? niceCeiling(Math.max(1, ...known));
  const x = (index: number) => pad.left + (labels.length <= 1 ? 0 : (index / (labels.length - 1)) * innerW);
  const y = (value: number) => pad.top + innerH - (value / max) * innerH;
  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eceef2"/>` +
        `<text x="${pad.left - 4}" y="${y(max * f) + 4}" font-size="10" text-anchor="end" fill="#6b7385">${esc(
          humanValue(max * f, options.unit),
        )}</text>`,
    )
    .join('');
  const ticks = labels
    .map((label, index) =>
      index % Math.max(1, Math.ceil(labels.length / 6)) === 0
        ? `<text x="${x(index)}" y="${height - 6}" font-size="10" text-anchor="middle" fill="#6b7385">${esc(label)}</text>`
        : '',
    )
    .join('');
  // A run of known values is one polyline; a lone known value between gaps is a dot.
  const lines = series
    .map((s) => {
      const runs: Array<Array<[number, number]>> = [[]];
      s.values.forEach((v, i) => {
        if (v === null) runs.push([]);
        else runs[runs.length - 1]?.push([x(i), y(v)]);
      });
      return runs
        .filter((run) => run.length > 0)
        .map((run) =>
          run.length === 1
            ? `<circle cx="${run[0]?.[0].toFixed(1)}" cy="${run[0]?.[1].toFixed(1)}" r="2.5" fill="${s.color}"><title>${esc(s.name)}</title></circle>`
            : `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${run
                .map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`)
                .join(' ')}"><title>${esc(s.name)}</title></polyline>`,
        )
        .join('');
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${pad.left + i * 110}" y="6" width="10" height="10" fill="${s.color}"/><text x="${pad.left + i * 110 + 14}" y="15" font-size="11">${esc(s.name)}</text>`,
    )
    .join('');
  return `<figure class="card" style="margin:0"><figcaption><strong>${esc(title)}</strong></figcaption><svg role="img" aria-label="${esc(
    title,
  )}" viewBox="0 0 ${width} ${height}" width="100%">${grid}${ticks}${lines}${legend}</svg></figure>`;
}
