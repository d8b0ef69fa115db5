import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

/**
 * Writes a webhook row straight into the store, for store tests and benchmarks that need one without the
 * registry (whose egress check would refuse their unreachable loopback URLs). Defaults: LIVE, enabled, no
 * secret rotation, plan limits.
 */
export async function insertWebhookRow(
  db: Kysely<Database>,
  row: {
    uuid: string;
    projectId: string;
    name?: string;
    url?: string;
    secret?: string;
    createdAt?: number;
  },
): Promise<void> {
  const createdAt = row.createdAt ?? 0;
  await db
    .insertInto('webhooks')
    .values({
      uuid: row.uuid,
      project_id: row.projectId,
      env: 'LIVE',
      name: row.name ?? 'hook',
      url: row.url ?? 'http://127.0.0.1:1/',
      secret: row.secret ?? 'secret-secret-secret',
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      disable_reason: null,
      consecutive_failed_count: 0,
      queue_limit: null,
      max_concurrency: null,
      timeout_ms: null,
      created_at: createdAt,
      updated_at: createdAt,
    })
    .execute();
}
