// Over 400 lines as one coherent thing: a monitor run from claim to event (capture, compare, confirm,
// approve, baseline) and the loop that claims them; the steps share the run's row and its fencing.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Caller, ProjectService } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { compareImages, type ImageComparison, type PixelRect } from '../compare/compare-images.js';
import { compareText, type TextComparison } from '../compare/compare-text.js';
import { isApiError } from '../errors.js';
import { ScreenshotFailure, type ScreenshotService } from '../jobs/screenshot-service.js';
import { PollingLoop } from '../queue/polling-loop.js';
import type { JobQueue } from '../queue/job-queue.js';
import { parseScreenshotRequest } from '../request/screenshot-request.js';
import type { BlobStore } from '../results/blob-store.js';
import type { Dialect } from '../store/database.js';
import type { Database } from '../store/schema.js';
import type { WebhookRegistry } from '../webhooks/registry.js';
import { eventBody, queueEvent, type ChangeFacts, type MonitorEventType } from './change-event.js';
import { newMonitorRun, nextRunOf, type MonitorRow, type MonitorRun } from './store.js';

export interface MonitorRunnerSettings {
  /** Longest sleep between looks at due monitors and runs (SNAPWIRE_SCHEDULER_POLL). */
  pollMs: number;
  maxTimeoutMs: number;
  publicUrl: string;
}

export interface MonitorRunnerDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  screenshots: ScreenshotService;
  projects: ProjectService;
  blobs: BlobStore;
  webhooks: WebhookRegistry;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  /** Tells the job worker (and the fleet) that a delivery is due. */
  wakeDeliveries: () => void;
}

/** Runs claimed per look; a capture takes seconds, so a look takes few and the next look the rest. */
const BATCH = 4;

class LeaseLost extends Error {}

/**
 * Runs monitors (docs/monitors.md). One loop per process, on the injected clock; any number of processes
 * may share one PostgreSQL:
 *
 * 1. **Instants -> runs.** A due ACTIVE monitor is advanced with a conditional update fenced on its
 *    `next_run_at`, and its run row is written in the same transaction: one run per instant, whoever wins.
 * 2. **Runs -> outcomes.** Due runs are claimed with a lease (SKIP LOCKED on PostgreSQL), captured through
 *    the screenshot service (credits, concurrency, egress guard, log row: a run costs its capture),
 *    compared with the baseline, and recorded in one transaction fenced by the lease token, with the
 *    webhook event when the change is confirmed. The monitor's baseline and confirmation count are
 *    updated fenced on the values the comparison used, so two runs racing cannot both move them.
 */
export class MonitorRunner {
  readonly id = `monitors-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly polling = new PollingLoop<number>({
    look: () => this.tick(),
    sleepAfter: () => this.sleepAfter(),
    lookFailed: (error) => this.deps.logger.error({ err: error }, 'monitors: tick failed'),
  });

  constructor(
    private readonly deps: MonitorRunnerDeps,
    private readonly settings: MonitorRunnerSettings,
  ) {}

  private get leaseMs(): number {
    return this.settings.maxTimeoutMs + 60_000;
  }

  start(): void {
    this.polling.start();
  }

  wake(): void {
    this.polling.wake();
  }

  async stop(): Promise<void> {
    await this.polling.stop();
  }

  private async sleepAfter(): Promise<number> {
    const row = await this.deps.db
      .selectFrom('monitors')
      .select((eb) => eb.fn.min<number>('next_run_at').as('next'))
      .where('status', '=', 'ACTIVE')
      .executeTakeFirst()
      .catch(() => undefined);
    const next = row?.next === null || row?.next === undefined ? undefined : Number(row.next);
    return next === undefined
      ? this.settings.pollMs
      : Math.min(this.settings.pollMs, Math.max(10, next - this.deps.clock.now()));
  }

  /** One look: due instants become runs, due runs are captured and compared. Returns the runs finished. */
  async tick(): Promise<number> {
    await this.scheduleDueInstants();
    return this.runDueRuns();
  }

  /**
   * Runs a monitor now, in the caller's request: the run row is written already leased to this process,
   * so no other process takes it while it captures. Answers the finished run.
   */
  async runNow(monitor: MonitorRow): Promise<MonitorRun> {
    const now = this.deps.clock.now();
    const token = `${this.id}:${randomUUID()}`;
    const run = {
      ...newMonitorRun(monitor, 'manual', now),
      locked_by: token,
      locked_until: now + this.leaseMs,
    };
    await this.deps.db.insertInto('monitor_runs').values(run).execute();
    await this.execute(run, token);
    return (await this.deps.db
      .selectFrom('monitor_runs')
      .selectAll()
      .where('id', '=', run.id)
      .executeTakeFirst()) as MonitorRun;
  }

  private async scheduleDueInstants(): Promise<void> {
    const { db, clock, dialect } = this.deps;
    const now = clock.now();
    const due = await db
      .selectFrom('monitors')
      .select(['id', 'next_run_at'])
      .where('status', '=', 'ACTIVE')
      .where('next_run_at', '<=', now)
      .orderBy('next_run_at')
      .limit(100)
      .execute();
    for (const { id, next_run_at: instant } of due) {
      if (instant === null) continue;
      await db
        .transaction()
        .execute(async (trx) => {
          const monitor = await trx
            .selectFrom('monitors')
            .selectAll()
            .where('id', '=', id)
            .where('next_run_at', '=', instant)
            .$call((q) => (dialect === 'postgres' ? q.forUpdate() : q))
            .executeTakeFirst();
          if (!monitor) return;
          // Missed instants are not owed: one run for them, then the first instant after now.
          const advanced = await trx
            .updateTable('monitors')
            .set({ next_run_at: nextRunOf(monitor, now), updated_at: now })
            .where('id', '=', id)
            .where('next_run_at', '=', instant)
            .executeTakeFirst();
          if (Number(advanced.numUpdatedRows) !== 1) return;
          await trx
            .insertInto('monitor_runs')
            .values(newMonitorRun(monitor, 'schedule', now, Number(instant)))
            .execute();
        })
        .catch((error: unknown) =>
          this.deps.logger.error({ err: error, monitor: id }, 'monitors: could not schedule a run'),
        );
    }
  }

  private async runDueRuns(): Promise<number> {
    const { db, clock, dialect } = this.deps;
    const now = clock.now();
    const token = `${this.id}:${randomUUID()}`;
    // A run left `running` by a process that died is taken over when its lease runs out.
    const claimed = await db
      .updateTable('monitor_runs')
      .set({ locked_by: token, locked_until: now + this.leaseMs })
      .where('id', 'in', (eb) => {
        const due = eb
          .selectFrom('monitor_runs')
          .select('monitor_runs.id')
          .where('monitor_runs.status', 'in', ['due', 'running'])
          .where('monitor_runs.due_at', '<=', now)
          .where((w) =>
            w.or([w('monitor_runs.locked_until', 'is', null), w('monitor_runs.locked_until', '<', now)]),
          )
          .orderBy('monitor_runs.due_at')
          .limit(BATCH);
        return dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
      })
      .returningAll()
      .execute();
    let finished = 0;
    for (const run of claimed) {
      try {
        await this.execute(run, token);
        finished += 1;
      } catch (error) {
        if (error instanceof LeaseLost) continue;
        this.deps.logger.error({ err: error, run: run.id }, 'monitors: a run failed');
      }
    }
    return finished;
  }

  /** Capture, compare, record (and queue the event), all fenced by the run's lease token. */
  private async execute(run: MonitorRun, token: string): Promise<void> {
    const { db, clock, projects, blobs } = this.deps;
    const monitor = await db
      .selectFrom('monitors')
      .selectAll()
      .where('id', '=', run.monitor_id)
      .executeTakeFirst();
    const project = monitor ? await projects.findById(monitor.project_id) : undefined;
    if (!monitor || !project) {
      await db.deleteFrom('monitor_runs').where('id', '=', run.id).execute();
      return;
    }
    const caller: Caller = { project, env: monitor.env };
    const started = await db
      .updateTable('monitor_runs')
      .set({ status: 'running', started_at: clock.now() })
      .where('id', '=', run.id)
      .where('locked_by', '=', token)
      .executeTakeFirst();
    if (Number(started.numUpdatedRows) !== 1) throw new LeaseLost();

    const request = parseScreenshotRequest(
      JSON.parse(monitor.config) as Record<string, string>,
      this.settings,
    );
    let capture: {
      image: Buffer;
      text: string | undefined;
      logUuid: string;
      cost: number;
      warning: string | undefined;
    };
    try {
      const outcome = await this.deps.screenshots.take(caller, request, {
        collectText: monitor.compare_text === 1,
      });
      capture = {
        image: outcome.result.image,
        text: outcome.result.text,
        logUuid: outcome.logUuid,
        cost: outcome.cost,
        // A mask that hides nothing is worth knowing (a renamed class lets a clock through), not a failure.
        warning: outcome.result.unmatchedHideSelectors?.length
          ? `hide_selectors matched nothing: ${outcome.result.unmatchedHideSelectors.join(', ')}`
          : undefined,
      };
    } catch (error) {
      // A failed capture: recorded, nothing compared, no event.
      const failure =
        error instanceof ScreenshotFailure
          ? { code: error.error.code, reason: error.error.reason, logUuid: error.logUuid, cost: error.cost }
          : isApiError(error)
            ? { code: error.code, reason: error.reason, logUuid: null, cost: 0 }
            : undefined;
      if (!failure) throw error;
      await this.finish(run, token, {
        status: 'failed',
        error_code: failure.code,
        error_reason: failure.reason,
        log_uuid: failure.logUuid,
        cost: failure.cost,
      });
      return;
    }
    const afterBlob = await blobs.put(capture.image);
    const afterTextBlob =
      capture.text !== undefined ? await blobs.put(Buffer.from(capture.text, 'utf8')) : null;
    const base = {
      log_uuid: capture.logUuid,
      cost: capture.cost,
      after_blob: afterBlob,
      after_text_blob: afterTextBlob,
    };

    const before = monitor.baseline_blob ? await blobs.get(monitor.baseline_blob) : undefined;
    if (!before) {
      const note = withWarning(
        monitor.baseline_blob
          ? 'The baseline image is no longer in the blob store: this capture is the new baseline'
          : 'First capture: this is the baseline',
        capture.warning,
      );
      await this.finish(
        run,
        token,
        { ...base, status: 'baseline', became_baseline: 1, note },
        async (trx) => {
          await trx
            .updateTable('monitors')
            .set({
              baseline_run_id: run.id,
              baseline_blob: afterBlob,
              baseline_text_blob: afterTextBlob,
              unconfirmed_changes: 0,
              updated_at: clock.now(),
            })
            .where('id', '=', monitor.id)
            .where((eb) =>
              monitor.baseline_run_id === null
                ? eb('baseline_run_id', 'is', null)
                : eb('baseline_run_id', '=', monitor.baseline_run_id),
            )
            .execute();
        },
      );
      return;
    }

    const ignore = JSON.parse(monitor.ignore_regions) as PixelRect[];
    let image: ImageComparison;
    try {
      image = await compareImages(before, capture.image, {
        changeThreshold: monitor.change_threshold,
        ignore,
      });
    } catch (error) {
      // An image the engine refuses (too large): the run failed, said why; no event.
      if (!isApiError(error)) throw error;
      await this.finish(run, token, {
        ...base,
        status: 'failed',
        error_code: error.code,
        error_reason: error.reason,
      });
      return;
    }
    let text: TextComparison | undefined;
    if (monitor.compare_text === 1 && capture.text !== undefined && monitor.baseline_text_blob) {
      const beforeText = await blobs.get(monitor.baseline_text_blob);
      if (beforeText) text = compareText(beforeText.toString('utf8'), capture.text);
    }
    const diffBlob = await blobs.put(image.diffPng);
    const changed = image.changed || (text?.changed ?? false);
    await this.record(caller, monitor, run, token, {
      base,
      image,
      text,
      changed,
      diffBlob,
      warning: capture.warning,
    });
  }

  private async record(
    caller: Caller,
    monitor: MonitorRow,
    run: MonitorRun,
    token: string,
    outcome: {
      base: { log_uuid: string; cost: number; after_blob: string; after_text_blob: string | null };
      image: ImageComparison;
      text: TextComparison | undefined;
      changed: boolean;
      diffBlob: string;
      warning: string | undefined;
    },
  ): Promise<void> {
    const { clock, blobs } = this.deps;
    const { image, text, changed } = outcome;
    const now = clock.now();
    const seen = changed ? monitor.unconfirmed_changes + 1 : 0;
    const awaiting = monitor.pending_run_id !== null;
    const confirmed = changed && !awaiting && seen >= monitor.confirm_runs;
    const approvalNeeded = confirmed && monitor.require_approval === 1;
    let note: string | null = null;
    if (changed && awaiting)
      note = `A change awaits approval (run ${monitor.pending_run_id}); no new event until it is decided`;
    else if (changed && !confirmed)
      note = `Change seen in ${seen} of the ${monitor.confirm_runs} runs in a row that confirm it`;
    else if (approvalNeeded) note = 'Change confirmed; the baseline waits for approval';
    else if (confirmed) note = 'Change confirmed; this capture is the new baseline';
    note = withWarning(note, outcome.warning);

    let eventType: MonitorEventType | undefined;
    if (confirmed) eventType = 'screenshot.changed';
    else if (!changed && monitor.notify_unchanged === 1) eventType = 'screenshot.unchanged';
    const facts: ChangeFacts = {
      score: image.score,
      changedPixels: image.changedPixels,
      regions: image.regions,
      heightChange: image.heightChange,
      before: image.before,
      after: image.after,
      text,
      awaitingApproval: approvalNeeded,
    };
    const payload = eventType
      ? await blobs.put(
          eventBody(
            eventType,
            monitor,
            { id: run.id, log_uuid: outcome.base.log_uuid },
            facts,
            this.settings.publicUrl,
            now,
          ),
        )
      : undefined;

    const webhook =
      eventType && monitor.webhook_name
        ? await this.deps.webhooks.find(caller, monitor.webhook_name)
        : undefined;
    let queued = false;
    await this.finish(
      run,
      token,
      {
        ...outcome.base,
        status: 'compared',
        changed: changed ? 1 : 0,
        score: image.score,
        changed_pixels: image.changedPixels,
        height_change: image.heightChange,
        regions: JSON.stringify(image.regions),
        text_diff: text ? JSON.stringify(text) : null,
        before_blob: monitor.baseline_blob,
        diff_blob: outcome.diffBlob,
        became_baseline: confirmed && !approvalNeeded ? 1 : 0,
        approval: approvalNeeded ? 'pending' : null,
        note,
      },
      async (trx) => {
        // Fenced on what this comparison read: a run that lost a race records its outcome, moves nothing.
        const moved = await trx
          .updateTable('monitors')
          .set({
            unconfirmed_changes: confirmed ? 0 : seen,
            updated_at: now,
            ...(confirmed && !approvalNeeded
              ? {
                  baseline_run_id: run.id,
                  baseline_blob: outcome.base.after_blob,
                  baseline_text_blob: outcome.base.after_text_blob,
                }
              : {}),
            ...(approvalNeeded ? { pending_run_id: run.id } : {}),
          })
          .where('id', '=', monitor.id)
          .where('baseline_run_id', '=', monitor.baseline_run_id ?? '')
          .where('unconfirmed_changes', '=', monitor.unconfirmed_changes)
          .where((eb) =>
            monitor.pending_run_id === null
              ? eb('pending_run_id', 'is', null)
              : eb('pending_run_id', '=', monitor.pending_run_id),
          )
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1) {
          return {
            note: 'Another run of this monitor finished first; this outcome moved nothing',
            event_job_id: null,
            became_baseline: 0,
            approval: null,
          };
        }
        if (!eventType || !payload) return {};
        const jobId = await queueEvent(
          trx,
          this.deps.queue,
          webhook,
          monitor,
          eventType,
          payload,
          outcome.base.log_uuid,
          now,
        );
        queued = jobId !== undefined;
        if (jobId) return { event_job_id: jobId };
        return {
          note: `${note ? `${note}. ` : ''}No event sent: ${monitor.webhook_name ? `webhook "${monitor.webhook_name}" no longer exists` : 'the monitor has no webhook_name'}`,
        };
      },
    );
    if (queued) this.deps.wakeDeliveries();
  }

  /**
   * Ends the run with `fields`, fenced by the lease token; `within` runs in the same transaction first and
   * may add or override fields (the event's job id, a note).
   */
  private async finish(
    run: MonitorRun,
    token: string,
    fields: Partial<MonitorRun>,
    within?: (trx: import('kysely').Transaction<Database>) => Promise<Partial<MonitorRun> | void>,
  ): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const extra = within ? await within(trx) : undefined;
      const result = await trx
        .updateTable('monitor_runs')
        .set({
          ...fields,
          ...(extra ?? {}),
          finished_at: this.deps.clock.now(),
          locked_by: null,
          locked_until: null,
        })
        .where('id', '=', run.id)
        .where('locked_by', '=', token)
        .where('status', '=', 'running')
        .executeTakeFirst();
      // Rolls back the monitor's update and the event: another process holds this run now.
      if (Number(result.numUpdatedRows) !== 1) throw new LeaseLost();
    });
  }
}

/** A run's note with a warning after it (either may be missing). */
function withWarning(note: string | null, warning: string | undefined): string | null {
  if (!warning) return note;
  return note ? `${note}. ${warning}` : warning;
}
