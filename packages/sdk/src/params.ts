// Screenshot parameters as Scrapfly names them (docs/compat.md §1) and their encoding into the query string.

import { Buffer } from 'node:buffer';

// The values as lists too, so that the CLI's choices and the MCP tools' schemas come from one place.
export const SCREENSHOT_FORMATS = ['jpg', 'png', 'webp', 'gif', 'pdf'] as const;
export type ScreenshotFormat = (typeof SCREENSHOT_FORMATS)[number];
export type PdfPaper = 'a3' | 'a4' | 'a5' | 'letter' | 'legal' | 'tabloid';
export const SCREENSHOT_OPTIONS = [
  'dark_mode',
  'print_media_format',
  'block_banners',
  'load_images',
] as const;
export type ScreenshotOption = (typeof SCREENSHOT_OPTIONS)[number];
export const VISION_DEFICIENCIES = [
  'none',
  'deuteranopia',
  'protanopia',
  'tritanopia',
  'achromatopsia',
  'blurredVision',
  'reducedContrast',
] as const;
export type VisionDeficiency = (typeof VISION_DEFICIENCIES)[number];

export interface ScreenshotParams {
  /** Page to capture (http or https). */
  url: string;
  /** Image format; the server's default is `jpg`. */
  format?: ScreenshotFormat;
  /** `viewport` (default), `fullpage`, `vertical`, a CSS selector or an XPath. */
  capture?: string;
  /** `WIDTHxHEIGHT`, default `1920x1080`. */
  resolution?: string;
  /** `us`, `us,ca,mx`, `-gb`, `us:10,gb:5`. */
  country?: string;
  /** Whole-request budget in milliseconds. */
  timeout?: number;
  /** Milliseconds to wait after load before the capture. */
  rendering_wait?: number;
  /** CSS selector or XPath to wait for. */
  wait_for_selector?: string;
  /** Sent as a comma list. */
  options?: readonly ScreenshotOption[];
  auto_scroll?: boolean;
  /** Plain JavaScript; the client sends it base64url-encoded without padding, as Scrapfly's TS SDK does. */
  js?: string;
  cache?: boolean;
  /** Seconds; only counts with `cache: true`. */
  cache_ttl?: number;
  /** Only counts with `cache: true`. */
  cache_clear?: boolean;
  vision_deficiency?: VisionDeficiency;
  /** Makes the call asynchronous: the server answers 201 at once and POSTs the image to that webhook. */
  webhook_name?: string;

  // Snapwire extensions (the server's README, "Snapwire extensions").
  /** Extra request headers, sent only to the target URL's own origin; sent as `headers[NAME]=VALUE`. */
  headers?: Readonly<Record<string, string>>;
  /** Cookies set before navigation, each `name=value; Domain=...; Path=...; Secure; HttpOnly`. */
  cookies?: readonly string[];
  /** Pixel density 1-3 (decimals allowed): the image is the resolution times this. */
  device_scale_factor?: number;
  /** A device preset name from `GET /devices`, for example `iPhone 15`. */
  viewport_device?: string;
  user_agent?: string;
  /** CSS selectors hidden before the capture (also elements added later); sent as a comma list. */
  hide_selectors?: readonly string[];
  /** CSS selector or XPath clicked once after load (after wait_for_selector), before rendering_wait. */
  click?: string;
  /** Transparent background where the page paints none (format png or webp). */
  omit_background?: boolean;
  /** With format `pdf`; default `a4`. */
  pdf_paper?: PdfPaper;
  pdf_landscape?: boolean;
  /** Default true. */
  pdf_print_background?: boolean;
  /** IANA time zone, for example `Europe/Paris`. */
  timezone?: string;
  /** `lat,lon[,accuracy]`, or an object. */
  geolocation?: string | { latitude: number; longitude: number; accuracy?: number };
}

/** UTF-8 -> base64url without `=` padding. */
export function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * The query string of `GET /screenshot` (without `key`). Unset parameters are left out; booleans become
 * `true` / `false`.
 */
export function buildScreenshotQuery(params: ScreenshotParams): URLSearchParams {
  if (params === null || typeof params !== 'object')
    throw new TypeError('screenshot params must be an object');
  if (typeof params.url !== 'string' || params.url.trim() === '') {
    throw new TypeError('screenshot params: `url` is required');
  }
  const query = new URLSearchParams();
  const put = (name: string, value: string | number | boolean | undefined | null): void => {
    if (value === undefined || value === null || value === '') return;
    query.set(name, typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value));
  };
  put('url', params.url);
  put('format', params.format);
  put('capture', params.capture);
  put('resolution', params.resolution);
  put('country', params.country);
  put('timeout', params.timeout);
  put('rendering_wait', params.rendering_wait);
  put('wait_for_selector', params.wait_for_selector);
  if (params.options && params.options.length > 0) put('options', params.options.join(','));
  put('auto_scroll', params.auto_scroll);
  if (params.js !== undefined && params.js !== '') put('js', base64url(params.js));
  put('cache', params.cache);
  put('cache_ttl', params.cache_ttl);
  put('cache_clear', params.cache_clear);
  put('vision_deficiency', params.vision_deficiency);
  put('webhook_name', params.webhook_name);
  for (const [name, value] of Object.entries(params.headers ?? {})) query.append(`headers[${name}]`, value);
  for (const cookie of params.cookies ?? []) query.append('cookies', cookie);
  put('device_scale_factor', params.device_scale_factor);
  put('viewport_device', params.viewport_device);
  put('user_agent', params.user_agent);
  if (params.hide_selectors && params.hide_selectors.length > 0)
    put('hide_selectors', params.hide_selectors.join(','));
  put('click', params.click);
  put('omit_background', params.omit_background);
  put('pdf_paper', params.pdf_paper);
  put('pdf_landscape', params.pdf_landscape);
  put('pdf_print_background', params.pdf_print_background);
  put('timezone', params.timezone);
  const geo = params.geolocation;
  if (geo !== undefined)
    put(
      'geolocation',
      typeof geo === 'string'
        ? geo
        : [geo.latitude, geo.longitude, ...(geo.accuracy === undefined ? [] : [geo.accuracy])].join(','),
    );
  return query;
}
