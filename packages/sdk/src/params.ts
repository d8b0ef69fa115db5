// Screenshot parameters as Scrapfly names them (docs/compat.md §1) and their encoding into the query string.

import { Buffer } from 'node:buffer';

export type ScreenshotFormat = 'jpg' | 'png' | 'webp' | 'gif';
export type ScreenshotOption = 'load_images' | 'dark_mode' | 'block_banners' | 'print_media_format';
export type VisionDeficiency =
  | 'none'
  | 'deuteranopia'
  | 'protanopia'
  | 'tritanopia'
  | 'achromatopsia'
  | 'blurredVision'
  | 'reducedContrast';

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
  return query;
}
