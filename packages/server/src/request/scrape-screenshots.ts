import { ApiError } from '../errors.js';
import type { CaptureArea } from '../engine/capture-spec.js';
import { elementTargetOf } from './js-scenario.js';

/**
 * screenshots[NAME]=fullpage|viewport|SELECTOR and screenshot_flags (docs/compat.md §7): images of the
 * rendered page, taken after the scenario, answered as result.screenshots.NAME. Both SDKs send one
 * `screenshots[NAME]` parameter per entry of their screenshots map.
 */

export const SCREENSHOT_FLAGS = [
  'load_images',
  'dark_mode',
  'block_banners',
  'print_media_format',
  'high_quality',
] as const;
export type ScreenshotFlag = (typeof SCREENSHOT_FLAGS)[number];

export const SCRAPE_SCREENSHOT_LIMITS = { maxScreenshots: 10, maxNameLength: 64 } as const;

export interface ScrapeScreenshot {
  name: string;
  area: CaptureArea;
  /** What the caller asked: fullpage, viewport or the selector as given. */
  asked: string;
}

const SCREENSHOT_PARAMETER = /^screenshots\[([^\]]*)\]$/;
const NAME = /^[A-Za-z0-9_.-]+$/;

const configError = (reason: string) => new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);

export function parseScrapeScreenshots(
  query: Record<string, string | string[] | undefined>,
): ScrapeScreenshot[] {
  const shots: ScrapeScreenshot[] = [];
  for (const [parameter, raw] of Object.entries(query)) {
    const name = SCREENSHOT_PARAMETER.exec(parameter)?.[1];
    if (name === undefined) continue;
    if (!NAME.test(name) || name.length > SCRAPE_SCREENSHOT_LIMITS.maxNameLength) {
      throw configError(
        `The screenshot name in "${parameter}" must be 1 to ${SCRAPE_SCREENSHOT_LIMITS.maxNameLength} letters, digits, "_", "-" or "." (it becomes part of the image's URL)`,
      );
    }
    if (Array.isArray(raw)) throw configError(`${parameter} was given ${raw.length} times; give it once`);
    const value = (raw ?? '').trim();
    if (value === '') {
      throw configError(`${parameter} needs a value: fullpage, viewport, or a CSS selector or XPath`);
    }
    const area: CaptureArea =
      value === 'fullpage'
        ? { kind: 'fullpage' }
        : value === 'viewport'
          ? { kind: 'viewport' }
          : elementTargetOf(value);
    shots.push({ name, area, asked: value });
  }
  if (shots.length > SCRAPE_SCREENSHOT_LIMITS.maxScreenshots) {
    throw configError(
      `At most ${SCRAPE_SCREENSHOT_LIMITS.maxScreenshots} screenshots[NAME] a scrape; got ${shots.length}`,
    );
  }
  return shots;
}

export function parseScreenshotFlags(value: string | undefined): ScreenshotFlag[] {
  if (value === undefined) return [];
  const flags: ScreenshotFlag[] = [];
  for (const name of value.split(',').map((part) => part.trim())) {
    if (name === '') continue;
    if (!(SCREENSHOT_FLAGS as readonly string[]).includes(name)) {
      throw configError(
        `The screenshot_flags value "${name}" is not known; use ${SCREENSHOT_FLAGS.join(', ')}`,
      );
    }
    if (!flags.includes(name as ScreenshotFlag)) flags.push(name as ScreenshotFlag);
  }
  return flags;
}
