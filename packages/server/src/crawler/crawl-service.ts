import { randomUUID } from 'node:crypto';
import type { Caller } from '../accounts/projects.js';
import type { CreditLedger } from '../accounts/credits.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { CrawlContentFormat, CrawlRequest } from '../request/crawl-request.js';
import type { BlobStore } from '../results/blob-store.js';
import type { Transaction } from 'kysely';
import type { CrawlUrlStatus, Database } from '../store/schema.js';
import type { CrawlRow, CrawlStore } from './crawl-store.js';
import { normaliseUrl } from './url-rules.js';
import { warcInfo } from './warc.js';
import { HAR_CLOSE, HAR_OPEN } from './har.js';
import type { WebhookRegistry } from '../webhooks/registry.js';
import { compileTemplate } from '../extraction/rules.js';
import type { TemplateStore } from '../extraction/template-store.js';
import type { Template } from '../extraction/template.js';

/** GET /crawl/{uuid}/status as both SDKs read it (docs/compat.md §9). */
export interface CrawlStatusAnswer {
  crawler_uuid: string;
  status: CrawlRow['status'];
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

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

const NO_MODEL_FOR_RULES =
  'extraction_rules of type prompt and model ask a language model per page, and none is configured on this Snapwire host; the operator enables it with SNAPWIRE_LLM_BASE_URL and SNAPWIRE_LLM_MODEL (docs/compat.md "Extraction API"). Rules of type template work without one';

/** What the crawl routes do (they never touch the store themselves). */
export class CrawlService {
  constructor(
    private readonly store: CrawlStore,
    private readonly blobs: BlobStore,
    private readonly credits: CreditLedger,
    private readonly clock: Clock,
    private readonly wakeWorker: () => void,
    private readonly webhooks?: WebhookRegistry,
    private readonly templates?: TemplateStore,
    /** Whether the operator configured a language model (SNAPWIRE_LLM_*): prompt and model rules need one. */
    private readonly modelConfigured = false,
  ) {}

  /** `within` runs in the transaction that stores the crawl (a schedule's run commits with it). */
  async start(
    caller: Caller,
    request: CrawlRequest,
    within?: (trx: Transaction<Database>, crawlUuid: string) => Promise<void>,
  ): Promise<{ crawler_uuid: string; status: 'PENDING' }> {
    const used = await this.credits.used(caller.project.id);
    if (used >= caller.project.limits.monthlyCredits) {
      throw new ApiError(
        'ERR::SCRAPE::QUOTA_LIMIT_REACHED',
        `Project ${caller.project.name} used its ${caller.project.limits.monthlyCredits} credits this month; a crawl would stop at once (no_api_credit_left)`,
      );
    }
    if (request.webhookName !== undefined)
      request.webhookUuid = await this.webhookOf(caller, request.webhookName);
    // Saved templates are read now: the crawl keeps the version it started with; a wrong name costs nothing.
    for (const rule of request.extractionRules) {
      if (rule.model) {
        // Refused now, not page after page: without a model no page could be extracted.
        if (!this.modelConfigured) throw new ApiError('ERR::EXTRACTION::CONFIG_ERROR', NO_MODEL_FOR_RULES);
        continue;
      }
      const template =
        rule.template.kind === 'saved'
          ? await this.savedTemplate(caller, rule.template.name)
          : rule.template.template;
      // A template the rules engine cannot compile is refused before the crawl starts.
      compileTemplate(template);
      rule.template = { kind: 'ephemeral', template };
    }
    const uuid = randomUUID();
    await this.store.create({ uuid, projectId: caller.project.id, env: caller.env, request }, within);
    this.wakeWorker();
    return { crawler_uuid: uuid, status: 'PENDING' };
  }

  private async savedTemplate(caller: Caller, name: string): Promise<Template> {
    if (!this.templates) {
      throw new ApiError(
        'ERR::EXTRACTION::TEMPLATE_NOT_FOUND',
        `No saved extraction template "${name}"; send the template itself as the rule's value`,
      );
    }
    return this.templates.resolve(caller, name);
  }

  /**
   * The webhook a crawl's events go to, checked as an asynchronous call checks it (jobs/async-jobs.ts):
   * it exists in the caller's project and environment and is enabled. Its queue limit does not apply: a
   * crawl's events are never refused once the crawl is accepted (docs/compat.md §9).
   */
  private async webhookOf(caller: Caller, name: string): Promise<string> {
    const webhook = await this.webhooks?.find(caller, name);
    if (!webhook) {
      throw new ApiError(
        'ERR::WEBHOOK::NOT_FOUND',
        `No webhook named "${name}" exists in project "${caller.project.name}" (${caller.env}); create it with POST /webhooks or drop webhook_name and poll GET /crawl/{uuid}/status`,
      );
    }
    if (webhook.enabled !== 1) {
      throw new ApiError(
        'ERR::WEBHOOK::DISABLED',
        `The webhook "${name}" is disabled (${webhook.disable_reason ?? 'no reason recorded'}); re-enable it with POST /webhooks/${name}/enable`,
      );
    }
    return webhook.uuid;
  }

  /** The caller's crawl, or ERR::CRAWLER::NOT_FOUND (another project's or environment's too). */
  async crawlOf(caller: Caller, uuid: string): Promise<CrawlRow> {
    const row = await this.store.find(uuid, caller.project.id, caller.env);
    if (!row) {
      throw new ApiError(
        'ERR::CRAWLER::NOT_FOUND',
        `No crawler ${uuid} in project ${caller.project.name} (${caller.env}); use the crawler_uuid POST /crawl answered, with a key of the same environment`,
      );
    }
    return row;
  }

  async status(caller: Caller, uuid: string): Promise<CrawlStatusAnswer> {
    return this.statusOf(await this.crawlOf(caller, uuid));
  }

  private async statusOf(row: CrawlRow): Promise<CrawlStatusAnswer> {
    const counts = await this.store.counts(row.uuid);
    const finished = row.status === 'DONE' || row.status === 'CANCELLED';
    const end = row.stop_time ?? this.clock.now();
    return {
      crawler_uuid: row.uuid,
      status: row.status,
      is_finished: finished,
      is_success: row.is_success === null ? null : row.is_success === 1,
      state: {
        urls_visited: counts.visited,
        urls_extracted: counts.total,
        urls_failed: counts.failed,
        urls_skipped: counts.skipped,
        urls_to_crawl: counts.pending,
        api_credit_used: row.api_credit_used,
        duration: row.start_time === null ? 0 : Math.max(0, (end - row.start_time) / 1000),
        start_time: seconds(row.start_time),
        stop_time: seconds(row.stop_time),
        stop_reason: row.stop_reason,
      },
    };
  }

  /** One page of /urls as text lines: the URL, or `url,reason` for failed and skipped URLs. */
  async urls(
    caller: Caller,
    uuid: string,
    options: { status: CrawlUrlStatus; page: number; perPage: number },
  ): Promise<string> {
    await this.crawlOf(caller, uuid);
    const rows = await this.store.urls(
      uuid,
      options.status,
      (options.page - 1) * options.perPage,
      options.perPage,
    );
    return rows
      .map((row) =>
        row.reason && (row.status === 'failed' || row.status === 'skipped')
          ? `${row.url},${row.reason}`
          : row.url,
      )
      .map((line) => `${line}\n`)
      .join('');
  }

  /** One page's content in one format, or ERR::CRAWLER::CONTENT_NOT_FOUND. */
  async content(caller: Caller, uuid: string, url: string, format: CrawlContentFormat): Promise<string> {
    const row = await this.crawlOf(caller, uuid);
    this.checkFormat(row, format);
    const key = normaliseUrl(url) ?? url;
    const page = await this.store.url(uuid, key);
    if (!page || page.status !== 'visited' || !page.contents_blob) {
      throw new ApiError(
        'ERR::CRAWLER::CONTENT_NOT_FOUND',
        `The crawl has no visited page ${key}${page ? ` (it is ${page.status}${page.reason ? `: ${page.reason}` : ''})` : ''}; GET /crawl/${uuid}/urls lists the visited pages`,
      );
    }
    const contents = await this.readContents(page.contents_blob);
    const content = contents[format];
    if (content === undefined) {
      throw new ApiError(
        'ERR::CRAWLER::CONTENT_NOT_FOUND',
        `${key} cannot be given as ${format} (its content type does not convert); ask for html or text`,
      );
    }
    return content;
  }

  /** Visited pages from `offset`, each in `format`: {url: {format: content}}. */
  async contents(
    caller: Caller,
    uuid: string,
    format: CrawlContentFormat,
    offset: number,
    limit: number,
  ): Promise<{ contents: Record<string, Record<string, string>>; more: boolean }> {
    const row = await this.crawlOf(caller, uuid);
    this.checkFormat(row, format);
    const pages = await this.store.urls(uuid, 'visited', offset, limit + 1);
    const contents: Record<string, Record<string, string>> = {};
    for (const page of pages.slice(0, limit)) {
      if (!page.contents_blob) continue;
      const stored = await this.readContents(page.contents_blob);
      if (stored[format] !== undefined) contents[page.url] = { [format]: stored[format] };
    }
    return { contents, more: pages.length > limit };
  }

  /** Several visited pages in several formats: one entry per page and format found (the rest is left out). */
  async contentsBatch(
    caller: Caller,
    uuid: string,
    urls: string[],
    formats: CrawlContentFormat[],
  ): Promise<Array<{ url: string; format: CrawlContentFormat; content: string }>> {
    const row = await this.crawlOf(caller, uuid);
    for (const format of formats) this.checkFormat(row, format);
    const parts: Array<{ url: string; format: CrawlContentFormat; content: string }> = [];
    for (const url of urls) {
      const page = await this.store.url(uuid, normaliseUrl(url) ?? url);
      if (!page || page.status !== 'visited' || !page.contents_blob) continue;
      const stored = await this.readContents(page.contents_blob);
      for (const format of formats) {
        const content = stored[format];
        if (content !== undefined) parts.push({ url: page.url, format, content });
      }
    }
    return parts;
  }

  /**
   * The crawl's WARC file (gzip, WARC 1.1): a warcinfo record, then every visited page's request and
   * response records in discovery order, read from the blob store a page of rows at a time.
   */
  async warc(caller: Caller, uuid: string): Promise<AsyncIterable<Buffer>> {
    const row = await this.crawlOf(caller, uuid);
    const { store, blobs } = this;
    const createdAt = row.created_at;
    return (async function* records() {
      yield warcInfo(row.uuid, row.seed_url, createdAt);
      for (let offset = 0; ; offset += 200) {
        const pages = await store.urls(uuid, 'visited', offset, 200);
        for (const page of pages) {
          const bytes = page.warc_blob ? await blobs.get(page.warc_blob) : undefined;
          if (bytes) yield bytes;
        }
        if (pages.length < 200) return;
      }
    })();
  }

  /** The crawl's HAR 1.2 file: one entry per visited page, in discovery order. */
  async har(caller: Caller, uuid: string): Promise<AsyncIterable<Buffer>> {
    await this.crawlOf(caller, uuid);
    const { store, blobs } = this;
    return (async function* entries() {
      yield Buffer.from(HAR_OPEN);
      let first = true;
      for (let offset = 0; ; offset += 200) {
        const pages = await store.urls(uuid, 'visited', offset, 200);
        for (const page of pages) {
          const bytes = page.har_blob ? await blobs.get(page.har_blob) : undefined;
          if (!bytes) continue;
          yield first ? bytes : Buffer.concat([Buffer.from(','), bytes]);
          first = false;
        }
        if (pages.length < 200) break;
      }
      yield Buffer.from(HAR_CLOSE);
    })();
  }

  /** The caller's crawls with their status, newest first (the dashboard's list). */
  async list(caller: Caller, limit: number): Promise<Array<CrawlStatusAnswer & { seed_url: string }>> {
    const rows = await this.store.list(caller.project.id, caller.env, limit);
    return Promise.all(rows.map(async (row) => ({ ...(await this.statusOf(row)), seed_url: row.seed_url })));
  }

  /** A page of a crawl's URLs (in any status, or one), and how many it found at each depth (the dashboard's page). */
  async overview(
    caller: Caller,
    uuid: string,
    options: { offset: number; limit: number; status?: CrawlUrlStatus },
  ): Promise<{
    seedUrl: string;
    urls: Array<{
      url: string;
      depth: number;
      status: CrawlUrlStatus;
      reason: string | null;
      httpStatus: number | null;
      /** The page's monitoring log (kind `crawl`), when one was written. */
      logUuid: string | null;
    }>;
    depths: Array<{ depth: number; count: number }>;
  }> {
    const row = await this.crawlOf(caller, uuid);
    const [urls, depths] = await Promise.all([
      this.store.allUrls(uuid, options.offset, options.limit, options.status),
      this.store.depths(uuid),
    ]);
    return {
      seedUrl: row.seed_url,
      urls: urls.map((u) => ({
        url: u.url,
        depth: u.depth,
        status: u.status,
        reason: u.reason,
        httpStatus: u.http_status,
        logUuid: u.log_uuid,
      })),
      depths,
    };
  }

  async cancel(caller: Caller, uuid: string): Promise<void> {
    await this.crawlOf(caller, uuid);
    await this.store.finish(uuid, { status: 'CANCELLED', stopReason: 'user_cancelled', success: false });
  }

  private checkFormat(row: CrawlRow, format: CrawlContentFormat): void {
    const asked = (JSON.parse(row.config) as CrawlRequest).contentFormats;
    if (!asked.includes(format)) {
      throw new ApiError(
        'ERR::CRAWLER::CONFIG_ERROR',
        `This crawl stored ${asked.join(', ')}, not ${format}; ask for one of those (content_formats is set when the crawl starts)`,
      );
    }
  }

  private async readContents(key: string): Promise<Record<string, string>> {
    const bytes = await this.blobs.get(key);
    if (!bytes) {
      throw new ApiError(
        'ERR::CRAWLER::CONTENT_NOT_FOUND',
        'The page was stored, but its contents are gone from the blob store (retention); crawl it again',
      );
    }
    return JSON.parse(bytes.toString('utf8')) as Record<string, string>;
  }
}
