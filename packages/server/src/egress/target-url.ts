import { domainToUnicode } from 'node:url';
import { ApiError } from '../errors.js';
import { isIpLiteral } from './addresses.js';

/**
 * The one parser that decides what a user-given URL points at: the captured url, webhook URLs and every
 * redirect Location the webhook client follows. It is the WHATWG URL parser, the same rules Chromium
 * applies, so what we check is what the browser would contact: it canonicalises decimal, octal and hex
 * IPv4 forms (2130706433, 0x7f.1, 0177.0.0.1 -> 127.0.0.1), full-width and percent-encoded digits,
 * lower-cases schemes and hosts, strips userinfo into its own fields (http://good.com@127.0.0.1/ is
 * 127.0.0.1), turns IDN into punycode and writes IPv6 in one canonical form ([::127.0.0.1] -> [::7f00:1]).
 * Trailing dots are dropped from the host here, so `localhost.` is `localhost`.
 */
export interface TargetUrl {
  url: URL;
  /** Host to resolve or to use as an address: no brackets, no trailing dot, lower case, punycode. */
  hostname: string;
  port: number;
  /** The host is an IP literal (nothing to resolve). */
  isIp: boolean;
}

export interface ParseTargetOptions {
  /** Name of what is parsed, for messages ("url parameter", "webhook url", "redirect Location"). */
  what?: string;
  /** What is done with it, for messages ("captured", "called"). */
  verb?: string;
}

export function parseTargetUrl(raw: string, parameter: string | ParseTargetOptions = 'url'): TargetUrl {
  const options = typeof parameter === 'string' ? { what: `${parameter} parameter` } : parameter;
  const what = options.what ?? 'url parameter';
  const verb = options.verb ?? 'captured';
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ApiError(
      'ERR::SCRAPE::CONFIG_ERROR',
      `The ${what} "${truncate(raw)}" is not an absolute URL; give one like https://example.com/page (url-encoded)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiError(
      'ERR::SCRAPE::BAD_PROTOCOL',
      `The ${what} uses "${url.protocol}"; only http:// and https:// URLs can be ${verb}`,
    );
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  if (!hostname) {
    throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', `The ${what} has no host name`);
  }
  const badLabel = hostname.split('.').find(isBrokenPunycode);
  if (badLabel !== undefined) {
    throw new ApiError(
      'ERR::SCRAPE::CONFIG_ERROR',
      `The ${what} has the host name label "${badLabel}", which is not valid punycode; give the host name as written (bücher.example) or its correct xn-- form`,
    );
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { url, hostname, port, isIp: isIpLiteral(hostname) };
}

/**
 * An `xn--` label that does not decode. Node 20 and 22's URL parser refuses such a host; Node 24's accepts
 * it as it is (`http://xn--/`), so the check is made here, the same on every version: a label that
 * decodes comes back as Unicode, one that does not comes back empty (20, 22) or unchanged (24).
 */
function isBrokenPunycode(label: string): boolean {
  if (!label.startsWith('xn--')) return false;
  const decoded = domainToUnicode(label);
  return decoded === '' || decoded.startsWith('xn--');
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
