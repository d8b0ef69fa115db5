import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import { checkMinimumPeriod, nextInstant, parseRecurrence } from '../schedules/recurrence.js';
import type { RecurrenceInput } from '../schedules/recurrence.js';
import type { Database, MonitorRunsTable, MonitorsTable } from '../store/schema.js';
import type { WebhookRegistry } from '../webhooks/registry.js';
import {
  captureParams,
  checkConfirmRuns,
  checkIgnore,
  checkThreshold,
  DEFAULT_CHANGE_THRESHOLD,
  invalid,
  parseMonitorRecurrence,
  type MonitorInput,
} from './settings.js';

export type MonitorRow = MonitorsTable;
export type MonitorRun = MonitorRunsTable;

export interface MonitorLimits {
  maxTimeoutMs: number;
  /** Shortest time between two runs a recurrence may ask for (SNAPWIRE_MIN_SCHEDULE_INTERVAL). */
  minIntervalMs: number;
  /** Live monitors one project + environment may hold (SNAPWIRE_MAX_SCHEDULES, shared with schedules). */
  maxMonitors: number;
}

const notFound = (what: string, caller: Caller) =>
  new ApiError(
    'ERR::MONITOR::NOT_FOUND',
    `No ${what} in project "${caller.project.name}" (${caller.env}); list monitors with GET /monitors`,
  );

/** When an active monitor runs next, after `now` (null: it has no recurrence and runs only when asked). */
export function nextRunOf(row: Pick<MonitorRow, 'recurrence' | 'created_at'>, now: number): number | null {
  if (!row.recurrence) return null;
  const recurrence = parseRecurrence(JSON.parse(row.recurrence) as RecurrenceInput);
  return nextInstant(recurrence, row.created_at, now) ?? null;
}

export function newMonitorRun(
  monitor: Pick<MonitorRow, 'id' | 'project_id'>,
  trigger: MonitorRun['trigger'],
  now: number,
  dueAt = now,
): MonitorRun {
  return {
    id: randomUUID(),
    monitor_id: monitor.id,
    project_id: monitor.project_id,
    trigger,
    status: 'due',
    due_at: dueAt,
    locked_by: null,
    locked_until: null,
    log_uuid: null,
    cost: 0,
    changed: null,
    score: null,
    changed_pixels: null,
    height_change: null,
    regions: null,
    text_diff: null,
    before_blob: null,
    after_blob: null,
    after_text_blob: null,
    diff_blob: null,
    became_baseline: 0,
    note: null,
    approval: null,
    event_job_id: null,
    error_code: null,
    error_reason: null,
    created_at: now,
    started_at: null,
    finished_at: null,
  };
}

/**
 * Monitors of one project + environment (another's id is simply not found) and their runs. The runner
 * (runner.ts) captures and compares; this is what the API and the dashboard use.
 */
export class MonitorStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly webhooks: WebhookRegistry,
    private readonly clock: Clock,
    private readonly limits: MonitorLimits,
  ) {}

  async create(caller: Caller, input: MonitorInput): Promise<MonitorRow> {
    if (typeof input.url !== 'string' || input.url === '') {
      throw invalid('url is required: the address of the page to watch, e.g. "https://example.com/pricing"');
    }
    const params = captureParams(input.url, input.screenshot_config, input.hide_selectors, this.limits);
    const webhookName = await this.checkWebhook(caller, input.webhook_name ?? null);
    const now = this.clock.now();
    const row: MonitorRow = {
      id: randomUUID(),
      project_id: caller.project.id,
      env: caller.env,
      status: 'ACTIVE',
      url: params.url ?? input.url,
      config: JSON.stringify(params),
      recurrence: input.recurrence ? this.recurrenceText(input.recurrence) : null,
      next_run_at: null,
      change_threshold: checkThreshold(input.change_threshold ?? DEFAULT_CHANGE_THRESHOLD),
      ignore_regions: JSON.stringify(checkIgnore(input.ignore ?? [])),
      compare_text: input.compare_text ? 1 : 0,
      confirm_runs: checkConfirmRuns(input.confirm_runs ?? 1),
      require_approval: input.require_approval ? 1 : 0,
      notify_unchanged: input.notify_unchanged ? 1 : 0,
      webhook_name: webhookName,
      baseline_run_id: null,
      baseline_blob: null,
      baseline_text_blob: null,
      unconfirmed_changes: 0,
      pending_run_id: null,
      created_at: now,
      updated_at: now,
    };
    row.next_run_at = nextRunOf(row, now);
    await this.db.transaction().execute(async (trx) => {
      const live = await trx
        .selectFrom('monitors')
        .select((eb) => eb.fn.countAll<string | number>().as('count'))
        .where('project_id', '=', caller.project.id)
        .where('env', '=', caller.env)
        .executeTakeFirstOrThrow();
      if (Number(live.count) >= this.limits.maxMonitors) {
        throw new ApiError(
          'ERR::MONITOR::INVALID_STATE',
          `This project already has ${this.limits.maxMonitors} monitors (${caller.env}), the most this host allows (SNAPWIRE_MAX_SCHEDULES); delete one first`,
        );
      }
      await trx.insertInto('monitors').values(row).execute();
    });
    return row;
  }

  private recurrenceText(input: RecurrenceInput): string {
    const recurrence = parseMonitorRecurrence(input);
    try {
      checkMinimumPeriod(recurrence, this.limits.minIntervalMs, this.clock.now());
    } catch (error) {
      if (error instanceof ApiError) throw invalid(error.reason);
      throw error;
    }
    return JSON.stringify(recurrence.input);
  }

  async list(caller: Caller): Promise<MonitorRow[]> {
    return this.db
      .selectFrom('monitors')
      .selectAll()
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env)
      .orderBy('created_at', 'desc')
      .limit(1000)
      .execute();
  }

  async require(caller: Caller, id: string): Promise<MonitorRow> {
    const row = await this.db
      .selectFrom('monitors')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env)
      .executeTakeFirst();
    if (!row) throw notFound(`monitor ${id}`, caller);
    return row;
  }

  /** Any project's monitor (the runner and the operator's dashboard). */
  async byId(id: string): Promise<MonitorRow | undefined> {
    return this.db.selectFrom('monitors').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async update(caller: Caller, id: string, input: MonitorInput): Promise<MonitorRow> {
    const row = await this.require(caller, id);
    const changes: Partial<MonitorRow> = {};
    const current = JSON.parse(row.config) as Record<string, string>;
    if (
      input.url !== undefined ||
      input.screenshot_config !== undefined ||
      input.hide_selectors !== undefined
    ) {
      const { url: _url, ...rest } = current;
      const params = captureParams(
        input.url ?? row.url,
        input.screenshot_config ?? rest,
        input.hide_selectors,
        this.limits,
      );
      changes.config = JSON.stringify(params);
      changes.url = params.url ?? row.url;
    }
    if (input.recurrence !== undefined) changes.recurrence = this.recurrenceText(input.recurrence);
    if (input.change_threshold !== undefined)
      changes.change_threshold = checkThreshold(input.change_threshold);
    if (input.ignore !== undefined) changes.ignore_regions = JSON.stringify(checkIgnore(input.ignore));
    if (input.compare_text !== undefined) changes.compare_text = input.compare_text ? 1 : 0;
    if (input.confirm_runs !== undefined) changes.confirm_runs = checkConfirmRuns(input.confirm_runs);
    if (input.require_approval !== undefined) changes.require_approval = input.require_approval ? 1 : 0;
    if (input.notify_unchanged !== undefined) changes.notify_unchanged = input.notify_unchanged ? 1 : 0;
    if (input.webhook_name !== undefined)
      changes.webhook_name = await this.checkWebhook(caller, input.webhook_name);
    const now = this.clock.now();
    if (changes.recurrence !== undefined && row.status === 'ACTIVE') {
      changes.next_run_at = nextRunOf({ ...row, ...changes }, now);
    }
    // Another page (or other capture options) is another picture: the next run starts a new baseline.
    if (changes.config !== undefined && changes.config !== row.config) {
      Object.assign(changes, {
        baseline_run_id: null,
        baseline_blob: null,
        baseline_text_blob: null,
        unconfirmed_changes: 0,
        pending_run_id: null,
      });
    }
    return this.save(row, changes);
  }

  /** Stops running on its recurrence (run-now still works). Idempotent. */
  async pause(caller: Caller, id: string): Promise<MonitorRow> {
    const row = await this.require(caller, id);
    if (row.status === 'PAUSED') return row;
    return this.save(row, { status: 'PAUSED', next_run_at: null });
  }

  /** Runs again from the next instant after now. Idempotent. */
  async resume(caller: Caller, id: string): Promise<MonitorRow> {
    const row = await this.require(caller, id);
    if (row.status === 'ACTIVE') return row;
    return this.save(row, { status: 'ACTIVE', next_run_at: nextRunOf(row, this.clock.now()) });
  }

  /** Deletes the monitor and its runs; its images then age out with the project's retention. */
  async delete(caller: Caller, id: string): Promise<void> {
    const row = await this.require(caller, id);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('monitor_runs').where('monitor_id', '=', row.id).execute();
      await trx.deleteFrom('monitors').where('id', '=', row.id).execute();
    });
  }

  /** A monitor's runs, newest first. */
  async runs(caller: Caller, id: string, limit = 100): Promise<MonitorRun[]> {
    const row = await this.require(caller, id);
    return this.runsOf(row.id, limit);
  }

  async runsOf(monitorId: string, limit = 100): Promise<MonitorRun[]> {
    return this.db
      .selectFrom('monitor_runs')
      .selectAll()
      .where('monitor_id', '=', monitorId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.max(1, Math.min(limit, 1000)))
      .execute();
  }

  async requireRun(
    caller: Caller,
    id: string,
    runId: string,
  ): Promise<{ monitor: MonitorRow; run: MonitorRun }> {
    const monitor = await this.require(caller, id);
    const run = await this.db
      .selectFrom('monitor_runs')
      .selectAll()
      .where('id', '=', runId)
      .where('monitor_id', '=', monitor.id)
      .executeTakeFirst();
    if (!run) throw notFound(`run ${runId} of monitor ${id}`, caller);
    return { monitor, run };
  }

  /** The pending change becomes the baseline. */
  async approve(caller: Caller, id: string, runId: string): Promise<MonitorRun> {
    return this.decide(caller, id, runId, 'approved');
  }

  /** The pending change is dismissed; the baseline stays. */
  async reject(caller: Caller, id: string, runId: string): Promise<MonitorRun> {
    return this.decide(caller, id, runId, 'rejected');
  }

  private async decide(
    caller: Caller,
    id: string,
    runId: string,
    decision: 'approved' | 'rejected',
  ): Promise<MonitorRun> {
    const { monitor, run } = await this.requireRun(caller, id, runId);
    if (run.approval !== 'pending' || monitor.pending_run_id !== run.id) {
      throw new ApiError(
        'ERR::MONITOR::INVALID_STATE',
        `Run ${runId} is not waiting for approval (${run.approval ?? 'no approval asked'}); only the monitor's pending change can be approved or rejected`,
      );
    }
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('monitors')
        .set({
          pending_run_id: null,
          unconfirmed_changes: 0,
          updated_at: now,
          ...(decision === 'approved'
            ? {
                baseline_run_id: run.id,
                baseline_blob: run.after_blob,
                baseline_text_blob: run.after_text_blob,
              }
            : {}),
        })
        .where('id', '=', monitor.id)
        .where('pending_run_id', '=', run.id)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) {
        throw new ApiError('ERR::MONITOR::INVALID_STATE', `Run ${runId} was decided meanwhile`);
      }
      await trx
        .updateTable('monitor_runs')
        .set({ approval: decision, became_baseline: decision === 'approved' ? 1 : 0 })
        .where('id', '=', run.id)
        .execute();
    });
    return { ...run, approval: decision, became_baseline: decision === 'approved' ? 1 : 0 };
  }

  /** Blobs every live monitor keeps whatever their age: baselines and pending changes (retention). */
  async keptBlobs(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('monitors')
      .select(['baseline_blob', 'baseline_text_blob'])
      .execute();
    const pending = await this.db
      .selectFrom('monitor_runs')
      .innerJoin('monitors', 'monitors.pending_run_id', 'monitor_runs.id')
      .select(['monitor_runs.after_blob', 'monitor_runs.after_text_blob', 'monitor_runs.diff_blob'])
      .execute();
    const keys = [
      ...rows.flatMap((r) => [r.baseline_blob, r.baseline_text_blob]),
      ...pending.flatMap((r) => [r.after_blob, r.after_text_blob, r.diff_blob]),
    ];
    return keys.filter((key): key is string => typeof key === 'string');
  }

  private async save(row: MonitorRow, changes: Partial<MonitorRow>): Promise<MonitorRow> {
    const updated_at = this.clock.now();
    await this.db
      .updateTable('monitors')
      .set({ ...changes, updated_at })
      .where('id', '=', row.id)
      .execute();
    return { ...row, ...changes, updated_at };
  }

  private async checkWebhook(caller: Caller, name: string | null): Promise<string | null> {
    if (name === null || name === '') return null;
    if (typeof name !== 'string') throw invalid('webhook_name is the name of a webhook of this project');
    const webhook = await this.webhooks.find(caller, name);
    if (!webhook) {
      throw new ApiError(
        'ERR::WEBHOOK::NOT_FOUND',
        `No webhook named "${name}" in project "${caller.project.name}" (${caller.env}); create it with POST /webhooks first`,
      );
    }
    return webhook.name;
  }
}

/** A monitor's project id, or undefined (the dashboard's route access checks membership with it). */
export async function projectIdOfMonitor(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('monitors').select('project_id').where('id', '=', id).executeTakeFirst();
  return row?.project_id;
}
