import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import type { MaintenanceTask } from '../store/fleet-maintenance.js';
import { sweepEndedCrawls } from '../crawler/crawl-store.js';
import { sweepLogs } from '../logs/log-store.js';
import { logUuidsOfPendingJobs, sweepEndedJobs } from '../queue/job-queue.js';
import { sweepAttempts } from '../webhooks/attempt-history.js';
import { sweepProjectEvents } from '../webhooks/events.js';

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
  /**
   * Expired dashboard sessions, sign-in counts past their window and two-factor challenges (the dashboard's
   * sign-in owns those tables: dashboard/auth.ts, dashboard/two-factor.ts); returns how many of each went.
   */
  sweepSignIns?: (now: number) => Promise<{ sessions: number; loginAttempts: number }>;
  /** How long audit rows are kept (SNAPWIRE_AUDIT_RETENTION_DAYS), whatever the projects' plans. */
  auditRetentionDays?: number;
  /** Removes audit rows older than the cutoff (audit/audit-log.ts); returns how many went. */
  sweepAudit?: (cutoff: number) => Promise<number>;
}

/**
 * The one place every table is kept to its retention, on the injected clock (tests move it), each table
 * swept by a function of the room that owns it (docs/architecture.md, "Who owns which table"): per project,
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
        swept.jobs += await sweepEndedJobs(db, project.id, cutoff);
        swept.attempts += await sweepAttempts(db, project.id, cutoff);
        swept.events += await sweepProjectEvents(db, project.id, cutoff);
        // Ended crawls (their URLs go with them); a running crawl is never swept.
        swept.crawls += await sweepEndedCrawls(db, project.id, cutoff);
        swept.logs += await sweepLogs(db, project.id, cutoff, logUuidsOfPendingJobs(db));
      }
      const signIns = await this.deps.sweepSignIns?.(now);
      swept.sessions = signIns?.sessions ?? 0;
      swept.loginAttempts = signIns?.loginAttempts ?? 0;
      const auditDays = Math.max(1, this.deps.auditRetentionDays ?? 365);
      swept.audit = (await this.deps.sweepAudit?.(now - auditDays * DAY_MS)) ?? 0;
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
