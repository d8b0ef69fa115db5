import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import { timeOrderedId } from '../store/time-ordered-id.js';

/** Every action the audit log names (docs/dashboard.md, "Audit log"). */
export const AUDIT_ACTIONS = [
  'sign_in',
  'sign_in_failed',
  'sign_out',
  'session_revoked',
  'two_factor_enabled',
  'two_factor_disabled',
  'recovery_code_used',
  'project_created',
  'key_rotated',
  'plan_changed',
  'webhook_created',
  'webhook_updated',
  'webhook_enabled',
  'webhook_disabled',
  'webhook_deleted',
  'webhook_secret_revealed',
  'webhook_secret_rotated',
  'replay',
  'schedule_created',
  'schedule_updated',
  'schedule_deleted',
  'schedule_paused',
  'schedule_resumed',
  'schedule_run',
  'user_created',
  'user_invited',
  'user_role_changed',
  'user_removed',
  'user_projects_changed',
  'invitation_revoked',
  'reset_link_created',
  'admin_password_reset',
  'project_updated',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** A dashboard user's username, or `key:PROJECT/ENV` for a change made with an API key. */
  actor: string;
  action: AuditAction;
  projectId?: string | undefined;
  /** What was acted on: a key's environment, a webhook's uuid, a job's id, a session… */
  target?: string | undefined;
  /** The client's address as the service sees it (after SNAPWIRE_TRUST_PROXY). */
  sourceAddress: string;
  /** A few facts; never a secret. */
  detail?: Record<string, unknown> | undefined;
}

export interface AuditRecord {
  id: string;
  createdAt: number;
  actor: string;
  action: string;
  projectId: string | null;
  target: string | null;
  sourceAddress: string;
  detail: Record<string, unknown> | null;
}

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  projectId?: string | undefined;
  /** Inclusive, epoch ms. */
  from?: number | undefined;
  /** Exclusive, epoch ms. */
  to?: number | undefined;
  /** Rows older than this row id (the next page). */
  before?: string | undefined;
}

/** Who did what, when and from where: written where a change happens, read by /dashboard/audit. */
export class AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insertInto('audit_log')
      .values({
        id: timeOrderedId(now),
        created_at: now,
        actor: entry.actor.slice(0, 200),
        action: entry.action,
        project_id: entry.projectId ?? null,
        target: entry.target ?? null,
        source_address: entry.sourceAddress,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
      })
      .execute();
  }

  /** Newest first; `limit` rows at most. Paging: pass the last row's id as `before`. */
  async list(filter: AuditFilter, limit: number): Promise<AuditRecord[]> {
    let query = this.db.selectFrom('audit_log').selectAll();
    if (filter.actor) query = query.where('actor', '=', filter.actor);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
    if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
    if (filter.before) query = query.where('id', '<', filter.before);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      createdAt: Number(row.created_at),
      actor: row.actor,
      action: row.action,
      projectId: row.project_id,
      target: row.target,
      sourceAddress: row.source_address,
      detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
    }));
  }

  /** Up to `limit` distinct actors seen in the log, in name order. */
  async actors(limit = 200): Promise<string[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .select('actor')
      .distinct()
      .orderBy('actor')
      .limit(limit)
      .execute();
    return rows.map((row) => row.actor);
  }

  /** Removes rows older than `cutoff` (the retention sweeper); returns how many went. */
  async sweep(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('audit_log').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
