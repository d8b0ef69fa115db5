import { findDevice } from '../engine/devices.js';
import { PDF_PAPER_NAMES, type PdfOptions, type PdfPaper } from '../engine/pdf.js';
import type {
  CaptureExtensions,
  DeviceEmulation,
  Geolocation,
  RequestCookie,
} from '../engine/capture-spec.js';
import { readBoolean } from './boolean.js';
import { COOKIE_LIMITS, parseCookies } from './cookies.js';
import { HEADER_LIMITS, HEADER_PARAMETER, parseHeaders } from './headers.js';
import { configError, CONTROL, type Query } from './rules.js';

/**
 * Snapwire's extensions to Scrapfly's parameters (README "Snapwire extensions"): what hosted screenshot
 * APIs also capture. Each is validated here, once, with a catalogue error that names what to fix; none
 * changes the meaning of a Scrapfly parameter.
 */

export type { CaptureExtensions, DeviceEmulation, Geolocation, RequestCookie };

export const EXTENSION_PARAMETERS = [
  'cookies',
  'device_scale_factor',
  'viewport_device',
  'user_agent',
  'hide_selectors',
  'click',
  'omit_background',
  'pdf_paper',
  'pdf_landscape',
  'pdf_print_background',
  'timezone',
  'geolocation',
] as const;

/** `headers[NAME]` (request/headers.ts). */
export { HEADER_PARAMETER };

export const EXTENSION_LIMITS = {
  minScaleFactor: 1,
  maxScaleFactor: 3,
  /** Chromium's largest capture side, in device pixels. */
  maxImageSide: 16_384,
  ...HEADER_LIMITS,
  ...COOKIE_LIMITS,
  maxSelectors: 50,
  maxSelectorLength: 1_000,
  maxUserAgentLength: 1_000,
} as const;

export interface ExtensionContext {
  /** The target URL (already checked). */
  url: URL;
  format: string;
  captureKind: string;
  width: number;
  height: number;
  /** Whether `resolution` was given (a device's viewport is used otherwise). */
  resolutionGiven: boolean;
}

/** The extensions in `query`, plus the viewport size they settle (a device preset's, unless resolution). */
export function parseExtensions(
  query: Query,
  get: (name: string) => string | undefined,
  context: ExtensionContext,
): { extensions: CaptureExtensions; width: number; height: number } {
  const extensions: CaptureExtensions = {};
  let { width, height } = context;

  const headers = parseHeaders(query);
  if (headers) extensions.headers = headers;
  const cookies = parseCookies(query.cookies, context.url);
  if (cookies) extensions.cookies = cookies;

  const deviceName = get('viewport_device');
  let scale: number | undefined;
  let userAgent: string | undefined;
  if (deviceName !== undefined && deviceName.trim() !== '') {
    const preset = findDevice(deviceName);
    if (!preset) {
      throw configError(
        `The viewport_device parameter "${deviceName}" is not a known device; GET /devices lists them (for example "iPhone 15", "Pixel 7", "iPad Pro 11")`,
      );
    }
    extensions.device = {
      name: preset.name,
      mobile: preset.mobile,
      touch: preset.touch,
      screenWidth: preset.screenWidth,
      screenHeight: preset.screenHeight,
    };
    if (!context.resolutionGiven) {
      width = preset.width;
      height = preset.height;
    }
    scale = preset.deviceScaleFactor;
    userAgent = preset.userAgent;
  }
  const explicitScale = parseScaleFactor(get('device_scale_factor'));
  scale = explicitScale ?? scale;
  if (scale !== undefined && scale !== 1) extensions.deviceScaleFactor = scale;
  const explicitAgent = get('user_agent');
  if (explicitAgent !== undefined && explicitAgent !== '') {
    if (explicitAgent.length > EXTENSION_LIMITS.maxUserAgentLength || CONTROL.test(explicitAgent)) {
      throw configError(
        `The user_agent parameter must be one line of at most ${EXTENSION_LIMITS.maxUserAgentLength} characters`,
      );
    }
    userAgent = explicitAgent;
  }
  if (userAgent !== undefined) extensions.userAgent = userAgent;
  checkImageSize(width, height, scale ?? 1, context);

  const hide = parseSelectorList(get('hide_selectors'));
  if (hide) extensions.hideSelectors = hide;
  const click = get('click');
  if (click !== undefined && click !== '') extensions.click = parseClickTarget(click);

  const omitBackground = readBoolean(get('omit_background'), 'omit_background');
  if (omitBackground) {
    if (context.format !== 'png' && context.format !== 'webp') {
      throw configError(
        `omit_background=true needs an image format with transparency: format=png or format=webp (got ${context.format})`,
      );
    }
    extensions.omitBackground = true;
  }

  const pdf = parsePdf(get, context);
  if (pdf) extensions.pdf = pdf;

  const timezone = get('timezone');
  if (timezone !== undefined && timezone !== '') extensions.timezone = parseTimezone(timezone);
  const geolocation = get('geolocation');
  if (geolocation !== undefined && geolocation !== '') extensions.geolocation = parseGeolocation(geolocation);

  return { extensions, width, height };
}

function parseScaleFactor(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (
    !/^\d+(\.\d+)?$/.test(value.trim()) ||
    number < EXTENSION_LIMITS.minScaleFactor ||
    number > EXTENSION_LIMITS.maxScaleFactor
  ) {
    throw configError(
      `The device_scale_factor parameter "${value}" is not valid; give a number from ${EXTENSION_LIMITS.minScaleFactor} to ${EXTENSION_LIMITS.maxScaleFactor} (decimals allowed, for example 2 or 1.5)`,
    );
  }
  return number;
}

function checkImageSize(width: number, height: number, scale: number, context: ExtensionContext): void {
  if (scale === 1 || context.format === 'pdf') return;
  const limit = context.format === 'webp' ? EXTENSION_LIMITS.maxImageSide - 1 : EXTENSION_LIMITS.maxImageSide;
  const side = Math.max(width, height) * scale;
  if (side > limit) {
    throw configError(
      `resolution ${width}x${height} at device_scale_factor ${scale} gives an image ${Math.round(width * scale)}x${Math.round(height * scale)} px; its sides may be at most ${limit} px: lower the resolution or the device_scale_factor`,
    );
  }
}

/** Splits a comma list of CSS selectors on the commas that are not inside (), [] or quotes. */
export function splitSelectorList(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i] as string;
    if (quote) {
      if (char === '\\') {
        current += char + (value[i + 1] ?? '');
        i += 1;
        continue;
      }
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '(' || char === '[') depth += 1;
    else if (char === ')' || char === ']') depth = Math.max(0, depth - 1);
    else if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current.trim());
  return parts.filter(Boolean);
}

function parseSelectorList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const selectors = [...new Set(splitSelectorList(value))];
  if (selectors.length > EXTENSION_LIMITS.maxSelectors)
    throw configError(
      `hide_selectors holds ${selectors.length} selectors; at most ${EXTENSION_LIMITS.maxSelectors}`,
    );
  for (const selector of selectors) {
    // Braces would end the style rule the selector is put in; no selector needs them.
    if (
      /[{}]/.test(selector) ||
      selector.length > EXTENSION_LIMITS.maxSelectorLength ||
      CONTROL.test(selector)
    ) {
      throw configError(
        `hide_selectors: "${selector.slice(0, 80)}" is not a CSS selector (no braces, at most ${EXTENSION_LIMITS.maxSelectorLength} characters)`,
      );
    }
  }
  return selectors;
}

function parseClickTarget(value: string): NonNullable<CaptureExtensions['click']> {
  if (value.length > EXTENSION_LIMITS.maxSelectorLength)
    throw configError(`The click parameter is longer than ${EXTENSION_LIMITS.maxSelectorLength} characters`);
  if (value.startsWith('xpath=')) return { kind: 'xpath', xpath: value.slice('xpath='.length) };
  if (value.startsWith('/') || value.startsWith('(')) return { kind: 'xpath', xpath: value };
  return { kind: 'selector', selector: value };
}

function parsePdf(
  get: (name: string) => string | undefined,
  context: ExtensionContext,
): PdfOptions | undefined {
  const paper = get('pdf_paper');
  const landscape = readBoolean(get('pdf_landscape'), 'pdf_landscape');
  const printBackground = readBoolean(get('pdf_print_background'), 'pdf_print_background');
  if (context.format !== 'pdf') {
    const given = [
      paper !== undefined && paper !== '' ? 'pdf_paper' : undefined,
      landscape !== undefined ? 'pdf_landscape' : undefined,
      printBackground !== undefined ? 'pdf_print_background' : undefined,
    ].filter(Boolean);
    if (given.length > 0) throw configError(`${given.join(', ')} only apply with format=pdf`);
    return undefined;
  }
  if (context.captureKind !== 'viewport') {
    throw configError(
      'The capture parameter does not apply with format=pdf: a PDF holds the whole page; leave capture out',
    );
  }
  const name = (paper === undefined || paper === '' ? 'a4' : paper.toLowerCase()) as PdfPaper;
  if (!PDF_PAPER_NAMES.includes(name)) {
    throw configError(
      `The pdf_paper parameter "${paper}" is not supported; use one of: ${PDF_PAPER_NAMES.join(', ')}`,
    );
  }
  return { paper: name, landscape: landscape ?? false, printBackground: printBackground ?? true };
}

function parseTimezone(value: string): string {
  try {
    // Node and Chromium share ICU's zone database: a zone Node knows is one Chromium can emulate.
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw configError(
      `The timezone parameter "${value}" is not an IANA time zone; for example Europe/Paris or America/New_York`,
    );
  }
}

function parseGeolocation(value: string): Geolocation {
  const parts = value.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  const [latitude = NaN, longitude = NaN, accuracy = 1] = numbers;
  const valid =
    (parts.length === 2 || parts.length === 3) &&
    parts.every((part) => /^-?\d+(\.\d+)?$/.test(part)) &&
    Math.abs(latitude) <= 90 &&
    Math.abs(longitude) <= 180 &&
    accuracy >= 0 &&
    accuracy <= 100_000;
  if (!valid) {
    throw configError(
      `The geolocation parameter "${value}" is not valid; give latitude,longitude[,accuracy in metres], latitude -90..90, longitude -180..180 (for example 48.8584,2.2945,10)`,
    );
  }
  return { latitude, longitude, accuracy };
}

/** Header and cookie values are secrets (tokens, sessions): what logs and the dashboard show instead. */
export const MASKED = '***';

/** The request as the monitoring log keeps it: header and cookie values masked. */
export function maskSecrets<T extends CaptureExtensions>(request: T): T {
  const masked = { ...request };
  if (request.headers) {
    masked.headers = Object.fromEntries(Object.keys(request.headers).map((name) => [name, MASKED]));
  }
  if (request.cookies) masked.cookies = request.cookies.map((cookie) => ({ ...cookie, value: MASKED }));
  return masked;
}

/** The extension fields that change the picture, for the cache key (absent ones left out). */
export function extensionCacheFields(request: CaptureExtensions): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    headers: request.headers
      ? Object.fromEntries(Object.entries(request.headers).sort(([a], [b]) => a.localeCompare(b)))
      : undefined,
    // Expiry aside: Max-Age makes it differ from one request to the next without changing the picture.
    cookies: request.cookies?.map(({ expires: _expires, ...cookie }) => cookie),
    deviceScaleFactor: request.deviceScaleFactor,
    device: request.device?.name,
    userAgent: request.userAgent,
    hideSelectors: request.hideSelectors,
    click: request.click,
    omitBackground: request.omitBackground,
    pdf: request.pdf,
    timezone: request.timezone,
    geolocation: request.geolocation,
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields;
}
