import { createHash } from 'node:crypto';
import { parseTargetUrl } from '../egress/target-url.js';
import { formatCountrySpec, parseCountrySpec } from '../engine/country.js';
import { readBoolean } from './boolean.js';
import { EXTENSION_PARAMETERS, extensionCacheFields, parseExtensions } from './capture-extensions.js';
import { HEADER_PARAMETER } from './headers.js';
import { configError } from './rules.js';

import {
  FORMATS,
  OPTIONS,
  VISION_DEFICIENCIES,
  type CaptureArea,
  type CaptureOption,
  type CaptureSpec,
  type ImageFormat,
  type VisionDeficiency,
} from '../engine/capture-spec.js';
import { checkViewportImage } from '../engine/image-budget.js';
import { MAX_CACHE_TTL_SECONDS } from '../results/screenshot-cache.js';

export { FORMATS, OPTIONS, VISION_DEFICIENCIES };
export type { CaptureArea, CaptureOption, ImageFormat, VisionDeficiency };

/**
 * A screenshot job's parameters, normalised once from the query string (docs/compat.md §1). The engine's
 * part is `CaptureSpec`; the rest is for the service (egress country, webhook, cache).
 */
export interface ScreenshotRequest extends CaptureSpec {
  /** Canonical country spec (`us`, `us,ca`, `-gb`, `us:10,gb:5`), validated; picked per capture. */
  country: string | undefined;
  webhookName: string | undefined;
  /** cache=true: a stored image of the same normalised request younger than ttlSeconds is served. */
  cache?: { ttlSeconds: number; clear: boolean } | undefined;
}

export const LIMITS = {
  minWidth: 100,
  maxWidth: 7680,
  minHeight: 100,
  maxHeight: 4320,
  minTimeoutMs: 1_000,
  defaultTimeoutMs: 60_000,
  defaultRenderingWaitMs: 1_000,
  maxRenderingWaitMs: 60_000,
  maxJsBytes: 16 * 1024,
  defaultCacheTtlSeconds: 86_400,
  maxCacheTtlSeconds: MAX_CACHE_TTL_SECONDS,
} as const;

/** Every query parameter /screenshot understands; anything else is refused, so typos do not pass silently. */
export const KNOWN_PARAMETERS = [
  'key',
  'url',
  'format',
  'capture',
  'resolution',
  'country',
  'timeout',
  'rendering_wait',
  'wait_for_selector',
  'options',
  'auto_scroll',
  'js',
  'cache',
  'cache_ttl',
  'cache_clear',
  'vision_deficiency',
  'webhook_name',
  // Snapwire extensions (capture-extensions.ts), plus headers[NAME].
  ...EXTENSION_PARAMETERS,
] as const;

export function parseScreenshotRequest(
  query: Record<string, string | string[] | undefined>,
  /** maxOutputPixels: a viewport image over it is refused here (the engine checks again, for every path). */
  settings: { maxTimeoutMs: number; maxOutputPixels?: number },
): ScreenshotRequest {
  for (const name of Object.keys(query)) {
    if (!(KNOWN_PARAMETERS as readonly string[]).includes(name) && !HEADER_PARAMETER.test(name)) {
      throw configError(
        `Unknown parameter "${name}"; known parameters: ${KNOWN_PARAMETERS.join(', ')}, headers[NAME]`,
      );
    }
  }
  const get = (name: string): string | undefined => {
    const value = query[name];
    if (Array.isArray(value))
      throw configError(`The ${name} parameter was given ${value.length} times; give it once`);
    return value === undefined ? undefined : value;
  };

  const rawUrl = get('url');
  if (rawUrl === undefined || rawUrl.trim() === '') {
    throw configError(
      'The url parameter is required: the page to capture, url-encoded (url=https%3A%2F%2Fexample.com)',
    );
  }
  const target = parseTargetUrl(rawUrl);

  const format = oneOf(get('format') ?? 'jpg', FORMATS, 'format');
  const resolution = get('resolution');
  const [givenWidth, givenHeight] = parseResolution(resolution);
  const timeoutMs =
    parseInteger(get('timeout'), 'timeout', LIMITS.minTimeoutMs, settings.maxTimeoutMs) ??
    LIMITS.defaultTimeoutMs;
  const renderingWaitMs =
    parseInteger(get('rendering_wait'), 'rendering_wait', 0, LIMITS.maxRenderingWaitMs) ??
    LIMITS.defaultRenderingWaitMs;
  if (renderingWaitMs >= timeoutMs) {
    throw configError(
      `rendering_wait (${renderingWaitMs} ms) must be shorter than timeout (${timeoutMs} ms)`,
    );
  }
  const options = parseOptions(get('options'));
  const waitSelector = get('wait_for_selector');
  const country = get('country');
  const cache = readBoolean(get('cache'), 'cache') ?? false;
  // cache_ttl and cache_clear only count with cache=true (docs/compat.md §1), but are still validated.
  const cacheTtl = parseSeconds(get('cache_ttl'), 'cache_ttl', 1, LIMITS.maxCacheTtlSeconds);
  const cacheClear = readBoolean(get('cache_clear'), 'cache_clear') ?? false;
  const capture = parseCaptureArea(get('capture') ?? 'viewport', 'capture');
  const { extensions, width, height } = parseExtensions(query, get, {
    url: target.url,
    format,
    captureKind: capture.kind,
    width: givenWidth,
    height: givenHeight,
    resolutionGiven: resolution !== undefined && resolution !== '',
  });

  checkViewportImage({ ...extensions, capture, format, width, height }, settings.maxOutputPixels);

  return {
    ...extensions,
    url: target.url.href,
    hostname: target.hostname,
    format,
    capture,
    width,
    height,
    renderingWaitMs,
    waitForSelector:
      waitSelector === undefined || waitSelector === '' ? undefined : parseElementTarget(waitSelector),
    timeoutMs,
    js: parseJs(get('js')),
    options,
    autoScroll: readBoolean(get('auto_scroll'), 'auto_scroll') ?? false,
    visionDeficiency: oneOf(get('vision_deficiency') ?? 'none', VISION_DEFICIENCIES, 'vision_deficiency'),
    country:
      country === undefined || country === '' ? undefined : formatCountrySpec(parseCountrySpec(country)),
    webhookName: get('webhook_name') || undefined,
    cache: cache ? { ttlSeconds: cacheTtl ?? LIMITS.defaultCacheTtlSeconds, clear: cacheClear } : undefined,
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw configError(`The ${name} parameter "${value}" is not supported; use one of: ${allowed.join(', ')}`);
}

function parseResolution(value: string | undefined): [number, number] {
  if (value === undefined || value === '') return [1920, 1080];
  const match = /^(\d{1,6})x(\d{1,6})$/i.exec(value.trim());
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (
    !match ||
    width < LIMITS.minWidth ||
    width > LIMITS.maxWidth ||
    height < LIMITS.minHeight ||
    height > LIMITS.maxHeight
  ) {
    throw configError(
      `The resolution parameter "${value}" is not valid; give WIDTHxHEIGHT with width ${LIMITS.minWidth}-${LIMITS.maxWidth} and height ${LIMITS.minHeight}-${LIMITS.maxHeight}, for example 1920x1080`,
    );
  }
  return [width, height];
}

function parseInteger(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw configError(`The ${name} parameter "${value}" must be a whole number of milliseconds`);
  const number = Number(value);
  if (number < min || number > max) {
    throw configError(`The ${name} parameter must be between ${min} and ${max} milliseconds; got ${number}`);
  }
  return number;
}

function parseSeconds(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw configError(`The ${name} parameter "${value}" must be a whole number of seconds`);
  const number = Number(value);
  if (number < min || number > max) {
    throw configError(`The ${name} parameter must be between ${min} and ${max} seconds; got ${number}`);
  }
  return number;
}

function parseOptions(value: string | undefined): CaptureOption[] {
  if (value === undefined || value.trim() === '') return [];
  const options = value
    .split(',')
    .map((option) => option.trim())
    .filter(Boolean);
  return [...new Set(options.map((option) => oneOf(option, OPTIONS, 'options')))];
}

/** A CSS selector or an XPath: XPath starts with "/", "(" or an explicit "xpath=" prefix. */
export function parseElementTarget(value: string): CaptureArea {
  if (value.startsWith('xpath=')) return { kind: 'xpath', xpath: value.slice('xpath='.length) };
  if (value.startsWith('/') || value.startsWith('(')) return { kind: 'xpath', xpath: value };
  return { kind: 'selector', selector: value };
}

function parseCaptureArea(value: string, name: string): CaptureArea {
  if (value === '')
    throw configError(
      `The ${name} parameter is empty; use viewport, fullpage, vertical, a CSS selector or an XPath`,
    );
  if (value === 'viewport') return { kind: 'viewport' };
  if (value === 'fullpage') return { kind: 'fullpage' };
  if (value === 'vertical') return { kind: 'vertical' };
  return parseElementTarget(value);
}

/** js arrives base64url-encoded; the Python SDK pads with "=", the others do not: both are accepted. */
function parseJs(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const compact = value.trim();
  if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw configError(
      'The js parameter is not valid base64url; encode the script with base64url (padding optional)',
    );
  }
  const decoded = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (decoded.length > LIMITS.maxJsBytes) {
    throw configError(
      `The js parameter decodes to ${decoded.length} bytes; the limit is ${LIMITS.maxJsBytes} bytes (16 KB)`,
    );
  }
  const script = decoded.toString('utf8');
  if (script.includes('\uFFFD')) throw configError('The js parameter does not decode to UTF-8 text');
  return script;
}

/**
 * The cache key of a request: SHA-256 over what changes the image (url, format, area, size, waits, script,
 * options, scroll, vision, country, and the Snapwire extensions, headers and cookies included: another
 * login is another picture), with options sorted. timeout, webhook_name and the cache parameters
 * themselves do not change the picture and are left out.
 */
export function cacheKeyOf(request: ScreenshotRequest): string {
  const normalised = {
    url: request.url,
    format: request.format,
    capture: request.capture,
    width: request.width,
    height: request.height,
    renderingWaitMs: request.renderingWaitMs,
    waitForSelector: request.waitForSelector ?? null,
    js: request.js ?? null,
    options: [...request.options].sort(),
    autoScroll: request.autoScroll,
    visionDeficiency: request.visionDeficiency,
    country: request.country ?? null,
    // Extensions only when used, so that the keys of requests without them stay what they were.
    ...extensionCacheFields(request),
  };
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex');
}
