import type { Kysely, Transaction } from 'kysely';
import { timeOrderedId } from '../store/time-ordered-id.js';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { BlobStore } from '../results/blob-store.js';
import type { Database } from '../store/schema.js';
import type { Webhook, WebhookRegistry } from '../webhooks/registry.js';
import type { ScreenshotRequest } from '../request/screenshot-request.js';
import { maskSecrets } from '../request/capture-extensions.js';
import { acceptAsyncJob, acceptedAnswer, queueLimitOf } from './async-jobs.js';

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

/**
 * Accepts asynchronous screenshots (`webhook_name`) and pings. A job and its log row are committed in one
 * transaction before the caller hears 201 (async-jobs.ts), so an accepted job survives any crash that follows.
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
    return queueLimitOf(caller, webhook);
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
    const stored: ScreenshotRequest = { ...request, webhookName: undefined };
    const accepted = await acceptAsyncJob(
      {
        db: this.db,
        queue: this.queue,
        webhooks: this.webhooks,
        clock: this.clock,
        publicUrl: this.publicUrl,
        wake: this.wake,
      },
      caller,
      {
        kind: 'screenshot',
        webhookName: request.webhookName ?? '',
        url: request.url,
        request: JSON.stringify(stored),
        // The queued job keeps the header and cookie values it needs to capture; its log row does not.
        logParams: JSON.stringify({ ...maskSecrets(stored), hostname: undefined }),
      },
      within,
    );
    return acceptedAnswer(accepted);
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
