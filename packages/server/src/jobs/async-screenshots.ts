import type { Kysely, Transaction } from 'kysely';
import { ulid } from 'ulid';
import { timeOrderedId } from '../store/time-ordered-id.js';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { BlobStore } from '../results/blob-store.js';
import type { Database } from '../store/schema.js';
import { createPendingLog } from '../logs/log-store.js';
import { logUrlOf } from '../logs/log-url.js';
import type { Webhook, WebhookRegistry } from '../webhooks/registry.js';
import type { ScreenshotRequest } from '../request/screenshot-request.js';
import { maskSecrets } from '../request/capture-extensions.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface AcceptedJob {
  job_uuid: string;
  log_uuid: string;
  log_url: string;
  success: true;
  webhook_enqueued: true;
  webhook_name: string;
  webhook_queue_limit: number;
  webhook_queued_element: number;
  webhook_uuid: string;
}

/** A queue limit of 0 admits no job, ever: not a full queue to wait out, but a setting to change. */
function queueLimitZero(caller: Caller, webhook: Webhook): ApiError {
  const { project } = caller;
  const setting =
    webhook.queue_limit !== null
      ? `the webhook's own queue_limit is 0: raise it with PATCH /webhooks/${webhook.name} {"queue_limit": N}`
      : `project "${project.name}" has a webhookQueueLimit of 0 (${project.overrides.webhookQueueLimit === undefined ? `its plan ${project.plan}'s` : 'its own override'}): give the webhook a queue_limit (PATCH /webhooks/${webhook.name}), or change the project's plan or limit (snapwire projects set ${project.name} --plan unlimited, or --limit webhookQueueLimit=N)`;
  return new ApiError(
    'ERR::WEBHOOK::QUEUE_LIMIT_ZERO',
    `The webhook "${webhook.name}" can never queue a screenshot: ${setting}`,
  );
}

/**
 * Accepts asynchronous screenshots (`webhook_name`) and pings. A job and its log row are committed in one
 * transaction before the caller hears 201, so an accepted job survives any crash that follows.
 */
export class AsyncScreenshots {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly queue: JobQueue,
    private readonly webhooks: WebhookRegistry,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly publicUrl: string,
    private readonly wake: () => void,
  ) {}

  queueLimitOf(caller: Caller, webhook: Webhook): number {
    return webhook.queue_limit ?? caller.project.limits.webhookQueueLimit;
  }

  /**
   * `within` runs inside the acceptance transaction, after the job and its log row are written: a schedule
   * run records its job there, so that the run and its job commit together or not at all.
   */
  async accept(
    caller: Caller,
    request: ScreenshotRequest,
    within?: (trx: Transaction<Database>, job: { jobUuid: string; logUuid: string }) => Promise<void>,
  ): Promise<AcceptedJob> {
    const name = request.webhookName ?? '';
    const webhook = await this.webhooks.find(caller, name);
    if (!webhook) {
      throw new ApiError(
        'ERR::WEBHOOK::NOT_FOUND',
        `No webhook named "${name}" exists in project "${caller.project.name}" (${caller.env}); create it with POST /webhooks or drop webhook_name for a synchronous capture`,
      );
    }
    if (webhook.enabled !== 1) {
      throw new ApiError(
        'ERR::WEBHOOK::DISABLED',
        `The webhook "${name}" is disabled (${webhook.disable_reason ?? 'no reason recorded'}); re-enable it with POST /webhooks/${name}/enable`,
      );
    }
    const limit = this.queueLimitOf(caller, webhook);
    if (limit === 0) throw queueLimitZero(caller, webhook);
    // Time-ordered: jobs and their attempt rows are inserted at the end of their indexes (store/time-ordered-id.ts).
    const jobUuid = timeOrderedId(this.clock.now());
    const logUuid = ulid();
    const now = this.clock.now();
    const stored: ScreenshotRequest = { ...request, webhookName: undefined };
    const queued = await this.db.transaction().execute(async (trx) => {
      // Two requests can never both take the last queue slot.
      await this.queue.lockWebhookQueue(trx, webhook.uuid);
      const pending = await this.queue.pendingCount(trx, webhook.uuid);
      if (pending >= limit) {
        throw new ApiError(
          'ERR::WEBHOOK::QUEUE_FULL',
          `The webhook "${name}" already has ${pending} of its ${limit} queued jobs; retry when some are delivered, or raise its queue_limit`,
          { retryAfterSeconds: 5 },
        );
      }
      await createPendingLog(trx, {
        logUuid,
        jobUuid,
        projectId: caller.project.id,
        env: caller.env,
        url: request.url,
        // The queued job keeps the header and cookie values it needs to capture; its log row does not.
        params: JSON.stringify({ ...maskSecrets(stored), hostname: undefined }),
        createdAt: now,
      });
      await this.queue.enqueue(trx, {
        id: jobUuid,
        project_id: caller.project.id,
        env: caller.env,
        webhook_uuid: webhook.uuid,
        resource_type: 'screenshot',
        log_uuid: logUuid,
        request: JSON.stringify(stored),
        state: 'queued',
      });
      if (within) await within(trx, { jobUuid, logUuid });
      return pending + 1;
    });
    this.wake();
    return {
      job_uuid: jobUuid,
      log_uuid: logUuid,
      log_url: logUrlOf(this.publicUrl, logUuid),
      success: true,
      webhook_enqueued: true,
      webhook_name: webhook.name,
      webhook_queue_limit: limit,
      webhook_queued_element: queued,
      webhook_uuid: webhook.uuid,
    };
  }

  /** The ping's payload, stored before the transaction that enqueues it. */
  async pingPayload(caller: Caller, webhook: Webhook): Promise<string> {
    const body = Buffer.from(
      JSON.stringify({
        type: 'ping',
        webhook_name: webhook.name,
        webhook_uuid: webhook.uuid,
        project: caller.project.name,
        env: webhook.env,
        sent_at: new Date(this.clock.now()).toISOString(),
      }),
    );
    return this.blobs.put(body).catch((error: unknown) => {
      throw new ApiError(
        'ERR::API::SERVICE_UNAVAILABLE',
        `The ping could not be stored (${this.blobs.kind} blob store: ${(error as Error).message}); retry in a moment`,
        { retryAfterSeconds: 5, cause: error },
      );
    });
  }

  /** Enqueues a `ping` delivery (limits are checked by WebhookService.ping, its only caller). */
  async enqueuePing(executor: Executor, caller: Caller, webhook: Webhook, blob: string): Promise<string> {
    const jobUuid = timeOrderedId(this.clock.now());
    await this.queue.enqueue(executor, {
      id: jobUuid,
      project_id: caller.project.id,
      env: caller.env,
      webhook_uuid: webhook.uuid,
      resource_type: 'ping',
      log_uuid: null,
      request: '{}',
      state: 'delivering',
      payload_blob: blob,
      payload_content_type: 'application/json',
    });
    return jobUuid;
  }
}
