import { MASKED } from '../request/capture-extensions.js';

/** Headers kept per log at most, and characters per value: a log row stays small whatever the target sends. */
const MAX_HEADERS = 64;
const MAX_VALUE_CHARS = 512;
/** Answer headers that may carry the caller's session with the target: the log keeps their names only. */
const SECRET_HEADERS = new Set(['set-cookie', 'authorization', 'proxy-authenticate', 'www-authenticate']);

/** The target's answer headers as a scrape's monitoring log keeps them (shown on its dashboard page). */
export function loggedResponseHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .slice(0, MAX_HEADERS)
      .map(([name, value]) => [
        name,
        SECRET_HEADERS.has(name.toLowerCase())
          ? MASKED
          : value.length > MAX_VALUE_CHARS
            ? `${value.slice(0, MAX_VALUE_CHARS)}…`
            : value,
      ]),
  );
}
