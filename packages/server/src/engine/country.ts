import { ApiError } from '../errors.js';

/**
 * The `country` parameter (docs/compat.md §1): `us` (one), `us,ca,mx` (random pick), `-gb` (any configured
 * country but these), `us:10,gb:5` (weighted pick). Parsed and validated when the request is parsed; the
 * pick happens per capture against the proxies the operator configured (SNAPWIRE_COUNTRY_PROXIES).
 */
export interface CountrySpec {
  /** Countries asked for, with their weights (empty: any configured country). */
  include: Array<{ code: string; weight: number }>;
  exclude: string[];
}

const configError = (reason: string) => new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);
const CODE = /^[a-z]{2}$/;

/** Validates and normalises (lower case, no spaces); throws CONFIG_ERROR (400) naming what is wrong. */
export function parseCountrySpec(raw: string): CountrySpec {
  const parts = raw
    .toLowerCase()
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) throw configError('The country parameter is empty; give a country code such as us');
  const spec: CountrySpec = { include: [], exclude: [] };
  for (const part of parts) {
    if (part.startsWith('-')) {
      const code = part.slice(1);
      if (!CODE.test(code))
        throw configError(
          `The country parameter has "${part}"; an exclusion is a minus and a two-letter code (-gb)`,
        );
      if (!spec.exclude.includes(code)) spec.exclude.push(code);
      continue;
    }
    const match = /^([a-z]{2})(?::(\d{1,6}))?$/.exec(part);
    if (!match) {
      throw configError(
        `The country parameter has "${part}"; use two-letter codes (us), a list (us,ca,mx), exclusions (-gb) or weights (us:10,gb:5)`,
      );
    }
    const code = match[1] as string;
    const weight = match[2] === undefined ? 1 : Number(match[2]);
    if (weight < 1) throw configError(`The weight of "${code}" in the country parameter must be at least 1`);
    if (spec.include.some((entry) => entry.code === code))
      throw configError(`The country parameter names "${code}" twice`);
    spec.include.push({ code, weight });
  }
  const both = spec.include.find((entry) => spec.exclude.includes(entry.code));
  if (both) throw configError(`The country parameter both asks for and excludes "${both.code}"`);
  return spec;
}

/** The canonical text of a spec (for cache keys and logs). */
export function formatCountrySpec(spec: CountrySpec): string {
  return [
    ...spec.include.map((entry) => (entry.weight === 1 ? entry.code : `${entry.code}:${entry.weight}`)),
    ...spec.exclude.map((code) => `-${code}`),
  ].join(',');
}

/**
 * Picks a country among the configured ones. Every country asked for by name must have a proxy, else a
 * 400 says which ones are missing and which exist.
 */
export function pickCountry(
  spec: CountrySpec,
  configured: readonly string[],
  random: () => number = Math.random,
): string {
  const known = new Set(configured);
  const available =
    configured.length > 0 ? `configured: ${[...known].sort().join(', ')}` : 'none is configured';
  const missing = spec.include.filter((entry) => !known.has(entry.code)).map((entry) => entry.code);
  if (missing.length > 0) {
    throw configError(
      `No egress proxy is configured for country ${missing.map((code) => `"${code}"`).join(', ')} on this Snapwire host (${available}); choose another country or ask the operator to add one (SNAPWIRE_COUNTRY_PROXIES)`,
    );
  }
  const candidates =
    spec.include.length > 0
      ? spec.include.filter((entry) => !spec.exclude.includes(entry.code))
      : [...known].filter((code) => !spec.exclude.includes(code)).map((code) => ({ code, weight: 1 }));
  if (candidates.length === 0) {
    throw configError(
      `The country parameter leaves no country with an egress proxy (${available}); exclude fewer countries`,
    );
  }
  const total = candidates.reduce((sum, entry) => sum + entry.weight, 0);
  let ticket = random() * total;
  for (const entry of candidates) {
    ticket -= entry.weight;
    if (ticket < 0) return entry.code;
  }
  return (candidates[candidates.length - 1] as { code: string }).code;
}

/**
 * SNAPWIRE_COUNTRY_PROXIES: `us=http://user:pass@10.0.0.5:3128|http://10.0.0.6:3128,gb=http://10.1.0.5:3128`.
 * Several proxies for one country are used in turn at random.
 */
export function parseCountryProxies(value: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf('=');
    const code = entry.slice(0, separator).trim().toLowerCase();
    if (separator < 0 || !CODE.test(code)) {
      throw new Error(`"${entry}" is not COUNTRY=PROXY_URL (for example us=http://10.0.0.5:3128)`);
    }
    const proxies = entry
      .slice(separator + 1)
      .split('|')
      .map((proxy) => proxy.trim())
      .filter(Boolean);
    if (proxies.length === 0) throw new Error(`country ${code} has no proxy URL`);
    for (const proxy of proxies) {
      let url: URL;
      try {
        url = new URL(proxy);
      } catch {
        throw new Error(`the proxy of country ${code} is not a URL: ${proxy}`);
      }
      if (url.protocol !== 'http:')
        throw new Error(`the proxy of country ${code} must be an http:// proxy (CONNECT)`);
    }
    result[code] = [...(result[code] ?? []), ...proxies];
  }
  return result;
}
