import type { Kysely, Transaction } from 'kysely';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import { createPendingLog } from '../logs/log-store.js';
import { logUrlOf } from '../logs/log-url.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { Database } from '../store/schema.js';
import { newLogUuid, timeOrderedId } from '../store/time-ordered-id.js';
import type { Webhook, WebhookRegistry } from '../webhooks/registry.js';

/** The kinds of queued work a webhook receives (besides pings); also the delivery's resource type. */
export type AsyncJobKind = 'screenshot' | 'scrape' | 'extraction';

/** What every asynchronous acceptance needs: the webhook room, the queue and a way to wake the workers. */
export interface AsyncJobDeps {
  db: Kysely<Database>;
  queue: JobQueue;
  webhooks: WebhookRegistry;
  clock: Clock;
  publicUrl: string;
  wake: () => void;
}

export interface AsyncJobInput {
  kind: AsyncJobKind;
  webhookName: string;
  /** The target's address, for the pending log row ('' for a document sent in the body). */
  url: string;
  /** The job's stored request (JSON; secrets kept: the job needs them to run). */
  request: string;
  /** The log row's params (JSON; secrets masked). */
  logParams: string;
}

export interface AcceptedAsyncJob {
  jobUuid: string;
  logUuid: string;
  logUrl: string;
  webhook: Webhook;
  queueLimit: number;
  /** Jobs waiting for this webhook, this one included. */
  queued: number;
}

/** The fields of Scrapfly's answer to an accepted asynchronous call (docs/compat.md §2), for every job kind. */
export function acceptedAnswer(accepted: AcceptedAsyncJob) {
  return {
    job_uuid: accepted.jobUuid,
    log_uuid: accepted.logUuid,
    log_url: accepted.logUrl,
    success: true as const,
    webhook_enqueued: true as const,
    webhook_name: accepted.webhook.name,
    webhook_queue_limit: accepted.queueLimit,
    webhook_queued_element: accepted.queued,
    webhook_uuid: accepted.webhook.uuid,
  };
}

/** A queue limit of 0 admits no job, ever: not a full queue to wait out, but a setting to change. */
function queueLimitZero(caller: Caller, webhook: Webhook, kind: AsyncJobKind): ApiError {
  const { project } = caller;
  const setting =
    webhook.queue_limit !== null
      ? `the webhook's own queue_limit is 0: raise it with PATCH /webhooks/${webhook.name} {"queue_limit": N}`
      : `project "${project.name}" has a webhookQueueLimit of 0 (${project.overrides.webhookQueueLimit === undefined ? `its plan ${project.plan}'s` : 'its own override'}): give the webhook a queue_limit (PATCH /webhooks/${webhook.name}), or change the project's plan or limit (snapwire projects set ${project.name} --plan unlimited, or --limit webhookQueueLimit=N)`;
  return new ApiError(
    'ERR::WEBHOOK::QUEUE_LIMIT_ZERO',
    `The webhook "${webhook.name}" can never queue a ${kind}: ${setting}`,
  );
}

export function queueLimitOf(caller: Caller, webhook: Webhook): number {
  return webhook.queue_limit ?? caller.project.limits.webhookQueueLimit;
}

/**
 * Accepts one asynchronous job (screenshot, scrape or extraction): webhook checks (NOT_FOUND, DISABLED,
 * QUEUE_LIMIT_ZERO, QUEUE_FULL), then the pending log row and the job in ONE transaction before the
 * caller hears 201, so that an accepted job survives any crash that follows. `within` runs inside that
 * transaction (a schedule run records its job there).
 */
export async function acceptAsyncJob(
  deps: AsyncJobDeps,
  caller: Caller,
  input: AsyncJobInput,
  within?: (trx: Transaction<Database>, job: { jobUuid: string; logUuid: string }) => Promise<void>,
): Promise<AcceptedAsyncJob> {
  const name = input.webhookName;
  const webhook = await deps.webhooks.find(caller, name);
  if (!webhook) {
    throw new ApiError(
      'ERR::WEBHOOK::NOT_FOUND',
      `No webhook named "${name}" exists in project "${caller.project.name}" (${caller.env}); create it with POST /webhooks or drop webhook_name for a synchronous ${input.kind}`,
    );
  }
  if (webhook.enabled !== 1) {
    throw new ApiError(
      'ERR::WEBHOOK::DISABLED',
      `The webhook "${name}" is disabled (${webhook.disable_reason ?? 'no reason recorded'}); re-enable it with POST /webhooks/${name}/enable`,
    );
  }
  const limit = queueLimitOf(caller, webhook);
  if (limit === 0) throw queueLimitZero(caller, webhook, input.kind);
  // Time-ordered: jobs and their attempt rows are inserted at the end of their indexes (store/time-ordered-id.ts).
  const now = deps.clock.now();
  const jobUuid = timeOrderedId(now);
  const logUuid = newLogUuid();
  const queued = await deps.db.transaction().execute(async (trx) => {
    // Two requests can never both take the last queue slot.
    await deps.queue.lockWebhookQueue(trx, webhook.uuid);
    const pending = await deps.queue.pendingCount(webhook.uuid, trx);
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
      kind: input.kind,
      url: input.url,
      params: input.logParams,
      createdAt: now,
    });
    await deps.queue.enqueue(trx, {
      id: jobUuid,
      project_id: caller.project.id,
      env: caller.env,
      webhook_uuid: webhook.uuid,
      resource_type: input.kind,
      log_uuid: logUuid,
      request: input.request,
      state: 'queued',
    });
    if (within) await within(trx, { jobUuid, logUuid });
    return pending + 1;
  });
  deps.wake();
  return {
    jobUuid,
    logUuid,
    logUrl: logUrlOf(deps.publicUrl, logUuid),
    webhook,
    queueLimit: limit,
    queued,
  };
}
