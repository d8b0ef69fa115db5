import type { Logger } from 'pino';
import type { Caller } from '../accounts/projects.js';
import type { CreditLedger } from '../accounts/credits.js';
import { projectScope, type ConcurrencyLeases } from '../accounts/concurrency-leases.js';
import { SCREENSHOT_COST } from '../accounts/plans.js';
import type { Clock } from '../clock.js';
import type { EgressGuard } from '../egress/guard.js';
import type { PinningProxy } from '../egress/pinning-proxy.js';
import type { BrowserPool } from '../engine/browser-pool.js';
import { capture, type CaptureResult } from '../engine/capture.js';
import { withPageSession, type CaptureSettings } from '../engine/page-session.js';
import { parseCountrySpec, pickCountry } from '../engine/country.js';
import type { CountryEgress, CountryRoute } from '../egress/country-proxy.js';
import { JobDeadline } from '../engine/deadline.js';
import { ApiError, isApiError, storeOutageToApiError } from '../errors.js';
import { pageFailureToApiError } from '../engine/page-failures.js';
import type { LogStore } from '../logs/log-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BlobStore } from '../results/blob-store.js';
import type { ScreenshotCache } from '../results/screenshot-cache.js';
import { cacheKeyOf, type ScreenshotRequest } from '../request/screenshot-request.js';
import { maskSecrets } from '../request/capture-extensions.js';
import { newLogUuid } from '../store/time-ordered-id.js';

export type CacheStatus = 'HIT' | 'MISS';

export interface ScreenshotOutcome {
  logUuid: string;
  cost: number;
  remainingCredits: number;
  projectConcurrency: { usage: number; limit: number };
  durationMs: number;
  screenshotUrl: string;
  result: CaptureResult;
  /** Set when the request asked for cache=true: whether the image came from the cache (HIT costs 0). */
  cache: CacheStatus | undefined;
  /** Country whose egress proxy was used, when `country` was given. */
  country: string | undefined;
  /** Extra response headers for the route to send as they are (X-Scrapfly-Cache-Status, ...). */
  headers: Record<string, string>;
}

/** What a failed capture still tells the caller: the log to look at and the credits left. */
export class ScreenshotFailure extends Error {
  constructor(
    readonly error: ApiError,
    readonly logUuid: string,
    readonly cost: number,
  ) {
    super(error.message);
  }
}

export interface ScreenshotServiceDeps {
  credits: CreditLedger;
  /** Project concurrency, leased in the database so that it holds across a fleet. */
  concurrency: ConcurrencyLeases;
  /** This node's id, kept in each monitoring log row. */
  nodeId?: string;
  pool: BrowserPool;
  guard: EgressGuard;
  proxy: PinningProxy;
  blobs: BlobStore;
  logs: LogStore;
  clock: Clock;
  publicUrl: string;
  logger: Logger;
  /** Engine settings of the captures (images, full-page ceiling, banner wait). */
  capture?: Omit<CaptureSettings, 'egressFailure'>;
  cache?: ScreenshotCache;
  countries?: CountryEgress;
  metrics?: Metrics;
}

interface Rendered {
  result: CaptureResult;
  blobKey: string;
  country: string | undefined;
}

const DEFAULT_CAPTURE: Omit<CaptureSettings, 'egressFailure'> = {
  loadImages: true,
  maxFullpageHeight: 40_000,
  bannerWaitMs: 2_500,
};

/**
 * Takes a screenshot for a caller: limits, egress check, capture, storage, billing, log. With cache=true an
 * image of the same normalised request younger than cache_ttl is served from the blob store at no cost, and
 * identical requests in flight at once share one render.
 */
export class ScreenshotService {
  /** Renders in flight by project + env + cache key (cache=true only). */
  private readonly inFlight = new Map<string, Promise<Rendered>>();

  constructor(private readonly deps: ScreenshotServiceDeps) {}

  /** The service's Prometheus metrics (GET /metrics), when wired. */
  get metrics(): Metrics | undefined {
    return this.deps.metrics;
  }

  resultUrl(logUuid: string): string {
    return `${this.deps.publicUrl}/screenshot/result/${logUuid}`;
  }

  async remainingCredits(caller: Caller): Promise<number> {
    return Math.max(
      0,
      caller.project.limits.monthlyCredits - (await this.deps.credits.used(caller.project.id)),
    );
  }

  /** `logUuid` is given for asynchronous jobs, whose log row was written when the job was accepted. */
  async take(
    caller: Caller,
    request: ScreenshotRequest,
    options: { logUuid?: string; queueWaitMs?: number; collectText?: boolean } = {},
  ): Promise<ScreenshotOutcome> {
    const startedAt = Date.now();
    const logUuid = options.logUuid ?? newLogUuid();
    const { project } = caller;
    let cost = 0;
    try {
      this.refuseUnsupported(caller, request);
      const country = this.pickCountry(request);
      const requestKey = request.cache ? cacheKeyOf(request) : undefined;
      const cacheKey = requestKey ? `${project.id}|${caller.env}|${requestKey}` : undefined;

      // 1. A stored image within cache_ttl: served at no cost, no browser involved.
      if (request.cache && requestKey && cacheKey && !request.cache.clear) {
        const hit = await this.findCached(caller, request, requestKey);
        if (hit)
          return await this.succeed(caller, request, logUuid, startedAt, hit, 0, 'HIT', options.queueWaitMs);
        // 2. The same request is rendering right now: share its image.
        const running = this.inFlight.get(cacheKey);
        if (running) {
          const shared = await running.catch((error: unknown) => {
            throw isApiError(error) ? error : this.internal(error);
          });
          await this.deps.blobs.touch(shared.blobKey).catch(() => undefined);
          return await this.succeed(
            caller,
            request,
            logUuid,
            startedAt,
            shared,
            0,
            'HIT',
            options.queueWaitMs,
          );
        }
      }

      // 3. A render of our own, billed.
      const used = await this.deps.credits.used(project.id);
      if (used + SCREENSHOT_COST > project.limits.monthlyCredits) {
        throw new ApiError(
          'ERR::SCRAPE::QUOTA_LIMIT_REACHED',
          `Project "${project.name}" has used ${used} of its ${project.limits.monthlyCredits} monthly credits; a screenshot costs ${SCREENSHOT_COST}. Raise the plan or the monthlyCredits limit (snapwire projects set)`,
        );
      }
      const release = await this.deps.concurrency.acquireProjectSlot(project.id, project.limits.concurrency);
      try {
        const rendering = this.render(request, startedAt, country, project.id, options.collectText);
        if (cacheKey) {
          this.inFlight.set(cacheKey, rendering);
          rendering.catch(() => {});
        }
        let rendered: Rendered;
        try {
          rendered = await rendering;
        } catch (error) {
          // A failure that reached the page is billed (ERROR_CATALOGUE.billed), as Scrapfly does.
          if (isApiError(error) && error.definition.billed) cost = SCREENSHOT_COST;
          throw error;
        } finally {
          if (cacheKey && this.inFlight.get(cacheKey) === rendering) this.inFlight.delete(cacheKey);
        }
        if (requestKey && this.deps.cache) {
          await this.deps.cache
            .store(project.id, caller.env, requestKey, {
              blobKey: rendered.blobKey,
              contentType: rendered.result.contentType,
              upstreamStatus: rendered.result.upstreamStatus,
              finalUrl: rendered.result.finalUrl,
              createdAt: this.deps.clock.now(),
            })
            .catch((error: unknown) =>
              this.deps.logger.warn({ err: error }, 'could not index a cached image'),
            );
        }
        return await this.succeed(
          caller,
          request,
          logUuid,
          startedAt,
          rendered,
          SCREENSHOT_COST,
          cacheKey ? 'MISS' : undefined,
          options.queueWaitMs,
        );
      } finally {
        await release();
      }
    } catch (caught) {
      if (caught instanceof ScreenshotFailure) throw caught;
      const error = isApiError(caught) ? caught : this.internal(caught);
      if (cost > 0) await this.deps.credits.charge(project.id, cost).catch(() => undefined);
      this.deps.metrics?.recordJob(error.code);
      await this.deps.logs
        .record({
          ...this.logBase(caller, request, logUuid, Date.now() - startedAt),
          http_status: error.definition.httpStatus,
          error_code: error.code,
          error_reason: error.reason,
          cost,
        })
        .catch((logError: unknown) =>
          this.deps.logger.error({ err: logError }, 'could not record a failed capture'),
        );
      throw new ScreenshotFailure(error, logUuid, cost);
    }
  }

  private async findCached(
    caller: Caller,
    request: ScreenshotRequest,
    requestKey: string,
  ): Promise<Rendered | undefined> {
    if (!this.deps.cache || !request.cache) return undefined;
    const notBefore = this.deps.clock.now() - request.cache.ttlSeconds * 1000;
    const entry = await this.deps.cache.find(caller.project.id, caller.env, requestKey, notBefore);
    if (!entry) return undefined;
    // An unreachable blob store makes the lookup a miss: the render that follows says what is wrong.
    const image = await this.deps.blobs.get(entry.blobKey).catch(() => undefined);
    if (!image) return undefined;
    // A new reference to the blob: its retention starts again.
    await this.deps.blobs.touch(entry.blobKey).catch(() => undefined);
    return {
      blobKey: entry.blobKey,
      country: undefined,
      result: {
        image,
        contentType: entry.contentType,
        upstreamStatus: entry.upstreamStatus,
        finalUrl: entry.finalUrl,
        timings: { navigationMs: 0, waitMs: 0, captureMs: 0, encodeMs: 0 },
      },
    };
  }

  /** Runs the capture on the pool (under the request's deadline) and stores the image. */
  private async render(
    request: ScreenshotRequest,
    startedAt: number,
    country: string | undefined,
    /** The browser queue serves projects in turn. */
    projectId: string,
    /** Also read the page's visible text (monitors with compare_text). */
    collectText = false,
  ): Promise<Rendered> {
    const deadline = new JobDeadline(startedAt, request.timeoutMs);
    try {
      // Checked here first so that a refused or unknown host answers at once with a precise error; the proxy
      // checks again (and pins) on every request the page makes, redirects included.
      await deadline.run(this.deps.guard.pinTarget(request.hostname));
      let route: CountryRoute | undefined;
      if (country && this.deps.countries) route = await deadline.run(this.deps.countries.route(country));
      const base = this.deps.capture ?? DEFAULT_CAPTURE;
      // Failures are explained from the proxy listener this very page used (its own session, or the
      // country route's); the process-wide record is only the fallback (page-session.ts).
      const result = await withPageSession(
        this.deps.pool,
        { queueKey: projectId, ...(route ? { route } : {}), sharedEgress: this.deps.proxy },
        deadline,
        request,
        { ...base, collectText },
        capture,
      );
      const blobKey = await this.deps.blobs.put(result.image).catch((error: unknown) => {
        this.deps.logger.error({ err: error }, 'the blob store refused the image');
        throw new ApiError(
          'ERR::API::SERVICE_UNAVAILABLE',
          `The screenshot was taken but could not be stored (${this.deps.blobs.kind} blob store: ${(error as Error).message}); retry in a moment`,
          { retryAfterSeconds: 5, cause: error },
        );
      });
      this.deps.metrics?.recordJob('success', (Date.now() - startedAt) / 1000, {
        format: request.format,
        capture: request.capture.kind,
      });
      return { result, blobKey, country };
    } finally {
      deadline.dispose();
    }
  }

  private async succeed(
    caller: Caller,
    request: ScreenshotRequest,
    logUuid: string,
    startedAt: number,
    rendered: Rendered,
    cost: number,
    cache: CacheStatus | undefined,
    queueWaitMs: number | undefined,
  ): Promise<ScreenshotOutcome> {
    const { project } = caller;
    const { result } = rendered;
    if (cache === 'HIT') this.deps.metrics?.recordJob('cache_hit');
    const remaining =
      project.limits.monthlyCredits -
      (cost > 0
        ? await this.deps.credits.charge(project.id, cost)
        : await this.deps.credits.used(project.id));
    const durationMs = Date.now() - startedAt;
    await this.deps.logs.record({
      ...this.logBase(caller, request, logUuid, durationMs),
      http_status: 200,
      cost,
      upstream_status: result.upstreamStatus,
      final_url: result.finalUrl,
      blob_key: rendered.blobKey,
      content_type: result.contentType,
      // Timings by phase for the monitoring log (a cache hit ran none of them).
      queue_wait_ms: queueWaitMs ?? null,
      navigation_ms: cache === 'HIT' ? null : result.timings.navigationMs,
      wait_ms: cache === 'HIT' ? null : result.timings.waitMs,
      capture_ms: cache === 'HIT' ? null : result.timings.captureMs,
      encode_ms: cache === 'HIT' ? null : result.timings.encodeMs,
      refused_requests: cache === 'HIT' ? null : (result.refused?.count ?? 0),
      refused_hosts: cache === 'HIT' || !result.refused ? null : JSON.stringify(result.refused.hosts),
    });
    const headers: Record<string, string> = {};
    if (cache) headers['x-scrapfly-cache-status'] = cache;
    if (rendered.country) headers['x-snapwire-country'] = rendered.country;
    if (result.truncatedFromHeight)
      headers['x-snapwire-truncated-from-height'] = String(result.truncatedFromHeight);
    if (result.truncatedAtPage) headers['x-snapwire-truncated-at-page'] = String(result.truncatedAtPage);
    return {
      logUuid,
      cost,
      remainingCredits: Math.max(0, remaining),
      projectConcurrency: {
        usage: await this.deps.concurrency.usage(projectScope(project.id)),
        limit: project.limits.concurrency,
      },
      durationMs,
      screenshotUrl: this.resultUrl(logUuid),
      result,
      cache,
      country: rendered.country,
      headers,
    };
  }

  /** The country of this capture, picked among the configured ones; a clear 400 when there is none. */
  private pickCountry(request: ScreenshotRequest): string | undefined {
    if (request.country === undefined) return undefined;
    const configured = this.deps.countries?.countries() ?? [];
    const spec = parseCountrySpec(request.country);
    if (configured.length === 0) {
      throw new ApiError(
        'ERR::SCRAPE::CONFIG_ERROR',
        `No egress proxy is configured for country "${request.country}" on this Snapwire host (none is configured); drop the country parameter or ask the operator to configure one (SNAPWIRE_COUNTRY_PROXIES)`,
      );
    }
    return pickCountry(spec, configured);
  }

  private refuseUnsupported(caller: Caller, request: ScreenshotRequest): void {
    if (request.webhookName !== undefined) {
      throw new ApiError(
        'ERR::WEBHOOK::NOT_FOUND',
        `No webhook named "${request.webhookName}" exists in project "${caller.project.name}" (${caller.env}); create it first or drop webhook_name for a synchronous capture`,
      );
    }
  }

  private internal(error: unknown): ApiError {
    // What a page made the browser protocol answer is the page's doing, not a server error.
    const fromPage = pageFailureToApiError(error);
    if (fromPage) {
      this.deps.logger.info({ err: error, code: fromPage.code }, 'capture failed by the page');
      return fromPage;
    }
    const outage = storeOutageToApiError(error);
    if (outage) {
      this.deps.logger.warn({ err: error }, 'the database failed during a capture');
      return outage;
    }
    this.deps.logger.error({ err: error }, 'unexpected capture failure');
    return new ApiError(
      'ERR::API::INTERNAL_ERROR',
      'An unexpected error happened during the capture; it has been logged',
      { cause: error },
    );
  }

  private logBase(caller: Caller, request: ScreenshotRequest, logUuid: string, durationMs: number) {
    // Header and cookie values are secrets: the log keeps their names only.
    const { url, hostname: _hostname, ...params } = maskSecrets(request);
    return {
      log_uuid: logUuid,
      project_id: caller.project.id,
      env: caller.env,
      url,
      params: JSON.stringify(params),
      http_status: 0,
      error_code: null,
      error_reason: null,
      upstream_status: null,
      final_url: null,
      cost: 0,
      duration_ms: durationMs,
      blob_key: null,
      content_type: null,
      created_at: this.deps.clock.now(),
      node_id: this.deps.nodeId ?? null,
    };
  }
}
