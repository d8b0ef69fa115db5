import { ApiError } from '../errors.js';

/**
 * The one parser that decides what a user-given URL points at. WHATWG URL parsing (the same rules
 * Chromium applies) canonicalises decimal, octal and hex IPv4 forms, lower-cases schemes and hosts, strips
 * userinfo into its own fields and turns IDN into punycode, so what we check is what the browser would
 * contact.
 */
export interface TargetUrl {
  url: URL;
  /** Host to resolve or to use as an address: no brackets, no trailing dot. */
  hostname: string;
  port: number;
}

export function parseTargetUrl(raw: string, parameter = 'url'): TargetUrl {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ApiError(
      'ERR::SCRAPE::CONFIG_ERROR',
      `The ${parameter} parameter "${truncate(raw)}" is not an absolute URL; give one like https://example.com/page (url-encoded)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiError(
      'ERR::SCRAPE::BAD_PROTOCOL',
      `The ${parameter} parameter uses "${url.protocol}"; only http:// and https:// URLs can be captured`,
    );
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (!hostname) {
    throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', `The ${parameter} parameter has no host name`);
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { url, hostname, port };
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
