import type { CrawlRequest } from '../request/crawl-request.js';

/**
 * Which URLs a crawl visits (docs/compat.md §9, "Scope"). URLs are normalised so that one page is one row:
 * the fragment is dropped, scheme and host are lower case, a default port (:80 for http, :443 for https)
 * is dropped, an empty path is `/`, an empty query (`?`) is dropped. A trailing slash is kept as written:
 * servers may answer `/a` and `/a/` differently, so they are different pages (only the root is one).
 */
export function normaliseUrl(raw: string, base?: string): string | undefined {
  let url: URL;
  try {
    url = base === undefined ? new URL(raw) : new URL(raw, base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  url.username = '';
  url.password = '';
  // WHATWG URL already lower-cases the host and drops default ports; '?' alone is kept as an empty search.
  if (url.search === '?') url.search = '';
  return url.href;
}

/**
 * exclude_paths / include_only_paths: a rule matches the URL's whole path (without the query); `*` stands
 * for any run of characters, `/` included. `/blog/*` matches every page under /blog/, `*.pdf` every PDF.
 */
export function pathRule(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

export type SkipReason = 'exclude_paths' | 'include_only_paths' | 'robots_txt' | 'max_depth';

/** How a discovered link relates to the crawl: followed (and how), or left out (not recorded). */
export type Scope = { inScope: true; external: boolean } | { inScope: false };

export class CrawlScope {
  private readonly seed: URL;
  private readonly basePath: string;
  private readonly exclude: RegExp[];
  private readonly includeOnly: RegExp[];

  constructor(private readonly request: CrawlRequest) {
    this.seed = new URL(request.url);
    // The seed's folder: https://a.test/docs/intro -> /docs/ (the base path restriction).
    this.basePath = this.seed.pathname.slice(0, this.seed.pathname.lastIndexOf('/') + 1);
    this.exclude = request.excludePaths.map(pathRule);
    this.includeOnly = request.includeOnlyPaths.map(pathRule);
  }

  /** Where a link may go: the seed's host (and base path), allowed subdomains, allowed external domains. */
  scopeOf(url: string): Scope {
    const target = new URL(url);
    const host = target.hostname;
    const seedHost = this.seed.hostname;
    if (host === seedHost && target.port === this.seed.port) {
      if (this.request.ignoreBasePathRestriction || target.pathname.startsWith(this.basePath)) {
        return { inScope: true, external: false };
      }
      return { inScope: false };
    }
    if (host.endsWith(`.${seedHost}`) && this.request.followInternalSubdomains) {
      const allowed = this.request.allowedInternalSubdomains;
      if (allowed.length === 0 || allowed.some((pattern) => domainMatches(host, pattern))) {
        return { inScope: true, external: false };
      }
    }
    if (this.request.followExternalLinks) {
      const allowed = this.request.allowedExternalDomains;
      if (allowed.length === 0 || allowed.some((pattern) => domainMatches(host, pattern))) {
        return { inScope: true, external: true };
      }
    }
    return { inScope: false };
  }

  /** The path rules' verdict: undefined when the URL may be visited. */
  pathRuleSkip(url: string): SkipReason | undefined {
    const path = new URL(url).pathname;
    if (this.exclude.some((rule) => rule.test(path))) return 'exclude_paths';
    if (this.includeOnly.length > 0 && !this.includeOnly.some((rule) => rule.test(path))) {
      return 'include_only_paths';
    }
    return undefined;
  }
}

/** `example.com` matches itself; `*.example.com` matches its subdomains and itself. */
export function domainMatches(host: string, pattern: string): boolean {
  const name = pattern.toLowerCase();
  if (name.startsWith('*.')) {
    const root = name.slice(2);
    return host === root || host.endsWith(`.${root}`);
  }
  return host === name;
}
