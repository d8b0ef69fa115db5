const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "1m", "5m", "1h", "1d", or a bare number of milliseconds. Throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration (examples: 500ms, 30s, 5m, 1h, 1d)`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1));
}

/** A comma list of durations, e.g. the retry schedule "30s,1m,5m,30m,1h,1d". */
export function parseDurationList(text: string): number[] {
  const list = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(parseDuration);
  if (list.length === 0) throw new Error('give at least one duration');
  return list;
}

/** A duration in the largest unit that divides it exactly, as parseDuration reads it: 60000 → "1m". */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNITS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
