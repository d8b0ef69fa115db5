// Over 400 lines as one coherent thing: one /scrape call from admission to its closing rows (budget,
// cache, slot, session, fetch or render, format, extraction, billing, log) in the order the answer needs.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { projectScope, type ConcurrencyLeases, type SlotRelease } from '../accounts/concurrency-leases.js';
import type { CreditLedger } from '../accounts/credits.js';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import type { CountryEgress, CountryRoute } from '../egress/country-proxy.js';
import type { EgressGuard } from '../egress/guard.js';
import type { GuardedHttpClient } from '../egress/http-client.js';
import type { PinningProxy } from '../egress/pinning-proxy.js';
import type { BrowserPool } from '../engine/browser-pool.js';
import type { CaptureSettings } from '../engine/page-session.js';
import { ScenarioError } from '../engine/scenario-spec.js';
import { parseCountrySpec, pickCountry } from '../engine/country.js';
import { pageFailureToApiError } from '../engine/page-failures.js';
import { ApiError, isApiError, storeOutageToApiError } from '../errors.js';
import type { LogStore } from '../logs/log-store.js';
import { logUrlOf } from '../logs/log-url.js';
import type { ScrapeRequest } from '../request/scrape-request.js';
import { checkCostBudget, scrapeCost } from './cost.js';
import { buildScrapeEnvelope, type AsyncScrapeContext, type ScrapeEnvelope } from './envelope.js';
import { fetchUpstream } from './fetch-upstream.js';
import { scrapeCacheKeyOf, type ScrapeCache } from './scrape-cache.js';
import { formatContent, type FormattedContent } from './formats.js';
import { loggedResponseHeaders } from './log-facts.js';
import type { CompiledTemplate } from '../extraction/rules.js';
import type { TemplateStore } from '../extraction/template-store.js';
import { extractFromPage, resolveScrapeTemplate } from './extracted-data.js';
import type { BlobStore } from '../results/blob-store.js';
import { screenshotsLogOf } from './scrape-screenshots.js';
import { CookieJar } from './cookie-jar.js';
import { offloadLargeContent, type LoggedLargeContent } from './large-content.js';
import { renderForScrape, type Fetched, type LiveSession } from './render-page.js';
import type { ScrapeSessionStore } from './session-store.js';
import { newLogUuid } from '../store/time-ordered-id.js';
import type { Database, ScreenshotLogsTable } from '../store/schema.js';

export interface ScrapeServiceDeps {
  /** The store: a call's closing rows (slot release, charge, log row) are written in one transaction. */
  db: Kysely<Database>;
  credits: CreditLedger;
  concurrency: ConcurrencyLeases;
  /** The guarded client scrapes without a browser go through (resolve, check, pin, redirects checked). */
  http: GuardedHttpClient;
  pool: BrowserPool;
  guard: EgressGuard;
  proxy: PinningProxy;
  logs: LogStore;
  clock: Clock;
  publicUrl: string;
  logger: Logger;
  nodeId?: string;
  maxBodyBytes: number;
  maxRedirects: number;
  /** cache=true: answers kept per project and environment (absent: cache=true is served as a MISS). */
  cache?: ScrapeCache;
  /** Saved extraction templates (extraction_template=persistent:NAME or NAME). */
  templates: TemplateStore;
  /** Where screenshots[NAME] images and large contents are kept (the same store as /screenshot's). */
  blobs: BlobStore;
  /** A content larger than this is answered by URL, as clob/blob (large-content.ts). */
  inlineMaxBytes: number;
  /** session=NAME's cookie jars. */
  sessions: ScrapeSessionStore;
  /** Engine settings shared with captures (images, egress verdicts are added per page). */
  capture: Omit<CaptureSettings, 'egressFailure' | 'isEgressAnswer'>;
  /** The operator's per-country egress proxies (SNAPWIRE_COUNTRY_PROXIES): country= leaves by one. */
  countries?: CountryEgress;
}

/** A scrape's answer: the envelope, with what the route puts in the X-Scrapfly-* headers. */
export interface ScrapeOutcome {
  envelope: ScrapeEnvelope;
  /** 200, or the catalogue status of a failure inside the scrape (the envelope then says success false). */
  httpStatus: number;
  error: ApiError | undefined;
  logUuid: string;
  logUrl: string;
  /** The target's Set-Cookie lines as sent (proxified_response answers them as they are). */
  setCookies: string[];
  cost: number;
  remainingCredits: number;
  projectConcurrency: { usage: number; limit: number };
  durationMs: number;
}

/** A refusal before the scrape ran (quota, concurrency, budget): answered as Scrapfly's error body. */
export class ScrapeRefused extends Error {
  constructor(
    readonly error: ApiError,
    readonly logUuid: string,
  ) {
    super(error.message);
  }
}

/** context.cache.state: BYPASS without cache=true. */
export type ScrapeCacheState = 'HIT' | 'MISS' | 'BYPASS';

/**
 * Runs one /scrape for a caller: budget and credit checks, a project concurrency slot, the fetch (no
 * browser) or the render (Chromium on the engine), the format, billing and one monitoring log row
 * (kind `scrape`). An upstream 4xx/5xx is ERR::SCRAPE::BAD_UPSTREAM_RESPONSE inside a 200 answer, as
 * Scrapfly answers it, so that the SDKs raise their upstream errors.
 */
export class ScrapeService {
  constructor(private readonly deps: ScrapeServiceDeps) {}

  async remainingCredits(caller: Caller): Promise<number> {
    return Math.max(
      0,
      caller.project.limits.monthlyCredits - (await this.deps.credits.used(caller.project.id)),
    );
  }

  /**
   * `options.logUuid`: an asynchronous scrape's log row, written pending when the job was accepted and
   * completed here; `options.webhook`: where its envelope goes (in context.webhook and context.job).
   */
  async scrape(
    caller: Caller,
    request: ScrapeRequest,
    options: { logUuid?: string; webhook?: AsyncScrapeContext } = {},
  ): Promise<ScrapeOutcome> {
    const startedAt = Date.now();
    const logUuid = options.logUuid ?? newLogUuid();
    const { project } = caller;
    const cost = scrapeCost(request);

    const cacheKey = request.cache ? scrapeCacheKeyOf(request) : undefined;
    let cacheState: ScrapeCacheState = cacheKey ? 'MISS' : 'BYPASS';

    // 0. The extraction template, looked up and compiled first: an unknown name is a 404 before any work.
    let template: CompiledTemplate | undefined;
    if (request.extractionTemplate) {
      try {
        template = await resolveScrapeTemplate(this.deps.templates, caller, request.extractionTemplate);
      } catch (caught) {
        const error = isApiError(caught) ? caught : this.internal(caught);
        await this.record(caller, request, logUuid, startedAt, {
          httpStatus: error.definition.httpStatus,
          error,
          cost: 0,
          cacheState,
        });
        throw new ScrapeRefused(error, logUuid);
      }
    }

    // 1. An answer kept within cache_ttl: served at no cost, without a slot or a request to the target.
    let fetched: Fetched | undefined;
    if (request.cache && cacheKey && !request.cache.clear && this.deps.cache) {
      fetched = await this.deps.cache
        .find(project.id, caller.env, cacheKey, this.deps.clock.now() - request.cache.ttlSeconds * 1000)
        .catch((error: unknown) => {
          this.deps.logger.warn({ err: error }, 'could not read the scrape cache; scraping anew');
          return undefined;
        });
      if (fetched) cacheState = 'HIT';
    }

    // 2. Refusals before any work: answered as error bodies (the SDKs' API errors), logged, not billed.
    let release: SlotRelease = async () => {};
    let session: LiveSession | undefined;
    let country: string | undefined;
    if (!fetched) {
      try {
        checkCostBudget(request);
        country = this.pickCountry(request);
        const used = await this.deps.credits.used(project.id);
        if (used + cost.total > project.limits.monthlyCredits) {
          throw new ApiError(
            'ERR::SCRAPE::QUOTA_LIMIT_REACHED',
            `Project "${project.name}" has used ${used} of its ${project.limits.monthlyCredits} monthly credits; this scrape costs ${cost.total}. Raise the plan or the monthlyCredits limit (snapwire projects set)`,
          );
        }
        release = await this.deps.concurrency.acquireProjectSlot(project.id, project.limits.concurrency);
        if (request.session !== undefined) {
          const releaseProject = release;
          const releaseSession = await this.deps.concurrency.tryAcquire(
            `session:${project.id}:${caller.env}:${request.session}`,
            1,
          );
          if (!releaseSession) {
            await releaseProject();
            throw new ApiError(
              'ERR::SESSION::CONCURRENT_ACCESS',
              `The session "${request.session}" is in use by another scrape of this project; a session holds one scrape at a time. Retry when it ends, or use another session name`,
              { retryAfterSeconds: 1 },
            );
          }
          release = async (executor) => {
            await releaseSession(executor);
            await releaseProject(executor);
          };
          const saved = await this.deps.sessions.load(
            project.id,
            caller.env,
            request.session,
            this.deps.clock.now(),
          );
          session = { jar: new CookieJar(saved?.cookies ?? []), localStorage: saved?.localStorage ?? {} };
        }
      } catch (caught) {
        // A slot already taken (the session's jar could not be read) is given back.
        await release().catch(() => undefined);
        const error = isApiError(caught) ? caught : this.internal(caught);
        await this.record(caller, request, logUuid, startedAt, {
          httpStatus: error.definition.httpStatus,
          error,
          cost: 0,
          cacheState,
        });
        throw new ScrapeRefused(error, logUuid);
      }
    }

    // 3. The scrape itself: whatever happens now is answered in the scrape envelope.
    let content: FormattedContent | undefined;
    let largeContent: LoggedLargeContent | undefined;
    let extractedData: { data: unknown; content_type: string } | undefined;
    let error: ApiError | undefined;
    try {
      if (!fetched) {
        const route = country && this.deps.countries ? await this.deps.countries.route(country) : undefined;
        fetched = request.renderJs
          ? await renderForScrape(this.deps, request, startedAt, project.id, session, true, route)
          : await this.fetch(request, project.id, session?.jar, route);
        if (country) fetched.country = country;
        if (session && request.session !== undefined) {
          const kept = { cookies: session.jar.list(this.nowSeconds()), localStorage: session.localStorage };
          await this.deps.sessions
            .save(project.id, caller.env, request.session, kept, this.deps.clock.now())
            .catch((saveError: unknown) =>
              this.deps.logger.warn({ err: saveError }, 'could not keep a scrape session'),
            );
        }
      }
      try {
        content = formatContent(
          { bytes: fetched.body, contentType: fetched.responseHeaders['content-type'], url: fetched.url },
          request.format,
          request.formatOptions,
        );
      } catch (formatError) {
        // An upstream error page is shown as served, whatever format was asked: the status is the news.
        if (fetched.status < 400) throw formatError;
        content = formatContent(
          { bytes: fetched.body, contentType: fetched.responseHeaders['content-type'], url: fetched.url },
          'raw',
          [],
        );
      }
      if (template && fetched.status < 400) {
        extractedData = extractFromPage(
          template,
          { body: fetched.body, contentType: fetched.responseHeaders['content-type'], url: fetched.url },
          startedAt + request.timeoutMs,
        );
      }
      if (fetched.status >= 400) {
        error = new ApiError(
          'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE',
          `The target answered ${fetched.status}${fetched.status >= 500 ? ' (a server error)' : ''} for ${request.method} ${fetched.url}`,
        );
      }
      // proxified_response answers the bytes themselves; the envelope hands a large content out by URL.
      if (content && !request.proxifiedResponse) {
        const offloaded = await offloadLargeContent(content, {
          inlineMaxBytes: this.deps.inlineMaxBytes,
          blobs: this.deps.blobs,
          publicUrl: this.deps.publicUrl,
          logUuid,
        });
        content = offloaded.content;
        largeContent = offloaded.logged;
      }
      if (cacheState === 'MISS' && cacheKey && error === undefined && this.deps.cache) {
        await this.deps.cache
          .store(project.id, caller.env, cacheKey, fetched, this.deps.clock.now())
          .catch((storeError: unknown) =>
            this.deps.logger.warn({ err: storeError }, 'could not keep a scrape in the cache'),
          );
      }
    } catch (caught) {
      error = isApiError(caught) ? caught : this.internal(caught);
    }

    const billed = cacheState === 'HIT' ? 0 : error === undefined || error.definition.billed ? cost.total : 0;
    const httpStatus =
      error && error.code !== 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE' ? error.definition.httpStatus : 200;
    const closing = await this.close(caller, release, billed, {
      log: this.logRow(caller, request, logUuid, startedAt, {
        httpStatus,
        error,
        cost: billed,
        fetched,
        content,
        largeContent,
        cacheState,
      }),
    });
    const durationMs = Date.now() - startedAt;
    const logUrl = logUrlOf(this.deps.publicUrl, logUuid);
    return {
      envelope: buildScrapeEnvelope({
        logUuid,
        logUrl,
        request,
        project,
        env: caller.env,
        cost: { total: billed, details: billed > 0 ? cost.details : [] },
        cache: { state: cacheState, entry: cacheKey ?? null },
        durationMs,
        publicUrl: this.deps.publicUrl,
        ...(fetched?.country ? { egressCountry: fetched.country } : {}),
        ...(fetched
          ? {
              upstream: {
                status: fetched.status,
                url: fetched.url,
                requestHeaders: fetched.requestHeaders,
                responseHeaders: fetched.responseHeaders,
                setCookies: fetched.setCookies,
                ...(fetched.redirectSetCookies ? { redirectSetCookies: fetched.redirectSetCookies } : {}),
                size: fetched.body.length,
              },
            }
          : {}),
        ...(content ? { content } : {}),
        ...(extractedData ? { extractedData } : {}),
        ...(fetched?.browserData
          ? { browserData: fetched.browserData }
          : error instanceof ScenarioError
            ? { browserData: { js_scenario: error.outcome } }
            : {}),
        ...(fetched?.screenshots ? { screenshots: fetched.screenshots } : {}),
        ...(error ? { error } : {}),
        ...(options.webhook ? { webhook: options.webhook } : {}),
      }),
      httpStatus,
      error,
      logUuid,
      logUrl,
      setCookies: fetched?.setCookies ?? [],
      cost: billed,
      remainingCredits: Math.max(0, project.limits.monthlyCredits - closing.used),
      projectConcurrency: { usage: closing.concurrencyUsage, limit: project.limits.concurrency },
      durationMs,
    };
  }

  /**
   * The country this scrape leaves by, picked among the operator's country proxies as /screenshot picks
   * (a country asked for that has none is a 400 naming the configured ones). Without any configured, the
   * scrape leaves by this host's own network and country= is only recorded (docs/compat.md, "country").
   */
  private pickCountry(request: ScrapeRequest): string | undefined {
    const configured = this.deps.countries?.countries() ?? [];
    if (request.country === undefined || configured.length === 0) return undefined;
    return pickCountry(parseCountrySpec(request.country), configured);
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock.now() / 1000);
  }

  /** Without a browser: one request through the guarded client (with the session's cookies, if any). */
  private async fetch(
    request: ScrapeRequest,
    projectId: string,
    jar: CookieJar | undefined,
    route: CountryRoute | undefined,
  ): Promise<Fetched> {
    // Every call keeps the cookies its redirects set (a jar of its own without a session), so that the
    // next hops on their origins carry them; the session's jar keeps them for the next calls.
    const cookies = jar ?? new CookieJar();
    const answer = await fetchUpstream(
      this.deps.http,
      request,
      {
        maxBodyBytes: this.deps.maxBodyBytes,
        maxRedirects: this.deps.maxRedirects,
        // Each project's connections are its own: one tenant's slow target never holds another's.
        poolKey: `scrape:${projectId}`,
        ...(route ? { tunnel: route.server } : {}),
      },
      {
        store: (lines, url) => cookies.applySetCookies(lines, url, this.nowSeconds()),
        headerFor: (url) => cookies.headerFor(url, this.nowSeconds()),
      },
    );
    jar?.applySetCookies(answer.setCookies, answer.url, this.nowSeconds());
    return {
      status: answer.status,
      url: answer.url,
      requestHeaders: answer.requestHeaders,
      responseHeaders: answer.headers,
      setCookies: answer.setCookies,
      ...(answer.redirectSetCookies.length > 0 ? { redirectSetCookies: answer.redirectSetCookies } : {}),
      body: request.method === 'HEAD' ? Buffer.alloc(0) : answer.body,
    };
  }

  /**
   * A call's closing rows in ONE transaction (one commit instead of three on SQLite): the concurrency
   * slot given back, the charge, the monitoring log row, and the reads the answer headers need. Should the
   * transaction fail, each is written on its own, as before, so that a store hiccup loses no charge and no
   * log row (what could not be written is logged).
   */
  private async close(
    caller: Caller,
    release: SlotRelease,
    billed: number,
    rows: { log: ScreenshotLogsTable },
  ): Promise<{ used: number; concurrencyUsage: number }> {
    const { project } = caller;
    try {
      return await this.deps.db.transaction().execute(async (trx) => {
        await release(trx);
        const used = await this.deps.credits.charge(project.id, billed, trx);
        await this.deps.logs.record(rows.log, trx);
        const concurrencyUsage = await this.deps.concurrency.usage(projectScope(project.id), trx);
        return { used, concurrencyUsage };
      });
    } catch (closingError) {
      this.deps.logger.warn({ err: closingError }, 'could not close a scrape in one transaction; row by row');
    }
    await release();
    let used = 0;
    try {
      used = await this.deps.credits.charge(project.id, billed);
    } catch (creditError) {
      this.deps.logger.error({ err: creditError }, 'could not bill a scrape');
    }
    await this.deps.logs
      .record(rows.log)
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'could not record a scrape'));
    const concurrencyUsage = await this.deps.concurrency.usage(projectScope(project.id)).catch(() => 0);
    return { used, concurrencyUsage };
  }

  /** The log row of a call refused before the scrape ran. */
  private async record(
    caller: Caller,
    request: ScrapeRequest,
    logUuid: string,
    startedAt: number,
    outcome: Parameters<ScrapeService['logRow']>[4],
  ): Promise<void> {
    await this.deps.logs
      .record(this.logRow(caller, request, logUuid, startedAt, outcome))
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'could not record a scrape'));
  }

  private logRow(
    caller: Caller,
    request: ScrapeRequest,
    logUuid: string,
    startedAt: number,
    outcome: {
      httpStatus: number;
      error: ApiError | undefined;
      cost: number;
      fetched?: Fetched | undefined;
      content?: FormattedContent | undefined;
      largeContent?: LoggedLargeContent | undefined;
      cacheState: ScrapeCacheState;
    },
  ): ScreenshotLogsTable {
    // Header values (cookies, tokens) and the body are the caller's secrets: the log keeps names and sizes.
    const params = {
      method: request.method,
      format: request.format,
      format_options: request.formatOptions,
      render_js: request.renderJs,
      timeout: request.timeoutMs,
      headers: Object.keys(request.headers),
      body_bytes: request.body?.length ?? 0,
      ...(request.renderJs
        ? {
            wait_for_selector: request.browser.waitForSelector ?? null,
            rendering_wait: request.browser.renderingWaitMs,
            auto_scroll: request.browser.autoScroll,
            js: request.browser.js !== undefined,
            js_scenario: request.browser.scenario?.map((step) => step.action) ?? null,
            screenshots: screenshotsLogOf(outcome.fetched?.screenshots ?? []),
          }
        : {}),
      cache: outcome.cacheState,
      // What the dashboard's log page shows of the answer: sizes and the target's headers, not the content.
      upstream_bytes: outcome.fetched?.body.length ?? null,
      content_bytes: outcome.largeContent?.bytes ?? (outcome.content ? contentBytes(outcome.content) : null),
      // A content over the inline limit: where GET /scrape/content/{log_uuid} finds it.
      ...(outcome.largeContent ? { large_content: outcome.largeContent } : {}),
      content_type: outcome.content?.contentType ?? null,
      response_headers: outcome.fetched ? loggedResponseHeaders(outcome.fetched.responseHeaders) : null,
      // As /extraction logs it: the saved name, or `ephemeral` (the rules themselves are not kept).
      ...(request.extractionTemplate
        ? {
            extraction_template:
              request.extractionTemplate.kind === 'saved'
                ? `persistent:${request.extractionTemplate.name}`
                : 'ephemeral',
          }
        : {}),
      tags: request.tags,
      // Asked for and validated (docs/compat.md, "country"); egress_country: the country it left by, when
      // the operator has country proxies (else this host's own network).
      country: request.country ?? null,
      egress_country: outcome.fetched?.country ?? null,
      correlation_id: request.correlationId ?? null,
      session: request.session ?? null,
    };
    return {
      log_uuid: logUuid,
      project_id: caller.project.id,
      env: caller.env,
      kind: 'scrape',
      url: request.url,
      params: JSON.stringify(params),
      http_status: outcome.httpStatus,
      error_code: outcome.error?.code ?? null,
      error_reason: outcome.error?.reason ?? null,
      upstream_status: outcome.fetched?.status ?? null,
      final_url: outcome.fetched?.url ?? null,
      cost: outcome.cost,
      duration_ms: Date.now() - startedAt,
      blob_key: null,
      content_type: outcome.fetched?.responseHeaders['content-type'] ?? null,
      created_at: this.deps.clock.now(),
      node_id: this.deps.nodeId ?? null,
    };
  }

  private internal(error: unknown): ApiError {
    const fromPage = pageFailureToApiError(error);
    if (fromPage) return fromPage;
    const outage = storeOutageToApiError(error);
    if (outage) return outage;
    this.deps.logger.error({ err: error }, 'unexpected scrape failure');
    return new ApiError(
      'ERR::API::INTERNAL_ERROR',
      'An unexpected error happened during the scrape; it has been logged',
      {
        cause: error,
      },
    );
  }
}

/** The size of the content as answered: base64 is counted as the bytes it decodes to. */
function contentBytes(content: FormattedContent): number {
  return content.contentEncoding === 'base64'
    ? Buffer.byteLength(content.content, 'base64')
    : Buffer.byteLength(content.content, 'utf8');
}
