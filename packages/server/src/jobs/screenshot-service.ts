import type { Logger } from 'pino';
import { ulid } from 'ulid';
import type { Caller } from '../accounts/projects.js';
import type { CreditLedger } from '../accounts/credits.js';
import type { ConcurrencyTracker } from '../accounts/concurrency.js';
import { SCREENSHOT_COST } from '../accounts/plans.js';
import type { Clock } from '../clock.js';
import type { EgressGuard } from '../egress/guard.js';
import type { PinningProxy } from '../egress/pinning-proxy.js';
import type { BrowserPool } from '../engine/browser-pool.js';
import { capture, contextOptionsFor, type CaptureResult } from '../engine/capture.js';
import { JobDeadline } from '../engine/deadline.js';
import { ApiError, isApiError } from '../errors.js';
import type { LogStore } from '../logs/log-store.js';
import type { BlobStore } from '../results/blob-store.js';
import type { ScreenshotRequest } from './screenshot-request.js';

export interface ScreenshotOutcome {
  logUuid: string;
  cost: number;
  remainingCredits: number;
  projectConcurrency: { usage: number; limit: number };
  durationMs: number;
  screenshotUrl: string;
  result: CaptureResult;
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
  concurrency: ConcurrencyTracker;
  pool: BrowserPool;
  guard: EgressGuard;
  proxy: PinningProxy;
  blobs: BlobStore;
  logs: LogStore;
  clock: Clock;
  publicUrl: string;
  logger: Logger;
}

/** Takes a synchronous screenshot for a caller: limits, egress check, capture, storage, billing, log. */
export class ScreenshotService {
  constructor(private readonly deps: ScreenshotServiceDeps) {}

  resultUrl(logUuid: string): string {
    return `${this.deps.publicUrl}/screenshot/result/${logUuid}`;
  }

  async remainingCredits(caller: Caller): Promise<number> {
    return Math.max(
      0,
      caller.project.limits.monthlyCredits - (await this.deps.credits.used(caller.project.id)),
    );
  }

  async take(caller: Caller, request: ScreenshotRequest): Promise<ScreenshotOutcome> {
    const startedAt = Date.now();
    const logUuid = ulid();
    const { project } = caller;
    this.refuseUnsupported(caller, request);
    const used = await this.deps.credits.used(project.id);
    if (used + SCREENSHOT_COST > project.limits.monthlyCredits) {
      throw new ApiError(
        'ERR::SCRAPE::QUOTA_LIMIT_REACHED',
        `Project "${project.name}" has used ${used} of its ${project.limits.monthlyCredits} monthly credits; a screenshot costs ${SCREENSHOT_COST}. Raise the plan or the monthlyCredits limit (snapwire projects set)`,
      );
    }
    const release = this.deps.concurrency.acquire(project.id, project.limits.concurrency);
    const deadline = new JobDeadline(startedAt, request.timeoutMs);
    try {
      const result = await this.capture(request, deadline);
      const blobKey = await this.deps.blobs.put(result.image);
      const remaining =
        project.limits.monthlyCredits - (await this.deps.credits.charge(project.id, SCREENSHOT_COST));
      const durationMs = Date.now() - startedAt;
      await this.deps.logs.record({
        ...this.logBase(caller, request, logUuid, durationMs),
        http_status: 200,
        cost: SCREENSHOT_COST,
        upstream_status: result.upstreamStatus,
        final_url: result.finalUrl,
        blob_key: blobKey,
        content_type: result.contentType,
      });
      return {
        logUuid,
        cost: SCREENSHOT_COST,
        remainingCredits: Math.max(0, remaining),
        projectConcurrency: {
          usage: this.deps.concurrency.usage(project.id),
          limit: project.limits.concurrency,
        },
        durationMs,
        screenshotUrl: this.resultUrl(logUuid),
        result,
      };
    } catch (caught) {
      const error = isApiError(caught) ? caught : this.internal(caught);
      const cost = error.definition.billed ? SCREENSHOT_COST : 0;
      if (cost > 0) await this.deps.credits.charge(project.id, cost);
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
    } finally {
      deadline.dispose();
      release();
    }
  }

  private async capture(request: ScreenshotRequest, deadline: JobDeadline): Promise<CaptureResult> {
    // Checked here first so that a refused or unknown host answers at once with a precise error; the proxy
    // checks again (and pins) on every request the page makes, redirects included.
    await deadline.run(this.deps.guard.pinTarget(request.hostname));
    return this.deps.pool.withContext(
      contextOptionsFor(request),
      deadline.startedAt + deadline.timeoutMs,
      (context) => capture(context, request, deadline, this.deps.proxy),
    );
  }

  private refuseUnsupported(caller: Caller, request: ScreenshotRequest): void {
    if (request.webhookName !== undefined) {
      throw new ApiError(
        'ERR::WEBHOOK::NOT_FOUND',
        `No webhook named "${request.webhookName}" exists in project "${caller.project.name}" (${caller.env}); create it first or drop webhook_name for a synchronous capture`,
      );
    }
    if (request.country !== undefined) {
      throw new ApiError(
        'ERR::SCRAPE::CONFIG_ERROR',
        `No egress proxy is configured for country "${request.country}" on this Snapwire host; drop the country parameter or ask the operator to configure one`,
      );
    }
  }

  private internal(error: unknown): ApiError {
    this.deps.logger.error({ err: error }, 'unexpected capture failure');
    return new ApiError(
      'ERR::API::INTERNAL_ERROR',
      'An unexpected error happened during the capture; it has been logged',
      { cause: error },
    );
  }

  private logBase(caller: Caller, request: ScreenshotRequest, logUuid: string, durationMs: number) {
    const { url, hostname: _hostname, ...params } = request;
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
    };
  }
}
