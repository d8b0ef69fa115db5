import type { Logger } from 'pino';
import type { CreditLedger } from '../accounts/credits.js';
import type { ProjectService } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import type { GuardedHttpClient } from '../egress/http-client.js';
import { isApiError } from '../errors.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import type { BlobStore } from '../results/blob-store.js';
import { SCRAPE_COSTS } from '../scrape/cost.js';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';
import type { CrawlRow, CrawlStore, NewUrl, UrlClaim } from './crawl-store.js';
import { linksOf } from './links.js';
import { pageContents } from './page-contents.js';
import { fetchForCrawl, type CrawlFetchLimits } from './page-fetch.js';
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

/** A crawl whose rounds fail this many times in a row ends with stop_reason crawler_error. */
const MAX_ROUND_FAILURES = 5;

/** What one page costs: a scrape without a browser (scrape/cost.ts). */
export const CRAWL_PAGE_COST = SCRAPE_COSTS.base;

interface ActiveCrawl {
  row: CrawlRow;
  request: CrawlRequest;
  scope: CrawlScope;
  robots: RobotsRules | undefined;
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
  /** Crawls whose robots.txt this node is reading now. */
  private readonly robotsReads = new Set<string>();
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
    return { row, request, scope: new CrawlScope(request), robots };
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
      answer = await fetchForCrawl(this.http, claim.url, request, this.options.fetch, this.poolKey(row));
    } catch (error) {
      if (!isApiError(error)) throw error;
      await this.store.complete(claim, { status: 'failed', reason: error.code, credits: 0 });
      return;
    }
    const credits = CRAWL_PAGE_COST;
    if (answer.status >= 400) {
      await this.written(row, claim, {
        status: 'failed',
        reason: 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE',
        httpStatus: answer.status,
        credits,
      });
      return;
    }
    const finalUrl = normaliseUrl(answer.url) ?? claim.url;
    if (finalUrl !== claim.url && !crawl.scope.scopeOf(finalUrl).inScope) {
      await this.written(row, claim, { status: 'failed', reason: 'redirect_out_of_scope', credits });
      return;
    }
    const contents = pageContents(answer, request.contentFormats);
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
    await this.store.discover(row.uuid, await this.discovered(crawl, claim, answer));
    await this.written(row, claim, {
      status: 'visited',
      httpStatus: answer.status,
      contentsBlob,
      warcBlob,
      harBlob,
      credits,
    });
  }

  private async written(
    row: CrawlRow,
    claim: UrlClaim,
    result: Parameters<CrawlStore['complete']>[1],
  ): Promise<void> {
    const recorded = await this.store.complete(claim, result);
    // Billed once per page recorded: a result refused by the fence (the lease was taken over) is free.
    if (recorded && result.credits > 0) await this.credits.charge(row.project_id, result.credits);
  }

  private async discovered(crawl: ActiveCrawl, claim: UrlClaim, answer: UpstreamAnswer): Promise<NewUrl[]> {
    const { request, scope } = crawl;
    // url_list crawls visit their list only; pages of other sites are read, not followed.
    if (request.urlList || scope.scopeOf(claim.url).inScope === false) return [];
    const pageScope = scope.scopeOf(claim.url);
    if (pageScope.inScope && pageScope.external) return [];
    const candidates: string[] = [];
    if (/html/i.test(answer.headers['content-type'] ?? 'text/html')) {
      candidates.push(...linksOf(answer.body.toString('utf8'), answer.url, request.ignoreNoFollow));
    }
    if (claim.depth === 0 && request.useSitemaps) {
      const declared = crawl.robots?.sitemaps() ?? [];
      candidates.push(
        ...(await sitemapUrls(
          this.http,
          request.url,
          declared,
          request,
          this.options.fetch,
          this.poolKey(crawl.row),
        )),
      );
    }
    const depth = claim.depth + 1;
    const found = new Map<string, NewUrl>();
    for (const candidate of candidates) {
      const url = normaliseUrl(candidate);
      if (!url || found.has(url) || !scope.scopeOf(url).inScope) continue;
      const ruleSkip = scope.pathRuleSkip(url);
      if (ruleSkip) found.set(url, { url, depth, status: 'skipped', reason: ruleSkip });
      else if (crawl.robots && !crawl.robots.allowed(url)) {
        found.set(url, { url, depth, status: 'skipped', reason: 'robots_txt' });
      } else if (request.maxDepth > 0 && depth > request.maxDepth) {
        found.set(url, { url, depth, status: 'skipped', reason: 'max_depth' });
      } else found.set(url, { url, depth, status: 'pending' });
    }
    return [...found.values()];
  }
}
