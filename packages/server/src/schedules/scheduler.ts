import { PollingLoop } from '../queue/polling-loop.js';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Caller, ProjectService } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError, isApiError } from '../errors.js';
import type { AsyncScrapes } from '../jobs/async-scrapes.js';
import type { AsyncScreenshots } from '../jobs/async-screenshots.js';
import type { CrawlRequest } from '../request/crawl-request.js';
import { crawlRequestOf } from './crawler-config.js';
import { scrapeRequestOf } from './scrape-config.js';
import { parseScreenshotRequest } from '../request/screenshot-request.js';
import type { Dialect } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { crawlOutcomesOf, crawlUuidsInStatus } from '../crawler/crawl-store.js';
import { logErrorsOf } from '../logs/log-store.js';
import { jobStatesOf, queuedJobIds } from '../queue/job-queue.js';
import {
  claimDueRuns,
  endRun,
  hasUnfinishedRun,
  insertRun,
  markRunning,
  runningRuns,
  sweepEndedRuns,
} from './runs.js';
import {
  newRun,
  nextRunFrom,
  recurrenceOf,
  type ScheduleExecutor,
  type ScheduleRow,
  type ScheduleRun,
} from './store.js';

/**
 * Starts a crawl for a run (crawler/crawl-service.ts), running `within` in the transaction that stores the
 * crawl, so that a run and its crawl commit together, once.
 */
export interface ScheduledCrawls {
  start(
    caller: Caller,
    request: CrawlRequest,
    within: (trx: Transaction<Database>, crawlUuid: string) => Promise<void>,
  ): Promise<unknown>;
}

/** Crawl statuses that mean a crawler run is still going (store/schema.ts CrawlStatus). */
const ACTIVE_CRAWL = ['PENDING', 'RUNNING'] as const;

export interface SchedulerSettings {
  /** Longest sleep between looks at due schedules and runs. */
  pollMs: number;
  maxTimeoutMs: number;
}

/** What one tick did (tests and logs read it). */
export interface TickSummary {
  /** Runs created for recurrence instants (skipped ones included). */
  scheduled: number;
  /** Runs whose asynchronous screenshot was enqueued. */
  fired: number;
  /** Runs that ended (succeeded or failed) in this tick. */
  settled: number;
}

/**
 * A claimed run is leased for LEASE_MS: a process that dies while firing it lets the lease run out and
 * another takes it over. Firing takes one transaction, far below this.
 */
const LEASE_MS = 30_000;
/** Rows looked at per step of a tick; the next tick takes the rest. */
const BATCH = 100;
/**
 * Ended runs are kept as long as the longest plan keeps its monitoring logs (4 weeks), so that a run's log
 * link outlives it nowhere; older ones are swept at most once an hour.
 */
export const RUN_RETENTION_MS = 28 * 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;

class LeaseLost extends Error {}

/**
 * Fires schedules (docs/compat.md §6). One loop per process; any number of processes may share one
 * PostgreSQL. A tick does three steps, each safe to run in several processes at once:
 *
 * 1. **Instants -> runs.** A due ACTIVE schedule is advanced with a conditional update (fenced on its
 *    `next_run_at`), and its run row is written in the same transaction: one run per instant, whoever wins.
 *    Missed instants (the service was down, or slow) are not owed: the schedule fires once for them and
 *    moves to its first instant after now. With allow_concurrency=false an instant that finds the previous
 *    run still capturing (its job still `queued`, whether or not step 3 has settled it yet) records a
 *    `skipped` run instead.
 * 2. **Runs -> jobs.** Due runs are claimed with a lease (like jobs: SKIP LOCKED on PostgreSQL), and each is
 *    enqueued through the same path as `/screenshot?webhook_name=` (jobs/async-screenshots.ts). The run's
 *    move to `running` is written inside the acceptance transaction and fenced by the lease token, so a
 *    run and its job commit together, once.
 * 3. **Settle.** A running run ends when its capture has ended (its job left `queued`); the log row says
 *    whether it failed. A failed run with retry_on_failure gets a retry run (attempt + 1) up to
 *    max_retries; the status change is conditional, so only one process adds the retry.
 */
export class Scheduler {
  readonly id = `scheduler-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly polling = new PollingLoop<TickSummary>({
    look: () => this.tick(),
    sleepAfter: () => this.sleepAfter(),
    lookFailed: (error) => this.logger.error({ err: error }, 'scheduler: tick failed'),
  });
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly asyncScreenshots: AsyncScreenshots,
    private readonly projects: ProjectService,
    private readonly clock: Clock,
    private readonly settings: SchedulerSettings,
    private readonly logger: Logger,
    /** Runs of scrape schedules (absent: they fail with a clear error). */
    private readonly asyncScrapes?: AsyncScrapes,
    /** Runs of crawler schedules (absent: they fail with a clear error). */
    private readonly crawls?: ScheduledCrawls,
  ) {}

  start(): void {
    this.polling.start();
  }

  /** Look now (a schedule was created, resumed or executed). */
  wake(): void {
    this.polling.wake();
  }

  async stop(): Promise<void> {
    await this.polling.stop();
  }

  /** Until the next schedule is due, at most pollMs; a wake-up during the read still cuts the sleep. */
  private async sleepAfter(): Promise<number> {
    const next = await this.nextDueAt().catch(() => undefined);
    return next === undefined
      ? this.settings.pollMs
      : Math.min(this.settings.pollMs, Math.max(10, next - this.clock.now()));
  }

  private async nextDueAt(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('schedules')
      .select((eb) => eb.fn.min<number>('next_run_at').as('next'))
      .where('status', '=', 'ACTIVE')
      .executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  /** One look: instants to runs, runs to jobs, running runs settled. */
  async tick(): Promise<TickSummary> {
    const scheduled = await this.scheduleDueInstants();
    const fired = await this.fireDueRuns();
    const settled = await this.settleRunningRuns();
    // Also when the clock went back (a corrected system clock): never wait longer than an hour.
    const sinceSweep = this.clock.now() - this.lastSweep;
    if (sinceSweep >= SWEEP_EVERY_MS || sinceSweep < 0) await this.sweepEndedRuns();
    return { scheduled, fired, settled };
  }

  /** Deletes runs that ended more than RUN_RETENTION_MS ago (an every-minute schedule adds 1,440 a day). */
  private async sweepEndedRuns(): Promise<void> {
    const now = this.clock.now();
    this.lastSweep = now;
    await sweepEndedRuns(this.db, now - RUN_RETENTION_MS);
  }

  private async scheduleDueInstants(): Promise<number> {
    const now = this.clock.now();
    const due = await this.db
      .selectFrom('schedules')
      .select(['id', 'next_run_at'])
      .where('status', '=', 'ACTIVE')
      .where('next_run_at', '<=', now)
      .orderBy('next_run_at')
      .limit(BATCH)
      .execute();
    let created = 0;
    for (const { id, next_run_at: instant } of due) {
      if (instant === null) continue;
      try {
        if (await this.scheduleInstant(id, Number(instant), now)) created += 1;
      } catch (error) {
        this.logger.error({ err: error, schedule: id }, 'scheduler: could not schedule an instant');
      }
    }
    return created;
  }

  /** Advances one schedule past `instant` and records its run; false if another process did it first. */
  private async scheduleInstant(id: string, instant: number, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const schedule = await trx
        .selectFrom('schedules')
        .selectAll()
        .where('id', '=', id)
        .where('status', '=', 'ACTIVE')
        .where('next_run_at', '=', instant)
        .$call((q) => (this.dialect === 'postgres' ? q.forUpdate() : q))
        .executeTakeFirst();
      if (!schedule) return false;
      let status: ScheduleRun['status'] = 'due';
      let skipped: { code: string; reason: string } | undefined;
      if (schedule.allow_concurrency !== 1 && (await this.hasUnfinishedRunOf(trx, schedule.id))) {
        status = 'skipped';
        skipped = {
          code: 'ERR::SCHEDULER::SKIPPED',
          reason: 'The previous run was still capturing and allow_concurrency is false',
        };
      }
      const fired = schedule.fired_count + (status === 'due' ? 1 : 0);
      const next = nextRunFrom({ ...schedule, fired_count: fired }, recurrenceOf(schedule), now, false);
      const result = await trx
        .updateTable('schedules')
        .set({
          next_run_at: next,
          status: next === null ? 'COMPLETED' : 'ACTIVE',
          fired_count: fired,
          last_run_at: now,
          updated_at: now,
        })
        .where('id', '=', schedule.id)
        .where('next_run_at', '=', instant)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await insertRun(trx, newRun(schedule, 'schedule', 1, null, status, now, instant, skipped));
      return true;
    });
  }

  /**
   * Whether a run of the schedule is still to fire or still capturing. A `running` run counts only while
   * its job is `queued` (the settle step's own test, read from the job itself): its status changes only
   * when a later settle step looks, which comes after this step and up to pollMs late, so a run whose
   * capture and delivery had already ended would otherwise make the next instant a `skipped` run.
   */
  private async hasUnfinishedRunOf(executor: ScheduleExecutor, scheduleId: string): Promise<boolean> {
    return hasUnfinishedRun(
      executor,
      scheduleId,
      queuedJobIds(this.db),
      crawlUuidsInStatus(this.db, ACTIVE_CRAWL),
    );
  }

  /** Claims due runs with a lease and enqueues each one's screenshot. */
  private async fireDueRuns(): Promise<number> {
    const now = this.clock.now();
    const token = `${this.id}:${randomUUID()}`;
    const claimed = await claimDueRuns(this.db, this.dialect, token, now, LEASE_MS, BATCH);
    let fired = 0;
    for (const run of claimed) {
      try {
        if (await this.fire(run, token)) fired += 1;
      } catch (error) {
        if (error instanceof LeaseLost) continue;
        this.logger.error({ err: error, run: run.id }, 'scheduler: firing a run failed');
      }
    }
    return fired;
  }

  private async fire(run: ScheduleRun, token: string): Promise<boolean> {
    const schedule = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('id', '=', run.schedule_id)
      .executeTakeFirst();
    const project = schedule ? await this.projects.findById(schedule.project_id) : undefined;
    if (!schedule || !project) return false;
    if (schedule.status === 'CANCELLED' || (schedule.status === 'PAUSED' && run.trigger !== 'manual')) {
      await this.end(this.db, run, token, 'skipped', {
        code: 'ERR::SCHEDULER::SKIPPED',
        reason: `The schedule was ${schedule.status.toLowerCase()} before this run started`,
      });
      return false;
    }
    const caller = { project, env: schedule.env };
    try {
      const params = JSON.parse(schedule.config) as Record<string, string>;
      // A crawler run's job is its crawl, which ends when the crawl does (settleRunningRuns).
      // The run moves to `running` inside the job's acceptance transaction, fenced by the lease token.
      const within = async (trx: Transaction<Database>, job: { jobUuid: string; logUuid: string | null }) => {
        // Rolls the job back when another process holds this run now.
        if (!(await markRunning(trx, run.id, token, job, this.clock.now()))) throw new LeaseLost();
      };
      if (schedule.kind === 'crawler') {
        if (!this.crawls) {
          throw new ApiError('ERR::SCHEDULER::INVALID_STATE', 'This process does not run crawler schedules');
        }
        // The run's job_uuid is the crawl's crawler_uuid (GET /crawl/{uuid}/status); the crawl's events
        // (all eight crawler_* events unless crawler_config names some) go to the schedule's webhook.
        const request = crawlRequestOf({ ...params, webhook_name: schedule.webhook_name });
        await this.crawls.start(caller, request, (trx, crawlUuid) =>
          within(trx, { jobUuid: crawlUuid, logUuid: null }),
        );
      } else if (schedule.kind === 'scrape') {
        if (!this.asyncScrapes) {
          throw new ApiError('ERR::SCHEDULER::INVALID_STATE', 'This process does not run scrape schedules');
        }
        const request = scrapeRequestOf(params, schedule.webhook_name, this.settings);
        await this.asyncScrapes.accept(caller, request, within);
      } else {
        const request = parseScreenshotRequest(
          { ...params, webhook_name: schedule.webhook_name },
          this.settings,
        );
        await this.asyncScreenshots.accept(caller, request, within);
      }
      return true;
    } catch (error) {
      if (error instanceof LeaseLost || !isApiError(error)) throw error;
      // Refused before any capture (webhook gone or disabled, queue full, quota): the run failed.
      await this.db.transaction().execute(async (trx) => {
        if (await this.end(trx, run, token, 'failed', { code: error.code, reason: error.reason })) {
          await this.afterFailure(trx, schedule, run);
        }
      });
      return false;
    }
  }

  /** Ends a run still held by `token` (or still running, when token is null). */
  private async end(
    executor: ScheduleExecutor,
    run: ScheduleRun,
    token: string | null,
    status: 'succeeded' | 'failed' | 'skipped',
    error?: { code: string; reason: string },
  ): Promise<boolean> {
    return endRun(executor, run.id, token, status, error, this.clock.now());
  }

  /** After a failed run: count it, and add a retry run when the schedule asks for one and has tries left. */
  private async afterFailure(executor: ScheduleExecutor, schedule: ScheduleRow, run: ScheduleRun) {
    const now = this.clock.now();
    await executor
      .updateTable('schedules')
      .set({ consecutive_failures: sql<number>`consecutive_failures + 1`, updated_at: now })
      .where('id', '=', schedule.id)
      .execute();
    const retry =
      schedule.retry_on_failure === 1 &&
      run.attempt <= schedule.max_retries &&
      schedule.status !== 'CANCELLED';
    if (retry) {
      await insertRun(executor, newRun(schedule, 'retry', run.attempt + 1, run.id, 'due', now));
    }
  }

  /** Ends running runs whose capture has ended; adds retries for failed ones. */
  private async settleRunningRuns(): Promise<number> {
    // The run's job, log and crawl as their rooms tell them, read after the runs (each only newer).
    const runs = await runningRuns(this.db, BATCH * 5);
    const ids = runs.flatMap((run) => (run.job_uuid === null ? [] : [run.job_uuid]));
    const jobStates = await jobStatesOf(this.db, ids);
    const logErrors = await logErrorsOf(
      this.db,
      runs.flatMap((run) => (run.log_uuid === null ? [] : [run.log_uuid])),
    );
    const crawls = await crawlOutcomesOf(this.db, ids);
    let settled = 0;
    for (const run of runs) {
      const jobState = run.job_uuid === null ? undefined : jobStates.get(run.job_uuid);
      const logError = run.log_uuid === null ? undefined : logErrors.get(run.log_uuid);
      const crawl = run.job_uuid === null ? undefined : crawls.get(run.job_uuid);
      const crawlStatus = crawl?.status;
      if (jobState === 'queued') continue;
      if (crawlStatus && (ACTIVE_CRAWL as readonly string[]).includes(crawlStatus)) continue;
      // A crawl ends with its stop_reason; one that did not succeed (cancelled, its seed failed) failed.
      // A job gone with its webhook (deleted) before capturing did not run.
      const failure =
        crawlStatus !== null && crawlStatus !== undefined
          ? crawl?.is_success === 1
            ? undefined
            : {
                code: 'ERR::SCHEDULER::CRAWL_FAILED',
                reason: `The crawl ended ${crawlStatus} with stop_reason ${crawl?.stop_reason ?? 'none'}`,
              }
          : logError !== undefined
            ? { code: logError.code, reason: logError.reason ?? logError.code }
            : jobState === null || jobState === undefined
              ? { code: 'ERR::WEBHOOK::NOT_FOUND', reason: 'The job was deleted with its webhook' }
              : undefined;
      try {
        const ended = await this.db.transaction().execute(async (trx) => {
          if (!(await this.end(trx, run, null, failure ? 'failed' : 'succeeded', failure))) return false;
          const schedule = await trx
            .selectFrom('schedules')
            .selectAll()
            .where('id', '=', run.schedule_id)
            .executeTakeFirst();
          if (!schedule) return true;
          if (failure) await this.afterFailure(trx, schedule, run);
          else {
            await trx
              .updateTable('schedules')
              .set({ consecutive_failures: 0 })
              .where('id', '=', schedule.id)
              .execute();
          }
          return true;
        });
        if (ended) settled += 1;
      } catch (error) {
        this.logger.error({ err: error, run: run.id }, 'scheduler: settling a run failed');
      }
    }
    return settled;
  }
}
