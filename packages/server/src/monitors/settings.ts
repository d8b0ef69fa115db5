import { ApiError, isApiError } from '../errors.js';
import type { PixelRect } from '../compare/compare-images.js';
import { parseRecurrence, type Recurrence, type RecurrenceInput } from '../schedules/recurrence.js';
import { normaliseScreenshotConfig } from '../schedules/screenshot-config.js';

/** What POST /monitors takes (PATCH takes any part of it). */
export interface MonitorInput {
  url?: string | undefined;
  /** The other /screenshot parameters of each capture (format, resolution, hide_selectors, …). */
  screenshot_config?: Record<string, unknown> | undefined;
  recurrence?: RecurrenceInput | undefined;
  /** Share of the image's pixels that must differ for a change, 0 to 1. */
  change_threshold?: number | undefined;
  ignore?: PixelRect[] | undefined;
  hide_selectors?: string[] | string | undefined;
  compare_text?: boolean | undefined;
  confirm_runs?: number | undefined;
  require_approval?: boolean | undefined;
  notify_unchanged?: boolean | undefined;
  webhook_name?: string | null | undefined;
}

/** Unless given: a change is over 0.1 % of the pixels, seen once. */
export const DEFAULT_CHANGE_THRESHOLD = 0.001;
export const MAX_CONFIRM_RUNS = 10;
export const MAX_IGNORE_REGIONS = 50;

export const invalid = (reason: string) => new ApiError('ERR::MONITOR::INVALID_REQUEST', reason);

/** The capture parameters, validated as /screenshot validates them; png unless another format is asked. */
export function captureParams(
  url: string,
  config: Record<string, unknown> | undefined,
  hideSelectors: string[] | string | undefined,
  settings: { maxTimeoutMs: number },
): Record<string, string> {
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) {
    throw invalid('screenshot_config must be an object of /screenshot parameters, e.g. {"format": "png"}');
  }
  if (config && 'url' in config) throw invalid('Give the monitored address as url, not in screenshot_config');
  for (const name of ['cache', 'cache_ttl', 'cache_clear']) {
    if (config && name in config)
      throw invalid(
        `screenshot_config.${name} is not allowed: every run of a monitor captures the page anew`,
      );
  }
  const merged: Record<string, unknown> = { format: 'png', ...config, url };
  if (hideSelectors !== undefined) {
    merged.hide_selectors = Array.isArray(hideSelectors) ? hideSelectors.join(',') : hideSelectors;
  }
  if (merged.format === 'pdf') throw invalid('A monitor compares images: format pdf cannot be monitored');
  try {
    return normaliseScreenshotConfig(merged, settings).params;
  } catch (error) {
    if (isApiError(error)) throw invalid(error.reason.replace(/^screenshot_config: /, ''));
    throw error;
  }
}

export function parseMonitorRecurrence(input: RecurrenceInput): Recurrence {
  try {
    return parseRecurrence(input);
  } catch (error) {
    if (isApiError(error)) throw invalid(`recurrence: ${error.reason}`);
    throw error;
  }
}

export function checkThreshold(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(`change_threshold is a share of the pixels from 0 to 1 (0.01 = 1 %); got ${String(value)}`);
  }
  return value;
}

export function checkConfirmRuns(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_CONFIRM_RUNS) {
    throw invalid(
      `confirm_runs is how many runs in a row must see a change, a whole number from 1 to ${MAX_CONFIRM_RUNS}; got ${String(value)}`,
    );
  }
  return value;
}

/** Rectangles in image pixels that are left out of the comparison. */
export function checkIgnore(value: unknown): PixelRect[] {
  if (!Array.isArray(value)) throw invalid('ignore is a list of {x, y, width, height} rectangles in pixels');
  if (value.length > MAX_IGNORE_REGIONS) {
    throw invalid(`ignore holds at most ${MAX_IGNORE_REGIONS} rectangles; got ${value.length}`);
  }
  return value.map((rect: unknown, index) => {
    const r = rect as Record<string, unknown>;
    const fields = ['x', 'y', 'width', 'height'] as const;
    const ok =
      r !== null &&
      typeof r === 'object' &&
      fields.every((f) => Number.isInteger(r[f]) && (r[f] as number) >= 0) &&
      (r.width as number) > 0 &&
      (r.height as number) > 0;
    if (!ok) {
      throw invalid(
        `ignore[${index}] must be {x, y, width, height} in whole pixels (x, y >= 0; width, height > 0)`,
      );
    }
    return { x: r.x as number, y: r.y as number, width: r.width as number, height: r.height as number };
  });
}
