import { esc } from './html.js';

/** A small server-rendered SVG chart: one or more series over the same buckets. No script needed. */
export function lineChart(
  title: string,
  labels: string[],
  series: Array<{ name: string; color: string; values: number[] }>,
  options: { unit?: string; max?: number } = {},
): string {
  const width = 560;
  const height = 180;
  const pad = { left: 44, right: 10, top: 22, bottom: 24 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = options.max ?? Math.max(1, ...series.flatMap((s) => s.values));
  const x = (index: number) => pad.left + (labels.length <= 1 ? 0 : (index / (labels.length - 1)) * innerW);
  const y = (value: number) => pad.top + innerH - (value / max) * innerH;
  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eceef2"/>` +
        `<text x="${pad.left - 4}" y="${y(max * f) + 4}" font-size="10" text-anchor="end" fill="#6b7385">${esc(
          formatNumber(max * f),
        )}${esc(options.unit ?? '')}</text>`,
    )
    .join('');
  const ticks = labels
    .map((label, index) =>
      index % Math.max(1, Math.ceil(labels.length / 6)) === 0
        ? `<text x="${x(index)}" y="${height - 6}" font-size="10" text-anchor="middle" fill="#6b7385">${esc(label)}</text>`
        : '',
    )
    .join('');
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.values
          .map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`)
          .join(' ')}"><title>${esc(s.name)}</title></polyline>`,
    )
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

function formatNumber(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
