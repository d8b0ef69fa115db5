import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

// The webhooks table's part in the queue's statements (queue/job-queue.ts): kept apart from registry.ts,
// which uses the queue, so that neither file imports the other.

/** The uuids of enabled webhooks, as a subquery: the queue delivers only to those (queue/job-queue.ts). */
export function enabledWebhookUuids(db: Kysely<Database>) {
  return db.selectFrom('webhooks').select('webhooks.uuid').where('webhooks.enabled', '=', 1);
}

/**
 * PostgreSQL: locks a webhook's row until the transaction ends, so the checks of its queue limit and the
 * enqueue that follows happen one transaction at a time (queue/job-queue.ts lockWebhookQueue).
 */
export async function lockWebhookRow(trx: Transaction<Database>, webhookUuid: string): Promise<void> {
  await trx.selectFrom('webhooks').select('uuid').where('uuid', '=', webhookUuid).forUpdate().execute();
}
