import { signPayload } from '@snapwire/sdk';
import { sql, type Insertable, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { webhookScope, type ConcurrencyLeases } from '../accounts/concurrency-leases.js';
import { projectNameById } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import type { Claim, JobQueue } from '../queue/job-queue.js';
import type { BlobStore } from '../results/blob-store.js';
import { logUrlOf } from '../logs/log-url.js';
import type { Database, WebhookAttemptsTable } from '../store/schema.js';
import { PreparedQuery } from '../store/prepared.js';
import { timeOrderedId } from '../store/time-ordered-id.js';
import { ProjectEvents, type ProjectEventKind } from './events.js';
import type { Webhook } from './registry.js';
import { OutcomeCommitter } from './outcome-committer.js';
import type { RetryPolicy } from './retry-policy.js';
import type { DeliveryResult, WebhookTransport } from './transport.js';

export interface DeliverySettings {
  publicUrl: string;
  timeoutMs: number;
  disableAfter: number;
  operatorNotifyUrl: string | undefined;
}

/** A delivery whose payload is not found goes back to capture while the job has had fewer captures. */
const RECAPTURE_LIMIT = 3;
/** Delay before a delivery whose payload could not be read (blob store down) is tried again. */
const PAYLOAD_RETRY_MS = 2_000;

/** One attempt's history row: written once per delivery, so compiled once (store/prepared.ts). */
const INSERT_ATTEMPT = new PreparedQuery<Database, Insertable<WebhookAttemptsTable>>(
  [
    'id',
    'job_id',
    'webhook_uuid',
    'attempt',
    'started_at',
    'duration_ms',
    'status_code',
    'success',
    'error',
    'response_excerpt',
  ],
  (db, values) => db.insertInto('webhook_attempts').values(values),
);

/** Share of the disable threshold at which the owner is warned that a webhook keeps failing. */
const WARNING_LEVELS = [0.5, 0.7, 0.9];

/**
 * Sends one claimed delivery: the stored payload bytes, signed as stored, with every header of docs/compat.md
 * §3. Records the attempt, the job's next step and the webhook's failure count in one transaction, then
 * handles auto-disable and the owner's warnings.
 */
export class DeliveryService {
  private readonly projectNames = new Map<string, string>();
  private readonly outcomes: OutcomeCommitter;
  private readonly events: ProjectEvents;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly queue: JobQueue,
    private readonly blobs: BlobStore,
    private readonly transport: WebhookTransport,
    private readonly retry: RetryPolicy,
    private readonly clock: Clock,
    private readonly settings: DeliverySettings,
    private readonly logger: Logger,
    /** The webhooks' max_concurrency, leased in the database so that it holds across a fleet. */
    private readonly leases: ConcurrencyLeases,
  ) {
    this.outcomes = new OutcomeCommitter(db);
    this.events = new ProjectEvents(db);
  }

  /**
   * The webhooks of a batch of claimed deliveries, read in one query at claim time (one read per delivery
   * was a sixth of the statements of a saturated run). A webhook missing from the map was deleted.
   */
  async webhooksFor(claims: readonly Claim[]): Promise<Map<string, Webhook>> {
    const uuids = [...new Set(claims.map((claim) => claim.job.webhook_uuid))];
    if (uuids.length === 0) return new Map();
    const rows = await this.db.selectFrom('webhooks').selectAll().where('uuid', 'in', uuids).execute();
    return new Map(rows.map((row) => [row.uuid, row]));
  }

  /** `webhook` is the job's webhook as read with its claim (webhooksFor); undefined when it was deleted. */
  async deliver(claim: Claim, webhook: Webhook | undefined): Promise<void> {
    if (!webhook) {
      await this.queue.afterAttempt(this.db, claim, {
        state: 'failed',
        error: 'ERR::WEBHOOK::NOT_FOUND: the webhook was deleted',
      });
      return;
    }
    // The webhook's own concurrency limit, over every node: over it, the job waits a moment.
    let release: (() => Promise<void>) | undefined;
    if (webhook.max_concurrency !== null) {
      release = await this.leases.tryAcquire(webhookScope(webhook.uuid), webhook.max_concurrency);
      if (!release) {
        await this.queue.release(claim, this.clock.now() + 100);
        return;
      }
    }
    try {
      await this.attempt(claim, webhook);
    } finally {
      await release?.();
    }
  }

  private async attempt(claim: Claim, webhook: Webhook): Promise<void> {
    const { job } = claim;
    let body: Buffer | undefined;
    try {
      body = job.payload_blob ? await this.blobs.get(job.payload_blob) : undefined;
    } catch (error) {
      // The blob store is unreachable, not the payload gone: try again shortly, no attempt counted.
      this.logger.warn({ err: error, job: job.id }, 'could not read a payload; retrying the delivery');
      await this.queue.release(claim, this.clock.now() + PAYLOAD_RETRY_MS);
      return;
    }
    if (
      !body &&
      job.resource_type !== 'ping' &&
      job.request !== '{}' &&
      job.capture_attempts < RECAPTURE_LIMIT
    ) {
      // A payload stored where this node cannot see it (a node-local blob store in a fleet): take the
      // screenshot again rather than lose the job; the capture attempts bound how often.
      this.logger.warn(
        { job: job.id, blob: job.payload_blob },
        "the stored payload is not in this node's blob store (use a shared store: SNAPWIRE_BLOB_STORE=s3://…); capturing again",
      );
      if (await this.queue.recapture(claim)) return;
    }
    if (!body) {
      await this.queue.afterAttempt(this.db, claim, {
        state: 'failed',
        error: 'ERR::API::INTERNAL_ERROR: the stored payload is missing',
      });
      return;
    }
    const headers = await this.headersFor(claim, webhook, body);
    const startedAt = this.clock.now();
    let result: DeliveryResult;
    try {
      result = await this.transport({
        url: webhook.url,
        headers,
        body,
        timeoutMs: webhook.timeout_ms ?? this.settings.timeoutMs,
        poolKey: webhook.uuid,
        ...(webhook.max_concurrency !== null ? { maxConnections: webhook.max_concurrency } : {}),
      });
    } catch (error) {
      result = {
        ok: false,
        status: null,
        durationMs: this.clock.now() - startedAt,
        responseExcerpt: null,
        retryAfterSeconds: null,
        errorClass: 'network',
        error: (error as Error).message,
      };
    }
    await this.record(claim, webhook, startedAt, result);
  }

  private async headersFor(claim: Claim, webhook: Webhook, body: Buffer): Promise<Record<string, string>> {
    const { job } = claim;
    const signature = signPayload(body, webhook.secret);
    const headers: Record<string, string> = {
      'content-type': job.payload_content_type ?? 'application/octet-stream',
      'user-agent': 'Scrapfly/Webhook',
      'x-scrapfly-webhook-env': webhook.env,
      'x-scrapfly-webhook-project': await this.projectName(job.project_id),
      'x-scrapfly-webhook-name': webhook.name,
      'x-scrapfly-webhook-id': webhook.uuid,
      'x-scrapfly-webhook-job-id': job.id,
      // The same for every retry of one delivery; a replay gets a new one, so that receivers deduplicating
      // on it let an explicit replay through.
      'x-scrapfly-webhook-delivery-id': job.delivery_id ?? job.id,
      'x-scrapfly-webhook-resource-type': job.resource_type,
      'x-scrapfly-webhook-signature': signature,
      'x-scrapfly-webhook-signature-lowercase': signature.toLowerCase(),
      ...(job.payload_headers ? (JSON.parse(job.payload_headers) as Record<string, string>) : {}),
    };
    if (job.log_uuid) {
      headers['x-scrapfly-log-uuid'] = job.log_uuid;
      headers['x-scrapfly-log-url'] = logUrlOf(this.settings.publicUrl, job.log_uuid);
    }
    // While a rotated secret's grace period runs, receivers still holding the old one can verify with it.
    if (webhook.previous_secret && (webhook.previous_secret_expires_at ?? 0) > this.clock.now()) {
      headers['x-scrapfly-webhook-signature-previous'] = signPayload(body, webhook.previous_secret);
    }
    return headers;
  }

  private async projectName(projectId: string): Promise<string> {
    let name = this.projectNames.get(projectId);
    if (name === undefined) {
      name = (await projectNameById(this.db, projectId)) ?? projectId;
      this.projectNames.set(projectId, name);
    }
    return name;
  }

  private async record(
    claim: Claim,
    webhook: Webhook,
    startedAt: number,
    result: DeliveryResult,
  ): Promise<void> {
    const { job } = claim;
    const attemptNumber = job.delivery_attempts + 1;
    let failureCount = 0;
    let nextStep: 'done' | 'retry' | 'max-retry' | 'gone' = 'done';
    await this.outcomes.commit(async (trx) => {
      failureCount = 0;
      // The job's next step first: it is fenced by the claim's token, so when the job is gone (its webhook
      // was deleted meanwhile, taking its jobs along) or its lease was taken over, nothing else is written
      // (no attempt row pointing at a job that no longer exists).
      let held: boolean;
      if (result.ok) {
        nextStep = 'done';
        held = await this.queue.afterAttempt(trx, claim, { state: 'done' });
      } else {
        const delay = this.retry.nextDelay(attemptNumber, result.retryAfterSeconds);
        const reason = `attempt ${attemptNumber}: ${result.error ?? 'failed'}`;
        if (delay === undefined) {
          nextStep = 'max-retry';
          held = await this.queue.afterAttempt(trx, claim, {
            state: 'failed',
            error: `ERR::WEBHOOK::MAX_RETRY: delivery failed ${attemptNumber} times; last ${reason}`,
          });
        } else {
          nextStep = 'retry';
          held = await this.queue.afterAttempt(trx, claim, {
            state: 'delivering',
            runAt: this.clock.now() + delay,
            error: reason,
          });
        }
      }
      if (!held) {
        nextStep = 'gone';
        return;
      }
      await INSERT_ATTEMPT.execute(trx, {
        id: timeOrderedId(this.clock.now()),
        job_id: job.id,
        webhook_uuid: webhook.uuid,
        attempt: attemptNumber,
        started_at: startedAt,
        duration_ms: Math.round(result.durationMs),
        status_code: result.status,
        success: result.ok ? 1 : 0,
        error: result.ok ? null : `${result.errorClass ?? 'error'}: ${result.error ?? ''}`,
        response_excerpt: result.responseExcerpt,
      });
      if (result.ok) {
        if (webhook.consecutive_failed_count !== 0) {
          await trx
            .updateTable('webhooks')
            .set({ consecutive_failed_count: 0 })
            .where('uuid', '=', webhook.uuid)
            .execute();
        }
        return;
      }
      const counted = await trx
        .updateTable('webhooks')
        .set({ consecutive_failed_count: sql<number>`consecutive_failed_count + 1` })
        .where('uuid', '=', webhook.uuid)
        .returning('consecutive_failed_count')
        .executeTakeFirst();
      failureCount = counted?.consecutive_failed_count ?? 0;
    });
    if ((nextStep as string) === 'gone') {
      this.logger.info(
        { job: job.id, webhook: webhook.name },
        'delivery finished after its job ended elsewhere (webhook deleted or lease taken over); not recorded',
      );
      return;
    }
    if (!result.ok) {
      this.logger.info(
        { job: job.id, webhook: webhook.name, attempt: attemptNumber, error: result.error, next: nextStep },
        'webhook delivery failed',
      );
      await this.afterFailure(webhook, failureCount, result);
    }
  }

  /** Warns the owner as failures mount and disables the webhook past the threshold. */
  private async afterFailure(webhook: Webhook, failures: number, result: DeliveryResult): Promise<void> {
    const threshold = this.settings.disableAfter;
    for (const level of WARNING_LEVELS) {
      if (failures === Math.max(1, Math.floor(threshold * level))) {
        await this.event(
          webhook,
          'webhook.failing',
          `Webhook "${webhook.name}" has failed ${failures} deliveries in a row; it will be disabled after ${threshold} (last: ${result.error})`,
        );
      }
    }
    if (failures <= threshold) return;
    const reason = `disabled after ${failures} consecutive failed deliveries (last: ${result.error})`;
    const disabled = await this.db
      .updateTable('webhooks')
      .set({ enabled: 0, disable_reason: reason, updated_at: this.clock.now() })
      .where('uuid', '=', webhook.uuid)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    if (Number(disabled.numUpdatedRows) === 1) {
      await this.event(
        webhook,
        'webhook.disabled',
        `Webhook "${webhook.name}" was ${reason}. Queued jobs wait until it is re-enabled.`,
      );
    }
  }

  /** Records a project event (webhooks/events.ts), logs it and tells the operator, if one listens. */
  private async event(webhook: Webhook, kind: ProjectEventKind, message: string): Promise<void> {
    const createdAt = this.clock.now();
    await this.events.record(webhook.project_id, kind, message, createdAt);
    this.logger.warn({ webhook: webhook.name, kind }, message);
    if (this.settings.operatorNotifyUrl) {
      const body = Buffer.from(
        JSON.stringify({
          kind,
          message,
          project: await this.projectName(webhook.project_id),
          env: webhook.env,
          webhook_name: webhook.name,
          webhook_uuid: webhook.uuid,
          created_at: new Date(createdAt).toISOString(),
        }),
      );
      void this.transport({
        url: this.settings.operatorNotifyUrl,
        headers: { 'content-type': 'application/json', 'user-agent': 'Snapwire/Notify' },
        body,
        timeoutMs: this.settings.timeoutMs,
        poolKey: 'operator-notify',
      })
        .then((answer) => {
          if (!answer.ok) this.logger.warn({ error: answer.error }, 'operator notification failed');
        })
        .catch((error: unknown) => this.logger.warn({ err: error }, 'operator notification failed'));
    }
  }
}
