// Over 400 lines as one coherent thing: one crawl page's life (claim, fetch or render, store, discover,
// finish) and the loop that runs it; the steps share the claim, its lease and the crawl's counters.
import type { Logger } from 'pino';
import type { CreditLedger } from '../accounts/credits.js';
import type { ProjectService } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import type { GuardedHttpClient } from '../egress/http-client.js';
import { ulid } from 'ulid';
import { projectScope, type ConcurrencyLeases } from '../accounts/concurrency-leases.js';
import { ApiError, isApiError } from '../errors.js';
import type { LogStore } from '../logs/log-store.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import type { BlobStore } from '../results/blob-store.js';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';
import type { CrawlRow, CrawlStore, DiscoveryOrigin, NewUrl, UrlClaim } from './crawl-store.js';
import { linksOf } from './links.js';
import { pageContents } from './page-contents.js';
import { crawlPageCost } from './page-cost.js';
import { scrapeConfigOf } from './crawl-events.js';
import { PageExtraction, type PageModelExtract } from './page-extraction.js';
import { fetchForCrawl, type CrawlFetchLimits, type PageRenderer } from './page-fetch.js';
import { fetchRobotsTxt, robotsRules, type RobotsRules } from './robots.js';
import { sitemapUrls } from './sitemaps.js';
import { CrawlScope, normaliseUrl } from './url-rules.js';
import { pageRecords } from './warc.js';
import { harEntry } from './har.js';

export interface CrawlWorkerOptions {
  nodeId: string;
  /** Pages this node fetches at once, over all crawls. */
  slots: number;
  /** A claimed URL not written within this time is claimable by another node. */
  leaseMs: number;
  /** How often to look for work when nothing woke the worker. */
  pollMs: number;
  fetch: CrawlFetchLimits;
}

/** How long a crawl whose project (or the browsers) had no free slot waits before it claims again. */
const SLOT_RETRY_MS = 200;

/** A crawl whose rounds fail this many times in a row ends with stop_reason crawler_error. */
const MAX_ROUND_FAILURES = 5;

interface ActiveCrawl {
  row: CrawlRow;
  request: CrawlRequest;
  scope: CrawlScope;
  robots: RobotsRules | undefined;
  extraction: PageExtraction | undefined;
}

/**
 * One loop per process over the active crawls in the store: stop the ones past a limit, claim pending URLs
 * within each crawl's limits (crawler/crawl-store.ts), fetch each through the egress guard, store its
 * contents in the blob store, record its links, and write the result fenced by the claim's lease. The
 * store holds everything: a node that stops (or dies) leaves nothing another node cannot finish.
 */
export class CrawlWorker {
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private readonly robotsCache = new Map<string, RobotsRules>();
  /** Each crawl's extraction_rules, compiled once on this node. */
  private readonly extractions = new Map<string, PageExtraction>();
  /** Crawls whose robots.txt this node is reading now. */
  private readonly robotsReads = new Set<string>();
  /** Crawls whose project had no free slot (or no free browser): not claimed again before this instant. */
  private readonly waitingForSlot = new Map<string, number>();
  /** Rounds in a row that failed, per crawl. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly store: CrawlStore,
    private readonly http: GuardedHttpClient,
    private readonly blobs: BlobStore,
    private readonly credits: CreditLedger,
    private readonly projects: ProjectService,
    private readonly clock: Clock,
    private readonly options: CrawlWorkerOptions,
    private readonly logger: Logger,
    /** Each page's monitoring log row and its project concurrency slot (none in store-only tests). */
    private readonly pages?: { logs: LogStore; concurrency: ConcurrencyLeases },
    /** Browser crawls' pages: the Web Scraping API's render path (scrape/render-page.ts). */
    private readonly render?: PageRenderer,
    /** prompt and model extraction_rules: the Extraction API's language model (none configured: none). */
    private readonly extractWithModel?: PageModelExtract,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops claiming; pages being fetched are finished and written. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.inFlight]);
  }

  wake(): void {
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        busy = await this.tick();
      } catch (error) {
        this.logger.warn({ err: error }, 'crawl worker: a round failed; trying again');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, busy ? Math.min(this.options.pollMs, 100) : this.options.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** One round over the active crawls; true when some crawl is still active. */
  async tick(): Promise<boolean> {
    const crawls = await this.store.active(100);
    for (const row of crawls) {
      if (!this.running) break;
      try {
        await this.round(row);
        this.failures.delete(row.uuid);
      } catch (error) {
        // One crawl that fails round after round (not the store: then every crawl fails) is ended with
        // crawler_error rather than retried forever.
        const failures = (this.failures.get(row.uuid) ?? 0) + 1;
        this.failures.set(row.uuid, failures);
        this.logger.warn({ err: error, crawl: row.uuid, failures }, 'crawl round failed');
        if (failures >= MAX_ROUND_FAILURES) {
          this.failures.delete(row.uuid);
          await this.store.finish(row.uuid, { status: 'DONE', stopReason: 'crawler_error', success: false });
        }
      }
    }
    return crawls.length > 0;
  }

  private async round(row: CrawlRow): Promise<void> {
    const free = this.options.slots - this.inFlight.size;
    const crawl = this.prepare(row);
    if (!crawl || (await this.stopIfDone(crawl))) return;
    if (free <= 0) return;
    const waitUntil = this.waitingForSlot.get(row.uuid);
    if (waitUntil !== undefined && performance.now() < waitUntil) return;
    this.waitingForSlot.delete(row.uuid);
    const claims = await this.store.claim(row.uuid, this.options.nodeId, this.options.leaseMs, free);
    for (const claim of claims) {
      const task = this.visit(crawl, claim)
        .catch((error: unknown) =>
          this.logger.error({ err: error, crawl: row.uuid, url: claim.url }, 'crawl page failed'),
        )
        .finally(() => {
          this.inFlight.delete(task);
          this.wake();
        });
      this.inFlight.add(task);
    }
  }

  /** The crawl ready to work on, or undefined while its robots.txt is being read (in the background). */
  private prepare(row: CrawlRow): ActiveCrawl | undefined {
    const request = JSON.parse(row.config) as CrawlRequest;
    let robots: RobotsRules | undefined;
    if (request.respectRobotsTxt) {
      const text = row.robots_txt;
      if (text === null) {
        this.readRobotsTxt(row, request);
        return undefined;
      }
      robots = this.robotsCache.get(row.uuid) ?? robotsRules(request.url, text);
      this.robotsCache.set(row.uuid, robots);
    }
    let extraction: PageExtraction | undefined;
    if ((request.extractionRules ?? []).length > 0) {
      extraction =
        this.extractions.get(row.uuid) ?? new PageExtraction(request.extractionRules, this.extractWithModel);
      this.extractions.set(row.uuid, extraction);
    }
    return { row, request, scope: new CrawlScope(request), robots, extraction };
  }

  /** Reads a crawl's robots.txt once, off the loop: a slow one holds back its own crawl only. */
  private readRobotsTxt(row: CrawlRow, request: CrawlRequest): void {
    if (this.robotsReads.has(row.uuid)) return;
    const read = fetchRobotsTxt(this.http, request.url, request, this.options.fetch, this.poolKey(row))
      .then((text) => this.store.setRobotsTxt(row.uuid, text))
      .catch((error: unknown) => this.logger.warn({ err: error, crawl: row.uuid }, 'robots.txt not stored'))
      .finally(() => {
        this.robotsReads.delete(row.uuid);
        this.inFlight.delete(read);
        this.wake();
      });
    this.robotsReads.add(row.uuid);
    this.inFlight.add(read);
  }

  /** Ends a crawl that reached a limit or has nothing left; true when it ended (or had). */
  private async stopIfDone(crawl: ActiveCrawl): Promise<boolean> {
    const { row, request } = crawl;
    const now = this.clock.now();
    const end = async (stopReason: string, success: boolean) => {
      if (await this.store.finish(row.uuid, { status: 'DONE', stopReason, success })) {
        this.robotsCache.delete(row.uuid);
        this.extractions.delete(row.uuid);
        this.waitingForSlot.delete(row.uuid);
        this.logger.info({ crawl: row.uuid, stopReason }, 'crawl finished');
      }
      return true;
    };
    if (row.start_time !== null && now - row.start_time >= request.maxDurationSeconds * 1000) {
      return end('max_duration', true);
    }
    if (request.maxApiCredit > 0 && row.api_credit_used >= request.maxApiCredit) {
      return end('max_api_credit', true);
    }
    const counts = await this.store.counts(row.uuid);
    if (request.pageLimit > 0 && counts.visited + counts.failed >= request.pageLimit) {
      return end('page_limit', true);
    }
    if (counts.pending === 0) {
      if (counts.visited === 0) return end('seed_url_failed', false);
      return end('no_more_urls', true);
    }
    if (counts.inFlight === 0) {
      const project = await this.projects.findById(row.project_id);
      if (project && (await this.credits.used(project.id)) >= project.limits.monthlyCredits) {
        return end('no_api_credit_left', false);
      }
    }
    return false;
  }

  private poolKey(row: CrawlRow): string {
    return `crawl:${row.project_id}`;
  }

  /**
   * Visits a claimed page while renewing its lease (a third of it at a time), so that a page slower than
   * the lease (a slow target, a busy machine) is neither fetched again by another claim nor counted out of
   * max_concurrency. Only a node that stops renewing (it died) loses its pages.
   */
  private async visit(crawl: ActiveCrawl, claim: UrlClaim): Promise<void> {
    const release = await this.projectSlot(crawl.row);
    if (release === null) {
      // The project runs as many calls as it may: the page waits for a slot, no attempt counted.
      await this.giveBack(claim);
      return;
    }
    try {
      await this.visitHolding(crawl, claim);
    } finally {
      await release?.();
    }
  }

  /** Gives a claim back and rests its crawl a moment, so that a full project is not asked again at once. */
  private async giveBack(claim: UrlClaim): Promise<void> {
    this.waitingForSlot.set(claim.crawlUuid, performance.now() + SLOT_RETRY_MS);
    await this.store.release(claim);
  }

  /**
   * A concurrency slot of the crawl's project for one page fetch (accounts/concurrency-leases.ts, over the
   * fleet): a crawl shares the project's limit with its other calls. It uses the slots below the last one
   * only, so a crawl never takes the project's whole limit and a /scrape or /screenshot still gets a slot
   * (a project limited to one call at a time shares that one). null: none free now; undefined: not counted.
   */
  private async projectSlot(row: CrawlRow): Promise<(() => Promise<void>) | null | undefined> {
    if (!this.pages) return undefined;
    const project = await this.projects.findById(row.project_id);
    if (!project) return undefined;
    const limit = Math.max(1, project.limits.concurrency - 1);
    return (await this.pages.concurrency.tryAcquire(projectScope(project.id), limit)) ?? null;
  }

  private async visitHolding(crawl: ActiveCrawl, claim: UrlClaim): Promise<void> {
    const leaseMs = this.options.leaseMs;
    const renewal = setInterval(
      () => {
        this.store
          .extend(claim, leaseMs)
          .catch((error: unknown) =>
            this.logger.warn(
              { err: error, crawl: claim.crawlUuid, url: claim.url },
              'crawl lease not renewed',
            ),
          );
      },
      Math.max(250, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    try {
      await this.visitPage(crawl, claim);
    } finally {
      clearInterval(renewal);
    }
  }

  private async visitPage(crawl: ActiveCrawl, claim: UrlClaim): Promise<void> {
    const { row, request } = crawl;
    if (crawl.robots && !crawl.robots.allowed(claim.url)) {
      await this.store.complete(claim, { status: 'skipped', reason: 'robots_txt', credits: 0 });
      return;
    }
    let answer: UpstreamAnswer;
    const fetchedAt = this.clock.now();
    const started = performance.now();
    try {
      answer = await fetchForCrawl(this.http, claim.url, request, this.options.fetch, this.poolKey(row), {
        projectId: row.project_id,
        render: this.render,
      });
    } catch (error) {
      if (!isApiError(error)) throw error;
      if (error.code === 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED') {
        // The browsers are all busy: the page waits for one, no attempt counted.
        await this.giveBack(claim);
        return;
      }
      await this.written(
        row,
        claim,
        {
          status: 'failed',
          reason: error.code,
          credits: 0,
          scrapeConfig: scrapeConfigOf(claim.url, request),
        },
        { started, error },
      );
      return;
    }
    const credits = crawlPageCost(request);
    if (answer.status >= 400) {
      await this.written(
        row,
        claim,
        {
          status: 'failed',
          reason: 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE',
          httpStatus: answer.status,
          credits,
          scrapeConfig: scrapeConfigOf(claim.url, request),
        },
        { started, answer },
      );
      return;
    }
    const finalUrl = normaliseUrl(answer.url) ?? claim.url;
    if (finalUrl !== claim.url && !crawl.scope.scopeOf(finalUrl).inScope) {
      await this.written(
        row,
        claim,
        {
          status: 'failed',
          reason: 'redirect_out_of_scope',
          credits,
          scrapeConfig: scrapeConfigOf(claim.url, request),
        },
        { started, answer },
      );
      return;
    }
    const contents = pageContents(answer, request.contentFormats);
    const extracted = await crawl.extraction?.extract(answer, { projectId: row.project_id, env: row.env });
    if (extracted !== undefined) contents.extracted_data = extracted.json;
    // The three records are written at once: a page waits for one round of file writes, not three.
    const [contentsBlob, warcBlob, harBlob] = await Promise.all([
      this.blobs.put(Buffer.from(JSON.stringify(contents), 'utf8')),
      this.blobs.put(pageRecords(answer, fetchedAt)),
      this.blobs.put(
        Buffer.from(
          JSON.stringify(harEntry(answer, fetchedAt, Math.round(performance.now() - started))),
          'utf8',
        ),
      ),
    ]);
    // Links first, then the page's own row: while a page is pending its crawl cannot end, so the crawl
    // never ends between the two.
    const found = await this.discovered(crawl, claim, answer);
    await this.store.discover(row.uuid, found.navigation, 'navigation');
    await this.store.discover(row.uuid, found.sitemap, 'sitemap');
    await this.written(
      row,
      claim,
      {
        status: 'visited',
        httpStatus: answer.status,
        contentsBlob,
        warcBlob,
        harBlob,
        credits,
        ...(extracted?.credits ? { extractionCredits: extracted.credits } : {}),
        content: contents,
      },
      { started, answer },
    );
  }

  /**
   * Records a fetched page's result (fenced by the claim), bills it, and writes its monitoring log row
   * (kind `crawl`): only a result the fence let through is billed and logged, so a page is logged once.
   */
  private async written(
    row: CrawlRow,
    claim: UrlClaim,
    result: Parameters<CrawlStore['complete']>[1],
    fetch: { started: number; answer?: UpstreamAnswer; error?: ApiError },
  ): Promise<void> {
    const logUuid = this.pages ? ulid() : undefined;
    const recorded = await this.store.complete(claim, { ...result, ...(logUuid ? { logUuid } : {}) });
    if (!recorded) return;
    // Billed once per page recorded: a result refused by the fence (the lease was taken over) is free.
    // (A model extraction was billed by the Extraction API's path when it ran: extractionCredits.)
    if (result.credits > 0) await this.credits.charge(row.project_id, result.credits);
    if (!this.pages || !logUuid) return;
    const failure =
      fetch.error ??
      (result.status === 'failed'
        ? new ApiError(
            result.reason === 'redirect_out_of_scope'
              ? 'ERR::CRAWLER::CONFIG_ERROR'
              : 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE',
            result.reason === 'redirect_out_of_scope'
              ? `The page redirected out of the crawl's scope (to ${fetch.answer?.url ?? 'elsewhere'})`
              : `The page answered HTTP ${fetch.answer?.status ?? '?'}`,
          )
        : undefined);
    const request = JSON.parse(row.config) as CrawlRequest;
    await this.pages.logs
      .record({
        log_uuid: logUuid,
        project_id: row.project_id,
        env: row.env,
        url: claim.url,
        params: JSON.stringify({
          crawler_uuid: row.uuid,
          url: claim.url,
          depth: claim.depth,
          format: request.contentFormats[0],
          content_formats: request.contentFormats,
        }),
        http_status: failure ? failure.definition.httpStatus : 200,
        error_code: failure?.code ?? null,
        error_reason: failure?.reason ?? null,
        upstream_status: fetch.answer?.status ?? null,
        final_url: fetch.answer?.url ?? null,
        cost: result.credits,
        duration_ms: Math.round(performance.now() - fetch.started),
        blob_key: null,
        content_type: fetch.answer?.headers['content-type'] ?? null,
        created_at: this.clock.now(),
        node_id: this.options.nodeId,
        kind: 'crawl',
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, crawl: row.uuid, url: claim.url }, 'crawl page log not written'),
      );
  }

  /** The page's links and (from the seed) the sitemaps' URLs, each URL once, by how it was found. */
  private async discovered(
    crawl: ActiveCrawl,
    claim: UrlClaim,
    answer: UpstreamAnswer,
  ): Promise<Record<DiscoveryOrigin, NewUrl[]>> {
    const none = { navigation: [], sitemap: [] };
    const { request, scope } = crawl;
    // url_list crawls visit their list only; pages of other sites are read, not followed.
    if (request.urlList || scope.scopeOf(claim.url).inScope === false) return none;
    const pageScope = scope.scopeOf(claim.url);
    if (pageScope.inScope && pageScope.external) return none;
    const candidates: Array<[string, DiscoveryOrigin]> = [];
    if (/html/i.test(answer.headers['content-type'] ?? 'text/html')) {
      for (const link of linksOf(answer.body.toString('utf8'), answer.url, request.ignoreNoFollow)) {
        candidates.push([link, 'navigation']);
      }
    }
    if (claim.depth === 0 && request.useSitemaps) {
      const declared = crawl.robots?.sitemaps() ?? [];
      const listed = await sitemapUrls(
        this.http,
        request.url,
        declared,
        request,
        this.options.fetch,
        this.poolKey(crawl.row),
      );
      for (const url of listed) candidates.push([url, 'sitemap']);
    }
    const depth = claim.depth + 1;
    const seen = new Set<string>();
    const found: Record<DiscoveryOrigin, NewUrl[]> = { navigation: [], sitemap: [] };
    for (const [candidate, origin] of candidates) {
      const url = normaliseUrl(candidate);
      if (!url || seen.has(url) || !scope.scopeOf(url).inScope) continue;
      seen.add(url);
      const ruleSkip = scope.pathRuleSkip(url);
      if (ruleSkip) found[origin].push({ url, depth, status: 'skipped', reason: ruleSkip });
      else if (crawl.robots && !crawl.robots.allowed(url)) {
        found[origin].push({ url, depth, status: 'skipped', reason: 'robots_txt' });
      } else if (request.maxDepth > 0 && depth > request.maxDepth) {
        found[origin].push({ url, depth, status: 'skipped', reason: 'max_depth' });
      } else found[origin].push({ url, depth, status: 'pending' });
    }
    return found;
  }
}
