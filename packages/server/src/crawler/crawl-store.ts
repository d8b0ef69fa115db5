// Over 400 lines as one coherent thing: the crawl tables' owner (crawls, crawl_urls): every statement on them
// lives here, so the claim, fencing and counters that must agree are read side by side.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { CrawlerWebhookEvent, CrawlRequest } from '../request/crawl-request.js';
import type { Dialect } from '../store/database.js';
import type { CrawlsTable, CrawlStatus, CrawlUrlsTable, CrawlUrlStatus, Database } from '../store/schema.js';
import { endEvent, scrapeConfigOf, type CrawlEvents } from './crawl-events.js';
import { crawlPageCost } from './page-cost.js';

export type CrawlRow = CrawlsTable;
export type CrawlUrlRow = CrawlUrlsTable;

/** A claimed URL and the lease token its result must present (fencing, as queue/job-queue.ts). */
export interface UrlClaim {
  crawlUuid: string;
  url: string;
  depth: number;
  token: string;
}

export interface NewUrl {
  url: string;
  depth: number;
  /** pending (to visit) or skipped (recorded with its reason). */
  status: 'pending' | 'skipped';
  reason?: string;
}

/** How a URL was found (crawler_url_discovered's `origin`). */
export type DiscoveryOrigin = 'navigation' | 'sitemap';

/** Skipped URLs told in one crawler_url_skipped event at most. */
const SKIPPED_PER_EVENT = 1_000;

type Emit = (
  trx: Transaction<Database>,
  crawlUuid: string,
  event: CrawlerWebhookEvent,
  fields: Record<string, unknown>,
) => Promise<void>;

export interface CrawlCounts {
  visited: number;
  failed: number;
  skipped: number;
  pending: number;
  /** Pending URLs a live lease holds (being fetched now). */
  inFlight: number;
  total: number;
}

/** A URL whose claim ran out this many times (its node died each time) is failed, not retried forever. */
export const MAX_URL_ATTEMPTS = 3;

const ACTIVE: CrawlStatus[] = ['PENDING', 'RUNNING'];

/**
 * The crawls and their frontier in the store (SQLite or PostgreSQL, the same code). Every node's crawl
 * worker claims URLs here under a lease; per-crawl limits (max_concurrency, page_limit, delay) are checked
 * in the claim's transaction, which holds the crawl's row (FOR UPDATE on PostgreSQL, the writer lock on
 * SQLite), so they hold across a fleet.
 */
export class CrawlStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    /** The crawls' webhook events, queued in the transactions below (none when absent). */
    private readonly events?: CrawlEvents,
  ) {}

  /**
   * A transaction in which webhook events may be queued (`emit`); the delivery lane is woken once it
   * committed, so that it never looks before the events are there.
   */
  private async withEvents<T>(work: (trx: Transaction<Database>, emit: Emit) => Promise<T>): Promise<T> {
    let queued = false;
    const result = await this.db.transaction().execute((trx) =>
      work(trx, async (inner, crawlUuid, event, fields) => {
        if (!this.events) return;
        const crawl = await inner
          .selectFrom('crawls')
          .selectAll()
          .where('uuid', '=', crawlUuid)
          .executeTakeFirst();
        if (!crawl) return;
        const counts = await countsOf(inner, crawlUuid, this.clock.now());
        const extra = event.startsWith('crawler_url_')
          ? fields
          : { ...this.events.lifecycleFields(crawl), ...fields };
        if (await this.events.emit(inner, crawl, counts, event, extra)) queued = true;
      }),
    );
    if (queued) this.events?.wake();
    return result;
  }

  async create(
    crawl: {
      uuid: string;
      projectId: string;
      env: 'LIVE' | 'TEST';
      request: CrawlRequest;
    },
    within?: (trx: Transaction<Database>, crawlUuid: string) => Promise<void>,
  ): Promise<void> {
    const now = this.clock.now();
    const seeds = crawl.request.urlList ?? [crawl.request.url];
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('crawls')
        .values({
          uuid: crawl.uuid,
          project_id: crawl.projectId,
          env: crawl.env,
          seed_url: crawl.request.url,
          config: JSON.stringify(crawl.request),
          status: 'PENDING',
          is_success: null,
          stop_reason: null,
          api_credit_used: 0,
          next_fetch_at: 0,
          robots_txt: null,
          created_at: now,
          start_time: null,
          stop_time: null,
        })
        .execute();
      await this.insertUrls(
        trx,
        crawl.uuid,
        seeds.map((url) => ({ url, depth: 0, status: 'pending' as const })),
        now,
      );
      await within?.(trx, crawl.uuid);
    });
  }

  /** A crawl as its project and environment see it (another's is undefined: a 404, never a 403). */
  async find(uuid: string, projectId: string, env: 'LIVE' | 'TEST'): Promise<CrawlRow | undefined> {
    return this.db
      .selectFrom('crawls')
      .selectAll()
      .where('uuid', '=', uuid)
      .where('project_id', '=', projectId)
      .where('env', '=', env)
      .executeTakeFirst();
  }

  async get(uuid: string): Promise<CrawlRow | undefined> {
    return this.db.selectFrom('crawls').selectAll().where('uuid', '=', uuid).executeTakeFirst();
  }

  /** A project's crawls in one environment, newest first (the dashboard's list). */
  async list(projectId: string, env: 'LIVE' | 'TEST', limit: number): Promise<CrawlRow[]> {
    return this.db
      .selectFrom('crawls')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('env', '=', env)
      .orderBy('created_at', 'desc')
      .orderBy('uuid')
      .limit(limit)
      .execute();
  }

  /** The first URLs of a crawl in any status, in discovery order. */
  /** One page of a crawl's URLs (in one status, when given), in discovery order. */
  async allUrls(
    crawlUuid: string,
    offset: number,
    limit: number,
    status?: CrawlUrlStatus,
  ): Promise<CrawlUrlRow[]> {
    let query = this.db.selectFrom('crawl_urls').selectAll().where('crawl_uuid', '=', crawlUuid);
    if (status) query = query.where('status', '=', status);
    return query.orderBy('seq').orderBy('url').offset(offset).limit(limit).execute();
  }

  /** How many URLs the crawl found at each depth. */
  async depths(crawlUuid: string): Promise<Array<{ depth: number; count: number }>> {
    const rows = await this.db
      .selectFrom('crawl_urls')
      .select((eb) => ['depth', eb.fn.countAll<number>().as('n')])
      .where('crawl_uuid', '=', crawlUuid)
      .groupBy('depth')
      .orderBy('depth')
      .execute();
    return rows.map((row) => ({ depth: Number(row.depth), count: Number(row.n) }));
  }

  /** Crawls still to work on, oldest first. */
  async active(limit: number): Promise<CrawlRow[]> {
    return this.db
      .selectFrom('crawls')
      .selectAll()
      .where('status', 'in', ACTIVE)
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  /** Records discovered URLs; one already known (in any status) is left as it is. */
  async discover(crawlUuid: string, urls: NewUrl[], origin: DiscoveryOrigin = 'navigation'): Promise<number> {
    if (urls.length === 0) return 0;
    return this.withEvents(async (trx, emit) => {
      // A page finished after its crawl ended (cancelled, a limit) adds nothing to the ended crawl's lists.
      const crawl = await trx
        .selectFrom('crawls')
        .select('status')
        .where('uuid', '=', crawlUuid)
        .executeTakeFirst();
      if (!crawl || !ACTIVE.includes(crawl.status)) return 0;
      const inserted = await this.insertUrls(trx, crawlUuid, urls, this.clock.now());
      const found = inserted.filter((url) => url.status === 'pending').map((url) => url.url);
      if (found.length > 0) {
        await emit(trx, crawlUuid, 'crawler_url_discovered', { origin, discovered_urls: found });
      }
      await this.emitSkipped(
        trx,
        emit,
        crawlUuid,
        inserted.filter((url) => url.status === 'skipped'),
      );
      return inserted.length;
    });
  }

  /** crawler_url_skipped: URL -> reason, in events of SKIPPED_PER_EVENT URLs at most. */
  private async emitSkipped(
    trx: Transaction<Database>,
    emit: Emit,
    crawlUuid: string,
    skipped: Array<{ url: string; reason: string | null }>,
  ): Promise<void> {
    for (let start = 0; start < skipped.length; start += SKIPPED_PER_EVENT) {
      const urls = Object.fromEntries(
        skipped.slice(start, start + SKIPPED_PER_EVENT).map((url) => [url.url, url.reason ?? 'skipped']),
      );
      await emit(trx, crawlUuid, 'crawler_url_skipped', { urls });
    }
  }

  private async insertUrls(
    executor: Kysely<Database> | Transaction<Database>,
    crawlUuid: string,
    urls: NewUrl[],
    now: number,
  ): Promise<Array<{ url: string; status: NewUrl['status']; reason: string | null }>> {
    const inserted: Array<{ url: string; status: NewUrl['status']; reason: string | null }> = [];
    // Chunks keep each statement under SQLite's and PostgreSQL's parameter limits.
    for (let start = 0; start < urls.length; start += 500) {
      const chunk = urls.slice(start, start + 500);
      const result = await executor
        .insertInto('crawl_urls')
        .values(
          chunk.map((entry, index) => ({
            crawl_uuid: crawlUuid,
            url: entry.url,
            // Discovery order: time first, then the link's place on its page.
            seq: now * 1000 + ((start + index) % 1000),
            depth: entry.depth,
            status: entry.status,
            reason: entry.reason ?? null,
            locked_by: null,
            locked_until: null,
            attempts: 0,
            http_status: null,
            contents_blob: null,
            warc_blob: null,
            har_blob: null,
            discovered_at: now,
            visited_at: null,
            log_uuid: null,
          })),
        )
        .onConflict((oc) => oc.columns(['crawl_uuid', 'url']).doNothing())
        .returning(['url', 'status', 'reason'])
        .execute();
      for (const row of result) {
        inserted.push({ url: row.url, status: row.status as NewUrl['status'], reason: row.reason });
      }
    }
    return inserted;
  }

  /**
   * Claims up to `want` pending URLs of one crawl for `holder`, within the crawl's limits: no more in flight
   * than max_concurrency, no more visits than page_limit, one URL per `delay`. The project's active crawls
   * of the same host (the seed URL's) share that host's limits: together no more in flight than the
   * smallest max_concurrency among them, and one URL per the longest delay among them, so that two crawls
   * of one site are one polite client to it (across a fleet: the project's active crawls are locked in the
   * claim's transaction). A URL whose lease ran out (its node died) is claimable again; after
   * MAX_URL_ATTEMPTS claims it is failed instead.
   */
  async claim(crawlUuid: string, holder: string, leaseMs: number, want: number): Promise<UrlClaim[]> {
    if (want <= 0) return [];
    const now = this.clock.now();
    const token = `${holder}:${randomUUID()}`;
    return this.withEvents(async (trx, emit) => {
      const owner = await trx
        .selectFrom('crawls')
        .select('project_id')
        .where('uuid', '=', crawlUuid)
        .executeTakeFirst();
      if (!owner) return [];
      // Locked in one order (uuid), so that claims of two crawls of a project never wait on each other in a
      // circle.
      let select = trx
        .selectFrom('crawls')
        .selectAll()
        .where('project_id', '=', owner.project_id)
        .where('status', 'in', ACTIVE)
        .orderBy('uuid');
      if (this.dialect === 'postgres') select = select.forUpdate();
      const active = await select.execute();
      const crawl = active.find((row) => row.uuid === crawlUuid);
      if (!crawl) return [];
      const host = hostOf(crawl.seed_url);
      const sameHost = active.filter((row) => hostOf(row.seed_url) === host);
      if (sameHost.some((row) => now < row.next_fetch_at)) return [];
      const config = JSON.parse(crawl.config) as CrawlRequest;
      const hostConfigs = sameHost.map((row) =>
        row.uuid === crawlUuid ? config : (JSON.parse(row.config) as CrawlRequest),
      );
      const hostDelayMs = Math.max(...hostConfigs.map((other) => other.delayMs));
      if (crawl.status === 'PENDING') {
        await trx
          .updateTable('crawls')
          .set({ status: 'RUNNING', start_time: now })
          .where('uuid', '=', crawlUuid)
          .execute();
        await emit(trx, crawlUuid, 'crawler_started', {});
      }
      const exhausted = await trx
        .updateTable('crawl_urls')
        .set({ status: 'failed', reason: 'too_many_attempts', locked_by: null, locked_until: null })
        .where('crawl_uuid', '=', crawlUuid)
        .where('status', '=', 'pending')
        .where('attempts', '>=', MAX_URL_ATTEMPTS)
        .where('locked_until', '<', now)
        .returning(['url'])
        .execute();
      // Failed here, not by a page's result: told like any failed page (no log: no attempt finished).
      for (const { url } of exhausted) {
        await emit(trx, crawlUuid, 'crawler_url_failed', {
          url,
          error: 'too_many_attempts',
          scrape_config: scrapeConfigOf(url, config),
          links: this.events?.failedLinks(url, null),
        });
      }
      const counts = await countsOf(trx, crawlUuid, now);
      let room = Math.min(want, config.maxConcurrency - counts.inFlight);
      if (config.pageLimit > 0)
        room = Math.min(room, config.pageLimit - counts.visited - counts.failed - counts.inFlight);
      // Every page costs crawlPageCost (crawler/page-cost.ts): no claim past max_api_credit.
      if (config.maxApiCredit > 0) {
        const pageCost = crawlPageCost(config);
        room = Math.min(
          room,
          Math.floor((config.maxApiCredit - crawl.api_credit_used) / pageCost) - counts.inFlight,
        );
      }
      if (sameHost.length > 1) {
        const hostConcurrency = Math.min(...hostConfigs.map((other) => other.maxConcurrency));
        const leased = await trx
          .selectFrom('crawl_urls')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where(
            'crawl_uuid',
            'in',
            sameHost.map((row) => row.uuid),
          )
          .where('status', '=', 'pending')
          .where('locked_until', '>=', now)
          .executeTakeFirst();
        room = Math.min(room, hostConcurrency - Number(leased?.n ?? 0));
      }
      if (hostDelayMs > 0) room = Math.min(room, 1);
      if (room <= 0) return [];
      const due = await trx
        .selectFrom('crawl_urls')
        .select(['url'])
        .where('crawl_uuid', '=', crawlUuid)
        .where('status', '=', 'pending')
        .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
        .orderBy('seq')
        .orderBy('url')
        .limit(room)
        .execute();
      if (due.length === 0) return [];
      const claimed = await trx
        .updateTable('crawl_urls')
        .set({ locked_by: token, locked_until: now + leaseMs, attempts: sql<number>`attempts + 1` })
        .where('crawl_uuid', '=', crawlUuid)
        .where(
          'url',
          'in',
          due.map((row) => row.url),
        )
        .where('status', '=', 'pending')
        .returning(['url', 'depth'])
        .execute();
      if (hostDelayMs > 0) {
        await trx
          .updateTable('crawls')
          .set({ next_fetch_at: now + hostDelayMs })
          .where('uuid', '=', crawlUuid)
          .execute();
      }
      return claimed.map((row) => ({ crawlUuid, url: row.url, depth: row.depth, token }));
    });
  }

  /**
   * Keeps a claim's lease while its page is worked on (fenced by its token): a page slower than the lease
   * is not taken for a dead node's and fetched again. False when the lease was already taken over.
   */
  async extend(claim: UrlClaim, leaseMs: number): Promise<boolean> {
    const updated = await this.db
      .updateTable('crawl_urls')
      .set({ locked_until: this.clock.now() + leaseMs })
      .where('crawl_uuid', '=', claim.crawlUuid)
      .where('url', '=', claim.url)
      .where('status', '=', 'pending')
      .where('locked_by', '=', claim.token)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /**
   * Gives a claimed URL back untouched (its project had no free concurrency slot): claimable again at once,
   * the claim not counted as an attempt. Fenced by the claim's token.
   */
  async release(claim: UrlClaim): Promise<void> {
    await this.db
      .updateTable('crawl_urls')
      .set({ locked_by: null, locked_until: null, attempts: sql<number>`attempts - 1` })
      .where('crawl_uuid', '=', claim.crawlUuid)
      .where('url', '=', claim.url)
      .where('status', '=', 'pending')
      .where('locked_by', '=', claim.token)
      .execute();
  }

  /**
   * Writes a claimed URL's result, fenced by its lease token: false (nothing written) when the lease was
   * taken over or the crawl stopped, so a page is recorded once. Credits are added to the crawl's figure.
   */
  async complete(
    claim: UrlClaim,
    result: {
      status: Extract<CrawlUrlStatus, 'visited' | 'failed' | 'skipped'>;
      reason?: string;
      httpStatus?: number;
      contentsBlob?: string;
      warcBlob?: string;
      harBlob?: string;
      credits: number;
      /** What the page's model extraction cost (billed when it ran): added to the crawl's credits only. */
      extractionCredits?: number;
      /** The page's monitoring log row, when one was written. */
      logUuid?: string;
      /** The page's contents by format (crawler_url_visited's scrape.content). */
      content?: Record<string, string>;
      /** The scrape configuration of a failed page (crawler_url_failed's scrape_config). */
      scrapeConfig?: Record<string, unknown>;
    },
  ): Promise<boolean> {
    const now = this.clock.now();
    return this.withEvents(async (trx, emit) => {
      const updated = await trx
        .updateTable('crawl_urls')
        .set({
          status: result.status,
          reason: result.reason ?? null,
          http_status: result.httpStatus ?? null,
          contents_blob: result.contentsBlob ?? null,
          warc_blob: result.warcBlob ?? null,
          har_blob: result.harBlob ?? null,
          log_uuid: result.logUuid ?? null,
          visited_at: now,
          locked_by: null,
          locked_until: null,
        })
        .where('crawl_uuid', '=', claim.crawlUuid)
        .where('url', '=', claim.url)
        .where('status', '=', 'pending')
        .where('locked_by', '=', claim.token)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      const crawlCredits = result.credits + (result.extractionCredits ?? 0);
      if (crawlCredits > 0) {
        await trx
          .updateTable('crawls')
          .set({ api_credit_used: sql<number>`api_credit_used + ${crawlCredits}` })
          .where('uuid', '=', claim.crawlUuid)
          .execute();
      }
      if (result.status === 'skipped') {
        await this.emitSkipped(trx, emit, claim.crawlUuid, [
          { url: claim.url, reason: result.reason ?? null },
        ]);
      } else if (result.status === 'visited') {
        const logUuid = result.logUuid ?? null;
        await emit(trx, claim.crawlUuid, 'crawler_url_visited', {
          url: claim.url,
          scrape: {
            status_code: result.httpStatus ?? null,
            // No proxies: the page was fetched from the service's own network (as /scrape says).
            country: null,
            log_uuid: logUuid,
            log_url: logUuid && this.events ? this.events.logUrl(logUuid) : null,
            content: result.content ?? {},
          },
        });
      } else {
        await emit(trx, claim.crawlUuid, 'crawler_url_failed', {
          url: claim.url,
          error: result.reason ?? 'failed',
          scrape_config: result.scrapeConfig ?? { url: claim.url },
          links: this.events?.failedLinks(claim.url, result.logUuid ?? null),
        });
      }
      return true;
    });
  }

  async counts(crawlUuid: string): Promise<CrawlCounts> {
    return countsOf(this.db, crawlUuid, this.clock.now());
  }

  /**
   * Ends an active crawl: DONE (or CANCELLED) with its stop_reason; the URLs still pending are recorded as
   * skipped for that reason, and a result still in flight will find its lease gone. False when the crawl
   * had already ended (cancel is idempotent).
   */
  async finish(
    crawlUuid: string,
    end: { status: 'DONE' | 'CANCELLED'; stopReason: string; success: boolean },
  ): Promise<boolean> {
    const now = this.clock.now();
    return this.withEvents(async (trx, emit) => {
      const updated = await trx
        .updateTable('crawls')
        .set({
          status: end.status,
          stop_reason: end.stopReason,
          is_success: end.success ? 1 : 0,
          stop_time: now,
          start_time: sql<number>`coalesce(start_time, ${now})`,
        })
        .where('uuid', '=', crawlUuid)
        .where('status', 'in', ACTIVE)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      const skipped = await trx
        .updateTable('crawl_urls')
        .set({ status: 'skipped', reason: end.stopReason, locked_by: null, locked_until: null })
        .where('crawl_uuid', '=', crawlUuid)
        .where('status', '=', 'pending')
        .returning(['url', 'reason'])
        .execute();
      await this.emitSkipped(trx, emit, crawlUuid, skipped);
      await emit(trx, crawlUuid, endEvent(end.status, end.success), {});
      return true;
    });
  }

  async setRobotsTxt(crawlUuid: string, text: string): Promise<void> {
    await this.db.updateTable('crawls').set({ robots_txt: text }).where('uuid', '=', crawlUuid).execute();
  }

  /** One page of URLs in a status, in discovery order. */
  async urls(
    crawlUuid: string,
    status: CrawlUrlStatus,
    offset: number,
    limit: number,
  ): Promise<CrawlUrlRow[]> {
    return this.db
      .selectFrom('crawl_urls')
      .selectAll()
      .where('crawl_uuid', '=', crawlUuid)
      .where('status', '=', status)
      .orderBy('seq')
      .orderBy('url')
      .offset(offset)
      .limit(limit)
      .execute();
  }

  async url(crawlUuid: string, url: string): Promise<CrawlUrlRow | undefined> {
    return this.db
      .selectFrom('crawl_urls')
      .selectAll()
      .where('crawl_uuid', '=', crawlUuid)
      .where('url', '=', url)
      .executeTakeFirst();
  }
}

/** The host (and port) of a crawl's seed URL: what its politeness is shared by. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export async function countsOf(
  executor: Kysely<Database> | Transaction<Database>,
  crawlUuid: string,
  now: number,
): Promise<CrawlCounts> {
  const rows = await executor
    .selectFrom('crawl_urls')
    .select((eb) => [
      'status',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(eb.case().when('locked_until', '>=', now).then(1).else(0).end()).as('leased'),
    ])
    .where('crawl_uuid', '=', crawlUuid)
    .groupBy('status')
    .execute();
  const counts: CrawlCounts = { visited: 0, failed: 0, skipped: 0, pending: 0, inFlight: 0, total: 0 };
  for (const row of rows) {
    const n = Number(row.n);
    counts[row.status] = n;
    counts.total += n;
    if (row.status === 'pending') counts.inFlight = Number(row.leased ?? 0);
  }
  return counts;
}

/** A crawl's project id from its uuid, or undefined (the dashboard's route access checks membership with it). */
export async function projectIdOfCrawl(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('crawls').select('project_id').where('uuid', '=', id).executeTakeFirst();
  return row?.project_id;
}

/**
 * Retention: removes a project's ended crawls stopped before `cutoff`, their URLs with them (ON DELETE
 * CASCADE); a running crawl is never swept.
 */
export async function sweepEndedCrawls(
  db: Kysely<Database>,
  projectId: string,
  cutoff: number,
): Promise<number> {
  const result = await db
    .deleteFrom('crawls')
    .where('project_id', '=', projectId)
    .where('status', 'in', ['DONE', 'CANCELLED'])
    .where('stop_time', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The uuids of crawls in one of `statuses`, as a subquery (schedules/runs.ts: a running crawler run). */
export function crawlUuidsInStatus(db: Kysely<Database>, statuses: readonly CrawlStatus[]) {
  return db.selectFrom('crawls').select('uuid').where('status', 'in', statuses).$castTo<string>();
}

/** How each of these crawls stands (status, success, stop reason): the scheduler settles crawler runs by it. */
export async function crawlOutcomesOf(
  db: Kysely<Database>,
  uuids: readonly string[],
): Promise<Map<string, Pick<CrawlRow, 'status' | 'is_success' | 'stop_reason'>>> {
  if (uuids.length === 0) return new Map();
  const rows = await db
    .selectFrom('crawls')
    .select(['uuid', 'status', 'is_success', 'stop_reason'])
    .where('uuid', 'in', uuids)
    .execute();
  return new Map(rows.map(({ uuid, ...outcome }) => [uuid, outcome]));
}
