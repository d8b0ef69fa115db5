import type { RequestCookie } from '../engine/capture-spec.js';
import { configError, CONTROL, TOKEN } from './rules.js';

/** The `cookies` parameter: Set-Cookie-like lines, each kept to the target's host or a parent domain. */

export const COOKIE_LIMITS = {
  maxCookies: 50,
  maxCookieBytes: 4 * 1024,
} as const;

/** `name=value; Domain=...; Path=...; Secure; HttpOnly; SameSite=Lax; Max-Age=...; Expires=...`. */
export function parseCookies(raw: string | string[] | undefined, target: URL): RequestCookie[] | undefined {
  if (raw === undefined) return undefined;
  const lines = (Array.isArray(raw) ? raw : [raw]).filter((line) => line.trim() !== '');
  if (lines.length === 0) return undefined;
  if (lines.length > COOKIE_LIMITS.maxCookies)
    throw configError(`At most ${COOKIE_LIMITS.maxCookies} cookies are accepted; got ${lines.length}`);
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return lines.map((line, index) => {
    const which = `cookies #${index + 1}`;
    if (Buffer.byteLength(line) > COOKIE_LIMITS.maxCookieBytes || CONTROL.test(line)) {
      throw configError(`${which} must be one line of at most ${COOKIE_LIMITS.maxCookieBytes} bytes`);
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
          // eslint-disable-next-line no-restricted-properties -- the browser counts Max-Age on real time
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
