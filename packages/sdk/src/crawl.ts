/**
 * The Crawler API (/crawl) as @snapwire/sdk speaks it (the server's docs/compat.md §9): the configuration
 * sent, the status read, the URL lists parsed.
 */

export const CRAWL_CONTENT_FORMATS = [
  'html',
  'clean_html',
  'markdown',
  'text',
  'json',
  'page_metadata',
] as const;
export type CrawlContentFormat = (typeof CRAWL_CONTENT_FORMATS)[number];
export type CrawlUrlStatus = 'visited' | 'pending' | 'failed' | 'skipped';

/** POST /crawl's body: the names of Scrapfly's crawler configuration. */
export interface CrawlConfig {
  url?: string;
  url_list?: string[];
  page_limit?: number;
  max_depth?: number;
  max_duration?: number;
  max_api_credit?: number;
  exclude_paths?: string[];
  include_only_paths?: string[];
  ignore_base_path_restriction?: boolean;
  follow_external_links?: boolean;
  allowed_external_domains?: string[];
  follow_internal_subdomains?: boolean;
  allowed_internal_subdomains?: string[];
  headers?: Record<string, string>;
  user_agent?: string;
  delay?: number;
  max_concurrency?: number;
  use_sitemaps?: boolean;
  respect_robots_txt?: boolean;
  ignore_no_follow?: boolean;
  content_formats?: CrawlContentFormat[];
}

export interface CrawlStatus {
  crawler_uuid: string;
  status: 'PENDING' | 'RUNNING' | 'DONE' | 'CANCELLED';
  is_finished: boolean;
  is_success: boolean | null;
  state: {
    urls_visited: number;
    urls_extracted: number;
    urls_failed: number;
    urls_skipped: number;
    urls_to_crawl: number;
    api_credit_used: number;
    duration: number;
    start_time: number | null;
    stop_time: number | null;
    stop_reason: string | null;
  };
}

export interface CrawlUrl {
  url: string;
  /** Why a failed or skipped URL is so. */
  reason?: string;
}

/** GET /crawl/{uuid}/urls's text: one URL a line, `url,reason` for failed and skipped ones. */
export function parseCrawlUrls(text: string): CrawlUrl[] {
  const out: CrawlUrl[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const comma = line.indexOf(',');
    out.push(comma === -1 ? { url: line } : { url: line.slice(0, comma), reason: line.slice(comma + 1) });
  }
  return out;
}
