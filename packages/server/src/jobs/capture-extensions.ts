import { ApiError } from '../errors.js';
import { HOP_BY_HOP } from '../egress/forwarding.js';
import { findDevice } from '../engine/devices.js';
import { PDF_PAPER_NAMES, type PdfOptions, type PdfPaper } from '../engine/pdf.js';
import type {
  CaptureExtensions,
  DeviceEmulation,
  Geolocation,
  RequestCookie,
} from '../engine/capture-spec.js';

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

/** `headers[NAME]`: the Scrape API's spelling of an extra request header. */
export const HEADER_PARAMETER = /^headers\[([^\]]*)\]$/;

export const EXTENSION_LIMITS = {
  minScaleFactor: 1,
  maxScaleFactor: 3,
  /** Chromium's largest capture side, in device pixels. */
  maxImageSide: 16_384,
  maxHeaders: 32,
  maxHeaderBytes: 8 * 1024,
  maxCookies: 50,
  maxCookieBytes: 4 * 1024,
  maxSelectors: 50,
  maxSelectorLength: 1_000,
  maxUserAgentLength: 1_000,
} as const;

/**
 * Header names refused by name: what the egress guard and the proxy rely on (Host decides where a plain
 * HTTP request goes; proxy-* and hop-by-hop headers are the proxy's own business; Service-Worker marks the
 * scripts it refuses), what the browser computes itself (Content-Length), and what has its own parameter
 * (Cookie: cookies; User-Agent: user_agent).
 */
const REFUSED_HEADERS: Record<string, string> = {
  host: 'the egress guard decides where requests go from the URL',
  cookie: 'use the cookies parameter',
  'user-agent': 'use the user_agent parameter',
  'content-length': 'the browser computes it',
  'service-worker': 'the egress proxy relies on it',
};

function refusedHeaderReason(name: string): string | undefined {
  if (REFUSED_HEADERS[name]) return REFUSED_HEADERS[name];
  if (name.startsWith('proxy-')) return 'proxy-* headers belong to the egress proxy';
  if (HOP_BY_HOP.has(name)) return 'hop-by-hop headers belong to each connection';
  if (name.startsWith('x-snapwire-')) return 'x-snapwire-* headers are Snapwire’s own';
  return undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const configError = (reason: string) => new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);

type Query = Record<string, string | string[] | undefined>;

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

  const omitBackground = parseFlag(get('omit_background'), 'omit_background');
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

function parseHeaders(query: Query): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  let count = 0;
  for (const [parameter, raw] of Object.entries(query)) {
    const match = HEADER_PARAMETER.exec(parameter);
    if (!match) continue;
    const name = (match[1] ?? '').trim().toLowerCase();
    if (!TOKEN.test(name)) {
      throw configError(
        `The header name in "${parameter}" is not valid; give headers[NAME]=VALUE with a header name such as headers[authorization]`,
      );
    }
    const refused = refusedHeaderReason(name);
    if (refused) throw configError(`The header "${name}" cannot be set with headers[${name}]: ${refused}`);
    if (Array.isArray(raw)) throw configError(`headers[${name}] was given ${raw.length} times; give it once`);
    const value = raw ?? '';
    // The value is never echoed back: it may be a secret.
    if (CONTROL.test(value) || Buffer.byteLength(value) > EXTENSION_LIMITS.maxHeaderBytes) {
      throw configError(
        `The value of headers[${name}] must be one line of at most ${EXTENSION_LIMITS.maxHeaderBytes} bytes`,
      );
    }
    if (headers[name] !== undefined)
      throw configError(`The header "${name}" was given twice (header names ignore case)`);
    headers[name] = value;
    count += 1;
  }
  if (count > EXTENSION_LIMITS.maxHeaders)
    throw configError(
      `At most ${EXTENSION_LIMITS.maxHeaders} headers[NAME] parameters are accepted; got ${count}`,
    );
  return count > 0 ? headers : undefined;
}

/** `name=value; Domain=...; Path=...; Secure; HttpOnly; SameSite=Lax; Max-Age=...; Expires=...`. */
function parseCookies(raw: string | string[] | undefined, target: URL): RequestCookie[] | undefined {
  if (raw === undefined) return undefined;
  const lines = (Array.isArray(raw) ? raw : [raw]).filter((line) => line.trim() !== '');
  if (lines.length === 0) return undefined;
  if (lines.length > EXTENSION_LIMITS.maxCookies)
    throw configError(`At most ${EXTENSION_LIMITS.maxCookies} cookies are accepted; got ${lines.length}`);
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return lines.map((line, index) => {
    const which = `cookies #${index + 1}`;
    if (Buffer.byteLength(line) > EXTENSION_LIMITS.maxCookieBytes || CONTROL.test(line)) {
      throw configError(`${which} must be one line of at most ${EXTENSION_LIMITS.maxCookieBytes} bytes`);
    }
    const [pair = '', ...attributes] = line.split(';');
    const equals = pair.indexOf('=');
    const name = (equals < 0 ? '' : pair.slice(0, equals)).trim();
    if (!TOKEN.test(name)) {
      throw configError(
        `${which} must start with name=value (for example cookies=session%3Dabc%3B%20Path%3D%2F); its name is missing or not a valid cookie name`,
      );
    }
    const cookie: RequestCookie = {
      name,
      value: pair.slice(equals + 1).trim(),
      path: '/',
      secure: false,
      httpOnly: false,
    };
    for (const attribute of attributes) {
      if (attribute.trim() === '') continue;
      const at = attribute.indexOf('=');
      const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
      const value = at < 0 ? '' : attribute.slice(at + 1).trim();
      switch (key) {
        case 'domain': {
          const domain = value.replace(/^\./, '').toLowerCase();
          const sameSite = domain === host || (host.endsWith(`.${domain}`) && domain.includes('.'));
          if (!domain || !sameSite) {
            throw configError(
              `The cookie "${name}" is for Domain=${value || '(empty)'}, another site than the target ${host}; cookies are set only for the target's host or a parent domain of it`,
            );
          }
          if (domain !== host) cookie.domain = domain;
          break;
        }
        case 'path':
          if (!value.startsWith('/'))
            throw configError(`The cookie "${name}" has Path=${value}; a path starts with /`);
          cookie.path = value;
          break;
        case 'secure':
          cookie.secure = true;
          break;
        case 'httponly':
          cookie.httpOnly = true;
          break;
        case 'samesite': {
          const sameSite = ({ strict: 'Strict', lax: 'Lax', none: 'None' } as const)[
            value.toLowerCase() as 'strict' | 'lax' | 'none'
          ];
          if (!sameSite)
            throw configError(`The cookie "${name}" has SameSite=${value}; use Strict, Lax or None`);
          cookie.sameSite = sameSite;
          break;
        }
        case 'max-age': {
          if (!/^-?\d{1,10}$/.test(value))
            throw configError(`The cookie "${name}" has Max-Age=${value}; give whole seconds`);
          cookie.expires = Math.floor(Date.now() / 1000) + Number(value);
          break;
        }
        case 'expires': {
          const when = Date.parse(value);
          if (Number.isNaN(when))
            throw configError(`The cookie "${name}" has Expires=${value}; give an HTTP date`);
          cookie.expires ??= Math.floor(when / 1000);
          break;
        }
        default:
          throw configError(
            `The cookie "${name}" has an unknown attribute "${attribute.trim().split('=')[0]}"; use Domain, Path, Secure, HttpOnly, SameSite, Max-Age or Expires`,
          );
      }
    }
    if (cookie.sameSite === 'None' && !cookie.secure)
      throw configError(`The cookie "${name}" has SameSite=None without Secure; browsers refuse it`);
    return cookie;
  });
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

function parseFlag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw configError(`The ${name} parameter "${value}" must be true or false`);
}

function parsePdf(
  get: (name: string) => string | undefined,
  context: ExtensionContext,
): PdfOptions | undefined {
  const paper = get('pdf_paper');
  const landscape = parseFlag(get('pdf_landscape'), 'pdf_landscape');
  const printBackground = parseFlag(get('pdf_print_background'), 'pdf_print_background');
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
