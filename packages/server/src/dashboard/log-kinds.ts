import type { LogKind } from '../logs/log-queries.js';
import type { ScreenshotLog } from '../logs/log-store.js';

/** Which API wrote a log (rows older than migration 0013 are screenshots). */
export const kindOf = (log: ScreenshotLog): LogKind => log.kind ?? 'screenshot';

/** The recorded parameters of a log; an unreadable record is empty (it never hides the rest of the log). */
export function paramsOf(log: ScreenshotLog): Record<string, unknown> {
  try {
    const params = JSON.parse(log.params || '{}') as unknown;
    return params && typeof params === 'object' ? (params as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The logs table's Format column: a screenshot's image format (jpg by default), a scrape's content format
 * (raw by default), an extraction's method (template, prompt or model), a crawled page's first format.
 */
export function formatOf(log: ScreenshotLog): string {
  const params = paramsOf(log);
  const value = kindOf(log) === 'extraction' ? params.method : params.format;
  if (typeof value === 'string') return value;
  return { screenshot: 'jpg', scrape: 'raw', extraction: '—', crawl: 'html' }[kindOf(log)];
}
