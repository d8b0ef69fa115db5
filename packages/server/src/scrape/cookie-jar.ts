import type { BrowserCookie } from '../engine/page-session.js';

/**
 * A session's cookies (session=NAME, docs/compat.md §7): what a browser keeps, after RFC 6265's storage
 * and sending rules (domain and path matching, Secure, Max-Age before Expires, a past expiry deletes),
 * so that the same jar works for scrapes without a browser and is loaded into and read back from
 * Chromium for scrapes with one.
 */
export interface StoredCookie {
  name: string;
  value: string;
  /** Lower-case host or domain, without a leading dot. */
  domain: string;
  /** Sent to `domain` only (no Domain attribute), not to its subdomains. */
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Unix seconds; undefined: kept for as long as the session lives. */
  expires?: number;
}

/** At most this many cookies a session (the oldest go first), as browsers cap a store. */
export const MAX_SESSION_COOKIES = 300;

export class CookieJar {
  private cookies: StoredCookie[];

  constructor(cookies: readonly StoredCookie[] = []) {
    this.cookies = [...cookies];
  }

  list(nowSeconds: number): StoredCookie[] {
    return this.cookies.filter((cookie) => !isExpired(cookie, nowSeconds));
  }

  /** The Cookie header a request to `url` carries, or undefined when no cookie applies. */
  headerFor(url: string, nowSeconds: number): string | undefined {
    const target = new URL(url);
    const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    const matching = this.list(nowSeconds)
      .filter(
        (cookie) =>
          (cookie.hostOnly ? host === cookie.domain : domainMatches(host, cookie.domain)) &&
          pathMatches(target.pathname || '/', cookie.path) &&
          (!cookie.secure || target.protocol === 'https:'),
      )
      // Longer paths first (RFC 6265 5.4).
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length > 0
      ? matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ')
      : undefined;
  }

  /** Stores the Set-Cookie lines of an answer from `url` (ones for another site are ignored). */
  applySetCookies(lines: readonly string[], url: string, nowSeconds: number): void {
    for (const line of lines) {
      const cookie = parseSetCookie(line, url, nowSeconds);
      if (cookie) this.put(cookie, nowSeconds);
    }
  }

  /** The cookies as the browser had them at the end of a render: they become the jar. */
  replaceWithBrowserCookies(cookies: readonly BrowserCookie[]): void {
    this.cookies = cookies.map(fromBrowserCookie).slice(-MAX_SESSION_COOKIES);
  }

  private put(cookie: StoredCookie, nowSeconds: number): void {
    this.cookies = this.cookies.filter(
      (kept) => !(kept.name === cookie.name && kept.domain === cookie.domain && kept.path === cookie.path),
    );
    if (!isExpired(cookie, nowSeconds)) this.cookies.push(cookie);
    if (this.cookies.length > MAX_SESSION_COOKIES) this.cookies = this.cookies.slice(-MAX_SESSION_COOKIES);
  }
}

/** What CDP's Network.setCookies takes for a stored cookie. */
export function toBrowserCookie(cookie: StoredCookie) {
  return {
    name: cookie.name,
    value: cookie.value,
    // A host-only cookie is set through a URL of its host; a domain cookie with its leading dot.
    ...(cookie.hostOnly
      ? { url: `${cookie.secure ? 'https' : 'http'}://${cookie.domain}${cookie.path}` }
      : { domain: `.${cookie.domain}` }),
    path: cookie.path,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    ...(cookie.sameSite ? { sameSite: cookie.sameSite } : {}),
    ...(cookie.expires !== undefined ? { expires: cookie.expires } : {}),
  };
}

function fromBrowserCookie(cookie: BrowserCookie): StoredCookie {
  return {
    name: cookie.name,
    value: cookie.value,
    domain: cookie.domain.replace(/^\./, '').toLowerCase(),
    hostOnly: !cookie.domain.startsWith('.'),
    path: cookie.path || '/',
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    ...(cookie.sameSite ? { sameSite: cookie.sameSite } : {}),
    ...(cookie.expires > 0 ? { expires: Math.floor(cookie.expires) } : {}),
  };
}

function isExpired(cookie: StoredCookie, nowSeconds: number): boolean {
  return cookie.expires !== undefined && cookie.expires <= nowSeconds;
}

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (host.endsWith(`.${domain}`) && !/^[\d.]+$/.test(host));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** RFC 6265 5.1.4: the directory of the request's path. */
function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}

function parseSetCookie(line: string, url: string, nowSeconds: number): StoredCookie | undefined {
  const target = new URL(url);
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const [pair = '', ...attributes] = line.split(';');
  const at = pair.indexOf('=');
  if (at <= 0) return undefined;
  const cookie: StoredCookie = {
    name: pair.slice(0, at).trim(),
    value: pair.slice(at + 1).trim(),
    domain: host,
    hostOnly: true,
    path: defaultPath(target),
    secure: false,
    httpOnly: false,
  };
  let maxAge: number | undefined;
  let expires: number | undefined;
  for (const attribute of attributes) {
    const [rawName = '', ...rest] = attribute.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (name === 'domain' && value) {
      const domain = value.replace(/^\./, '').toLowerCase();
      // A cookie for another site (or a sibling) is not stored, as a browser refuses it.
      if (!domainMatches(host, domain)) return undefined;
      cookie.domain = domain;
      cookie.hostOnly = false;
    } else if (name === 'path' && value.startsWith('/')) cookie.path = value;
    else if (name === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (name === 'expires' && value) {
      const time = Date.parse(value);
      if (!Number.isNaN(time)) expires = Math.floor(time / 1000);
    } else if (name === 'secure') cookie.secure = true;
    else if (name === 'httponly') cookie.httpOnly = true;
    else if (name === 'samesite') {
      const same = value.toLowerCase();
      if (same === 'strict') cookie.sameSite = 'Strict';
      else if (same === 'lax') cookie.sameSite = 'Lax';
      else if (same === 'none') cookie.sameSite = 'None';
    }
  }
  if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : nowSeconds + maxAge;
  else if (expires !== undefined) cookie.expires = expires;
  return cookie;
}
