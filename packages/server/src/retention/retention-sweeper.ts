import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import type { MaintenanceTask } from '../store/fleet-maintenance.js';

const DAY_MS = 86_400_000;

/** What one sweep removed, per table. */
export interface RetentionSweep {
  logs: number;
  jobs: number;
  attempts: number;
  events: number;
  sessions: number;
  loginAttempts: number;
  /** Ended crawls with their URLs (crawls and crawl_urls). */
  crawls: number;
  /** Audit rows older than SNAPWIRE_AUDIT_RETENTION_DAYS, and expired two-factor sign-in challenges. */
  audit: number;
}

export interface RetentionDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** Every project with its retention in days (plan or override). */
  projects: () => Promise<Array<{ id: string; limits: { retentionDays: number } }>>;
  /** Images and cache entries: swept after the tables, by the results janitor. */
  sweepResults?: () => Promise<void>;
  /** Scrape sessions idle past their expiry (scrape/session-store.ts); returns how many went. */
  sweepScrapeSessions?: (now: number) => Promise<number>;
  logger: Logger;
  /** How long a sign-in attempt counts toward the dashboard's throttle (dashboard/auth.ts LOGIN_WINDOW_MS). */
  loginWindowMs: number;
  /** How long audit rows are kept (SNAPWIRE_AUDIT_RETENTION_DAYS), whatever the projects' plans. */
  auditRetentionDays?: number;
  /** Removes audit rows older than the cutoff (audit/audit-log.ts); returns how many went. */
  sweepAudit?: (cutoff: number) => Promise<number>;
}

/**
 * The one place every table is kept to its retention, on the injected clock (tests move it): per project,
 * by its plan's retentionDays, monitoring logs, ended jobs (their attempts go with them), attempts,
 * project events and ended crawls (their URLs with them) older than that; expired dashboard sessions and sign-in counts; then images and cache
 * entries (the results janitor). Jobs still queued or delivering, and the logs they will complete, are
 * never swept: an accepted job is never lost.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionSweep> | undefined;

  constructor(private readonly deps: RetentionDeps) {}

  /**
   * Sweeps every `intervalMs` (the cutoffs come from the injected clock). With `schedule` (a fleet:
   * store/fleet-maintenance.ts), that scheduler runs the sweep once per fleet per interval instead.
   */
  start(intervalMs: number, schedule?: (task: MaintenanceTask) => void): void {
    if (schedule) {
      schedule({
        name: 'retention-sweep',
        intervalMs,
        leaseMs: 30 * 60_000,
        run: async () => {
          await this.sweep();
        },
      });
      return;
    }
    this.timer = setInterval(() => void this.sweep().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** One sweep of every table; a sweep already running is joined, not started twice. */
  sweep(): Promise<RetentionSweep> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<RetentionSweep> {
    const { db, clock, logger } = this.deps;
    const now = clock.now();
    const swept: RetentionSweep = {
      logs: 0,
      jobs: 0,
      attempts: 0,
      events: 0,
      sessions: 0,
      loginAttempts: 0,
      crawls: 0,
      audit: 0,
    };
    try {
      for (const project of await this.deps.projects()) {
        const cutoff = now - Math.max(1, project.limits.retentionDays) * DAY_MS;
        swept.jobs += Number(
          (
            await db
              .deleteFrom('jobs')
              .where('project_id', '=', project.id)
              .where('state', 'in', ['done', 'failed'])
              .where('updated_at', '<', cutoff)
              .executeTakeFirst()
          ).numDeletedRows,
        );
        swept.attempts += Number(
          (
            await db
              .deleteFrom('webhook_attempts')
              .where('started_at', '<', cutoff)
              .where('webhook_uuid', 'in', (eb) =>
                eb.selectFrom('webhooks').select('uuid').where('project_id', '=', project.id),
              )
              .executeTakeFirst()
          ).numDeletedRows,
        );
        swept.events += Number(
          (
            await db
              .deleteFrom('project_events')
              .where('project_id', '=', project.id)
              .where('created_at', '<', cutoff)
              .executeTakeFirst()
          ).numDeletedRows,
        );
        // Ended crawls (their URLs go with them, ON DELETE CASCADE); a running crawl is never swept.
        swept.crawls += Number(
          (
            await db
              .deleteFrom('crawls')
              .where('project_id', '=', project.id)
              .where('status', 'in', ['DONE', 'CANCELLED'])
              .where('stop_time', '<', cutoff)
              .executeTakeFirst()
          ).numDeletedRows,
        );
        swept.logs += Number(
          (
            await db
              .deleteFrom('screenshot_logs')
              .where('project_id', '=', project.id)
              .where('created_at', '<', cutoff)
              .where('log_uuid', 'not in', (eb) =>
                eb
                  .selectFrom('jobs')
                  .select('log_uuid')
                  .where('state', 'in', ['queued', 'delivering'])
                  .where('log_uuid', 'is not', null)
                  .$castTo<string>(),
              )
              .executeTakeFirst()
          ).numDeletedRows,
        );
      }
      const dashboard = db;
      swept.sessions = Number(
        (await dashboard.deleteFrom('dashboard_sessions').where('expires_at', '<=', now).executeTakeFirst())
          .numDeletedRows,
      );
      swept.loginAttempts = Number(
        (
          await dashboard
            .deleteFrom('dashboard_login_attempts')
            .where('window_started_at', '<', now - this.deps.loginWindowMs)
            .executeTakeFirst()
        ).numDeletedRows,
      );
      const auditDays = Math.max(1, this.deps.auditRetentionDays ?? 365);
      swept.audit = (await this.deps.sweepAudit?.(now - auditDays * DAY_MS)) ?? 0;
      await dashboard.deleteFrom('dashboard_sign_in_challenges').where('expires_at', '<=', now).execute();
      // Not counted in the result: a session's expiry is its idle time, not a project's retention.
      const idleSessions = (await this.deps.sweepScrapeSessions?.(now)) ?? 0;
      if (idleSessions > 0)
        logger.info({ scrapeSessions: idleSessions }, 'retention: idle scrape sessions swept');
      await this.deps.sweepResults?.();
      if (Object.values(swept).some((count) => count > 0))
        logger.info(swept, 'retention: expired rows swept');
    } catch (error) {
      logger.error({ err: error }, 'retention sweep failed');
    }
    return swept;
  }
}
