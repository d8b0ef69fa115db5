import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError, isApiError } from '../errors.js';
import type { Job, JobQueue } from '../queue/job-queue.js';
import type { Database } from '../store/schema.js';
import type { NewWebhook, Webhook, WebhookChanges, WebhookRegistry } from './registry.js';

/**
 * What pings need from the asynchronous-screenshot intake (jobs/async-screenshots.ts provides it): the
 * webhook's queue limit, the stored ping payload, and the enqueue in the caller's transaction. Declared
 * here so that webhooks/ does not import jobs/ (the flow runs one way).
 */
export interface PingIntake {
  queueLimitOf(caller: Caller, webhook: Webhook): number;
  pingPayload(caller: Caller, webhook: Webhook): Promise<string>;
  enqueuePing(executor: Kysely<Database>, caller: Caller, webhook: Webhook, blob: string): Promise<string>;
}

/** Pings one webhook may be sent within PING_WINDOW_MS (counted in the store, so across processes too). */
export const PINGS_PER_WINDOW = 10;
export const PING_WINDOW_MS = 60_000;

/**
 * What both HTTP faces (the API's /webhooks routes and the dashboard) do to webhooks, in one place, so
 * that every limit holds whichever face is used: create (+ ping), change (+ wake the worker), enable,
 * rotate the secret, ping, replay, delete. Pings obey the webhook's queue limit (screenshot jobs and pings
 * together) and a rate limit; their deliveries obey max_concurrency like any other.
 */
export class WebhookService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly registry: WebhookRegistry,
    private readonly queue: JobQueue,
    private readonly asyncScreenshots: PingIntake,
    private readonly clock: Clock,
    private readonly secretGraceMs: number,
    private readonly wake: () => void,
  ) {}

  /**
   * Creates a webhook and queues its ping, atomically: the answer is the only place its secret is shown, so
   * either it is answered or nothing was created (the caller retries with the same name). The ping's
   * payload goes to the blob store first (an outage refuses the create), then the webhook and the ping
   * commit in one transaction. A new webhook has nothing queued and no recent ping: within ping's limits.
   */
  async create(caller: Caller, input: NewWebhook): Promise<{ webhook: Webhook; pingJob: string }> {
    const webhook = await this.registry.prepare(caller, input);
    const blob = await this.asyncScreenshots.pingPayload(caller, webhook).catch((error: unknown) => {
      if (!isApiError(error)) throw error;
      throw new ApiError(error.code, `The webhook "${webhook.name}" was not created: ${error.reason}`, {
        retryAfterSeconds: error.retryAfterSeconds ?? 5,
        cause: error,
      });
    });
    const pingJob = await this.registry.insert(caller, webhook, (trx) =>
      this.asyncScreenshots.enqueuePing(trx, caller, webhook, blob),
    );
    this.wake();
    return { webhook, pingJob };
  }

  async update(caller: Caller, nameOrUuid: string, changes: WebhookChanges): Promise<Webhook> {
    const webhook = await this.registry.update(caller, nameOrUuid, changes);
    // An enabled webhook's waiting jobs go at once; a raised limit lets more through.
    this.wake();
    return webhook;
  }

  enable(caller: Caller, nameOrUuid: string): Promise<Webhook> {
    return this.update(caller, nameOrUuid, { enabled: true });
  }

  rotateSecret(caller: Caller, nameOrUuid: string, secret?: string): Promise<Webhook> {
    return this.registry.rotateSecret(caller, nameOrUuid, this.secretGraceMs, secret);
  }

  remove(caller: Caller, nameOrUuid: string): Promise<void> {
    return this.registry.remove(caller, nameOrUuid);
  }

  /**
   * Queues a ping, within the webhook's limits: at most its queue limit of jobs waiting (pings included;
   * at least one, so a webhook on a plan without a queue can still be tested) and PINGS_PER_WINDOW pings a
   * minute. Over either: 429 with Retry-After. Checked and enqueued under the webhook's row lock on
   * PostgreSQL (SQLite transactions are serial), so parallel pings cannot all pass.
   */
  async ping(caller: Caller, nameOrWebhook: string | Webhook): Promise<string> {
    const webhook =
      typeof nameOrWebhook === 'string' ? await this.registry.require(caller, nameOrWebhook) : nameOrWebhook;
    const limit = Math.max(1, this.asyncScreenshots.queueLimitOf(caller, webhook));
    const blob = await this.asyncScreenshots.pingPayload(caller, webhook);
    const now = this.clock.now();
    const jobUuid = await this.db.transaction().execute(async (trx) => {
      await this.queue.lockWebhookQueue(trx, webhook.uuid);
      const counts = await this.queue.pingCounts(trx, webhook.uuid, now - PING_WINDOW_MS);
      const pending = Number(counts.pending ?? 0);
      const recentPings = Number(counts.recentPings ?? 0);
      if (recentPings >= PINGS_PER_WINDOW) {
        const wait = Math.max(1, Math.ceil((Number(counts.oldestPing ?? now) + PING_WINDOW_MS - now) / 1000));
        throw new ApiError(
          'ERR::THROTTLE::MAX_REQUEST_RATE_EXCEEDED',
          `The webhook "${webhook.name}" was pinged ${recentPings} times in the last minute (at most ${PINGS_PER_WINDOW}); wait ${wait} s`,
          { retryAfterSeconds: wait },
        );
      }
      if (pending >= limit) {
        throw new ApiError(
          'ERR::WEBHOOK::QUEUE_FULL',
          `The webhook "${webhook.name}" already has ${pending} of its ${limit} queued jobs (pings count too); ping again when they are delivered`,
          { retryAfterSeconds: 5 },
        );
      }
      return this.asyncScreenshots.enqueuePing(trx, caller, webhook, blob);
    });
    this.wake();
    return jobUuid;
  }

  /**
   * Sends a finished job's stored payload again, under a new delivery id (X-Scrapfly-Webhook-Delivery-Id)
   * so that a receiver deduplicating on it lets the explicit replay through.
   */
  async replay(job: Job): Promise<boolean> {
    const replayed = await this.queue.replay(job.id, randomUUID());
    if (replayed) this.wake();
    return replayed;
  }
}
