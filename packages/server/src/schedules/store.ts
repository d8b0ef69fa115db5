import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { lockProjectRow, type Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { WebhookRegistry } from '../webhooks/registry.js';
import {
  checkMinimumPeriod,
  nextInstant,
  parseInstant,
  parseRecurrence,
  type Recurrence,
  type RecurrenceInput,
} from './recurrence.js';
import { normaliseCrawlerConfig } from './crawler-config.js';
import { insertRun, runsOfSchedule } from './runs.js';
import { normaliseScrapeConfig } from './scrape-config.js';
import { normaliseScreenshotConfig } from './screenshot-config.js';
import type { Dialect } from '../store/database.js';
import type {
  Database,
  ScheduleKind,
  ScheduleRunsTable,
  SchedulesTable,
  ScheduleStatus,
} from '../store/schema.js';

export type ScheduleRow = SchedulesTable;
export type ScheduleRun = ScheduleRunsTable;
/** The store or a transaction in it: schedule writes run in either. */
export type ScheduleExecutor = Kysely<Database> | Transaction<Database>;

/** The create body, as the official SDK's buildCreateBody sends it (one config, by the schedule's kind). */
export interface CreateScheduleInput {
  screenshot_config?: unknown;
  scrape_config?: unknown;
  crawler_config?: unknown;
  webhook_name: string;
  recurrence?: RecurrenceInput | undefined;
  scheduled_date?: string | undefined;
  allow_concurrency?: boolean | undefined;
  retry_on_failure?: boolean | undefined;
  max_retries?: number | undefined;
  notes?: string | undefined;
}

/** The PATCH body (the SDK's UpdateScheduleRequest, plus webhook_name): only given fields change. */
export type UpdateScheduleInput = Partial<CreateScheduleInput>;

export interface ScheduleLimits {
  maxTimeoutMs: number;
  /** Live (active or paused) schedules one project + environment may hold. */
  maxSchedules: number;
  /** Shortest time between two runs a recurrence may ask for (SNAPWIRE_MIN_SCHEDULE_INTERVAL). */
  minIntervalMs: number;
}

const MAX_RETRIES_LIMIT = 10;

const notFound = (id: string, caller: Caller) =>
  new ApiError(
    'ERR::SCHEDULER::NOT_FOUND',
    `No schedule ${id} in project "${caller.project.name}" (${caller.env}); list them with GET /schedules`,
  );

/** The recurrence of a stored schedule (validated when it was stored). */
export function recurrenceOf(row: ScheduleRow): Recurrence | undefined {
  return row.recurrence ? parseRecurrence(JSON.parse(row.recurrence) as RecurrenceInput) : undefined;
}

/** Recurrence instants count from here: the scheduled date, else the creation. */
export const anchorOf = (row: Pick<ScheduleRow, 'scheduled_date' | 'created_at'>) =>
  row.scheduled_date ?? row.created_at;

/**
 * When an active schedule should fire next, looking from `now`: the first instant of its recurrence after
 * now (instants missed while paused or down are not owed), or its scheduled date for a one-off. Null when
 * nothing is left (ends reached).
 */
export function nextRunFrom(
  row: Pick<ScheduleRow, 'scheduled_date' | 'created_at' | 'fired_count'>,
  recurrence: Recurrence | undefined,
  now: number,
  firstRun: boolean,
): number | null {
  if (!recurrence) return row.fired_count > 0 ? null : (row.scheduled_date ?? now);
  if (recurrence.endsAfterCount !== undefined && row.fired_count >= recurrence.endsAfterCount) return null;
  // The first run of a schedule with a scheduled date is that date (or the first cron instant from it).
  const after = firstRun && row.scheduled_date !== null ? row.scheduled_date - 1 : now;
  return nextInstant(recurrence, anchorOf(row), after) ?? null;
}

/**
 * Schedules of one project + environment (scoped like webhooks: another project's id is simply not found)
 * and their run history. The scheduler (scheduler.ts) fires them; this is what the API and dashboard use.
 */
export class ScheduleStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly webhooks: WebhookRegistry,
    private readonly clock: Clock,
    private readonly limits: ScheduleLimits,
  ) {}

  /** The stored parameters of a schedule's config, validated as its API validates a call. */
  private paramsOf(kind: ScheduleKind, input: UpdateScheduleInput): Record<string, unknown> | undefined {
    const own = CONFIG_NAMES[kind];
    const other = Object.values(CONFIG_NAMES).find((name) => name !== own && input[name] !== undefined);
    if (other) {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_REQUEST',
        `A ${kind} schedule takes ${own}, not ${other} (${CREATED_WITH[other]})`,
      );
    }
    if (input[own] === undefined) return undefined;
    if (kind === 'scrape') return normaliseScrapeConfig(input[own], this.limits).params;
    if (kind === 'crawler') return normaliseCrawlerConfig(input[own]).params;
    return normaliseScreenshotConfig(input[own], this.limits).params;
  }

  async create(
    caller: Caller,
    input: CreateScheduleInput,
    kind: ScheduleKind = 'screenshot',
  ): Promise<ScheduleRow> {
    const params = this.paramsOf(kind, input);
    if (!params) {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_REQUEST',
        `${CONFIG_NAMES[kind]} is required: the ${CALL_OF[kind]} parameters of each run, e.g. {"url": "https://example.com"}`,
      );
    }
    const webhook = await this.requireWebhook(caller, input.webhook_name);
    const recurrence = input.recurrence ? parseRecurrence(input.recurrence) : undefined;
    if (recurrence) checkMinimumPeriod(recurrence, this.limits.minIntervalMs, this.clock.now());
    const scheduledDate =
      input.scheduled_date !== undefined ? parseInstant(input.scheduled_date, 'scheduled_date') : null;
    if (!recurrence && scheduledDate === null) {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_REQUEST',
        'A schedule needs a recurrence (cron, or interval and unit) or a scheduled_date for a single run',
      );
    }
    const maxRetries = checkMaxRetries(input.max_retries ?? 0);
    const now = this.clock.now();
    const row: ScheduleRow = {
      id: randomUUID(),
      project_id: caller.project.id,
      env: caller.env,
      kind,
      status: 'ACTIVE',
      webhook_name: webhook.name,
      webhook_uuid: webhook.uuid,
      config: JSON.stringify(params),
      recurrence: recurrence ? JSON.stringify(recurrence.input) : null,
      scheduled_date: scheduledDate,
      next_run_at: null,
      allow_concurrency: input.allow_concurrency ? 1 : 0,
      retry_on_failure: input.retry_on_failure ? 1 : 0,
      max_retries: maxRetries,
      notes: input.notes ?? null,
      fired_count: 0,
      consecutive_failures: 0,
      last_run_at: null,
      locked_by: null,
      locked_until: null,
      created_at: now,
      updated_at: now,
      cancelled_at: null,
    };
    row.next_run_at = nextRunFrom(row, recurrence, now, true);
    if (row.next_run_at === null) row.status = 'COMPLETED';
    await this.db.transaction().execute(async (trx) => {
      // Counted and inserted under one lock, so that creates racing over a fleet cannot all pass the count.
      await this.lockProjectSchedules(trx, caller);
      const live = await this.countLive(caller, trx);
      if (live >= this.limits.maxSchedules) throw limitReached(caller, this.limits.maxSchedules);
      await trx.insertInto('schedules').values(row).execute();
    });
    return row;
  }

  /**
   * Serialises schedule creates of one project: on PostgreSQL the project's row is locked until the
   * transaction ends (FOR NO KEY UPDATE, so rows referencing the project can still be inserted meanwhile),
   * as the webhook queue limit locks its webhook's row; SQLite transactions are serial already.
   */
  private async lockProjectSchedules(trx: Transaction<Database>, caller: Caller): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await lockProjectRow(trx, caller.project.id);
  }

  /**
   * The caller's schedules, newest first. `kind` takes the Python SDK's values (`api.screenshot`,
   * `api.scrape`, `api.crawler`) or the bare ones. An unknown kind or status is refused rather than answered with an empty list.
   */
  async list(caller: Caller, filter: { status?: string | undefined; kind?: string | undefined } = {}) {
    const status = filter.status ? parseStatusFilter(filter.status) : undefined;
    const kind = filter.kind ? parseKindFilter(filter.kind) : undefined;
    let query = this.db
      .selectFrom('schedules')
      .selectAll()
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env);
    if (status) query = query.where('status', '=', status);
    if (kind) query = query.where('kind', '=', kind);
    return query.orderBy('created_at', 'desc').limit(1000).execute();
  }

  async find(caller: Caller, id: string): Promise<ScheduleRow | undefined> {
    return this.db
      .selectFrom('schedules')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env)
      .executeTakeFirst();
  }

  /** Any project's schedule (the operator's dashboard looks across projects). */
  async byId(id: string): Promise<ScheduleRow | undefined> {
    return this.db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async require(caller: Caller, id: string): Promise<ScheduleRow> {
    const row = await this.find(caller, id);
    if (!row) throw notFound(id, caller);
    return row;
  }

  /** Active and paused schedules of the caller's project + environment (what the limit counts). */
  async countLive(caller: Caller, executor: ScheduleExecutor = this.db): Promise<number> {
    const row = await executor
      .selectFrom('schedules')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env)
      .where('status', 'in', ['ACTIVE', 'PAUSED'])
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async update(caller: Caller, id: string, input: UpdateScheduleInput): Promise<ScheduleRow> {
    const row = await this.require(caller, id);
    this.requireLive(row, 'changed');
    const changes: Partial<ScheduleRow> = {};
    const params = this.paramsOf(row.kind, input);
    if (params) changes.config = JSON.stringify(params);
    if (input.webhook_name !== undefined) {
      const webhook = await this.requireWebhook(caller, input.webhook_name);
      changes.webhook_name = webhook.name;
      changes.webhook_uuid = webhook.uuid;
    }
    if (input.allow_concurrency !== undefined) changes.allow_concurrency = input.allow_concurrency ? 1 : 0;
    if (input.retry_on_failure !== undefined) changes.retry_on_failure = input.retry_on_failure ? 1 : 0;
    if (input.max_retries !== undefined) changes.max_retries = checkMaxRetries(input.max_retries);
    if (input.notes !== undefined) changes.notes = input.notes;
    const timing = input.recurrence !== undefined || input.scheduled_date !== undefined;
    if (input.recurrence !== undefined) {
      const recurrence = parseRecurrence(input.recurrence);
      checkMinimumPeriod(recurrence, this.limits.minIntervalMs, this.clock.now());
      changes.recurrence = JSON.stringify(recurrence.input);
    }
    if (input.scheduled_date !== undefined) {
      changes.scheduled_date = parseInstant(input.scheduled_date, 'scheduled_date');
    }
    const now = this.clock.now();
    const next = { ...row, ...changes };
    if (timing && row.status === 'ACTIVE') {
      next.next_run_at = nextRunFrom(next, recurrenceOf(next), now, input.scheduled_date !== undefined);
      if (next.next_run_at === null) next.status = 'COMPLETED';
    }
    return this.save(row, { ...changes, next_run_at: next.next_run_at, status: next.status });
  }

  /** Stops firing; instants that pass while paused are skipped, not owed. Idempotent. */
  async pause(caller: Caller, id: string): Promise<ScheduleRow> {
    const row = await this.require(caller, id);
    if (row.status === 'PAUSED') return row;
    this.requireLive(row, 'paused');
    return this.save(row, { status: 'PAUSED', next_run_at: null });
  }

  /** Fires again from the next instant after now. Idempotent. */
  async resume(caller: Caller, id: string): Promise<ScheduleRow> {
    const row = await this.require(caller, id);
    if (row.status === 'ACTIVE') return row;
    this.requireLive(row, 'resumed');
    const next = nextRunFrom(row, recurrenceOf(row), this.clock.now(), false);
    return this.save(row, { status: next === null ? 'COMPLETED' : 'ACTIVE', next_run_at: next });
  }

  /** Terminal; runs not started yet are skipped. Cancelling a cancelled schedule changes nothing. */
  async cancel(caller: Caller, id: string): Promise<void> {
    const row = await this.require(caller, id);
    if (row.status === 'CANCELLED') return;
    await this.save(row, { status: 'CANCELLED', next_run_at: null, cancelled_at: this.clock.now() });
  }

  /** Adds a run due now, whatever the next scheduled instant (the scheduler fires it). */
  async execute(caller: Caller, id: string): Promise<{ schedule: ScheduleRow; run: ScheduleRun }> {
    const row = await this.require(caller, id);
    if (row.status === 'CANCELLED') {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_STATE',
        `Schedule ${id} is cancelled; create a new one to run it again`,
      );
    }
    const run = newRun(row, 'manual', 1, null, 'due', this.clock.now());
    await insertRun(this.db, run);
    return { schedule: row, run };
  }

  /** A schedule's runs, newest first. */
  async runs(caller: Caller, id: string, limit = 100): Promise<ScheduleRun[]> {
    const row = await this.require(caller, id);
    return runsOfSchedule(this.db, row.id, limit);
  }

  private async save(row: ScheduleRow, changes: Partial<ScheduleRow>): Promise<ScheduleRow> {
    const updated = { ...row, ...changes, updated_at: this.clock.now() };
    await this.db
      .updateTable('schedules')
      .set({ ...changes, updated_at: updated.updated_at })
      .where('id', '=', row.id)
      .execute();
    return updated;
  }

  private requireLive(row: ScheduleRow, verb: string): void {
    if (row.status === 'CANCELLED' || row.status === 'COMPLETED') {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_STATE',
        `Schedule ${row.id} is ${row.status.toLowerCase()} and cannot be ${verb}; create a new one`,
      );
    }
  }

  private async requireWebhook(caller: Caller, name: string) {
    if (typeof name !== 'string' || name === '') {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_REQUEST',
        'webhook_name is required: each run is an asynchronous screenshot or scrape delivered to that webhook',
      );
    }
    const webhook = await this.webhooks.find(caller, name);
    if (!webhook) {
      throw new ApiError(
        'ERR::WEBHOOK::NOT_FOUND',
        `No webhook named "${name}" in project "${caller.project.name}" (${caller.env}); create it with POST /webhooks first`,
      );
    }
    return webhook;
  }
}

/** The config field of each kind, and where a schedule of that kind is created. */
const CONFIG_NAMES = {
  screenshot: 'screenshot_config',
  scrape: 'scrape_config',
  crawler: 'crawler_config',
} as const satisfies Record<ScheduleKind, keyof CreateScheduleInput>;
const CALL_OF: Record<ScheduleKind, string> = {
  screenshot: '/screenshot',
  scrape: '/scrape',
  crawler: 'POST /crawl',
};
const CREATED_WITH: Record<(typeof CONFIG_NAMES)[ScheduleKind], string> = {
  screenshot_config: 'created with POST /screenshot/schedules',
  scrape_config: 'created with POST /scrape/schedules',
  crawler_config: 'created with POST /crawl/schedules',
};

const STATUSES: readonly ScheduleStatus[] = ['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'];
/** Kinds as the SDKs name them (the Python SDK documents the `api.` forms) -> the kind they mean. */
const KINDS: Record<string, 'screenshot' | 'scrape' | 'crawler'> = {
  screenshot: 'screenshot',
  'api.screenshot': 'screenshot',
  scrape: 'scrape',
  'api.scrape': 'scrape',
  crawler: 'crawler',
  'api.crawler': 'crawler',
};

function parseStatusFilter(value: string): ScheduleStatus {
  const status = value.trim().toUpperCase() as ScheduleStatus;
  if (!STATUSES.includes(status)) {
    throw new ApiError(
      'ERR::SCHEDULER::INVALID_REQUEST',
      `status "${value}" is not a schedule status; use one of ${STATUSES.join(', ')}`,
    );
  }
  return status;
}

function parseKindFilter(value: string): 'screenshot' | 'scrape' | 'crawler' {
  const kind = KINDS[value.trim().toLowerCase()];
  if (!kind) {
    throw new ApiError(
      'ERR::SCHEDULER::INVALID_REQUEST',
      `kind "${value}" is not a schedule kind; use api.screenshot (or screenshot), api.scrape (or scrape) or api.crawler`,
    );
  }
  return kind;
}

function limitReached(caller: Caller, maxSchedules: number): ApiError {
  return new ApiError(
    'ERR::SCHEDULER::LIMIT_REACHED',
    maxSchedules === 0
      ? `This Snapwire host allows no schedules (SNAPWIRE_MAX_SCHEDULES is 0); the operator can raise SNAPWIRE_MAX_SCHEDULES`
      : `This project already has ${maxSchedules} active or paused schedules (${caller.env}), the most this host allows (SNAPWIRE_MAX_SCHEDULES); cancel one first, or ask the operator to raise SNAPWIRE_MAX_SCHEDULES`,
  );
}

function checkMaxRetries(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_RETRIES_LIMIT) {
    throw new ApiError(
      'ERR::SCHEDULER::INVALID_REQUEST',
      `max_retries must be a whole number from 0 to ${MAX_RETRIES_LIMIT}; got ${value}`,
    );
  }
  return value;
}

export function newRun(
  schedule: Pick<ScheduleRow, 'id' | 'project_id'>,
  trigger: ScheduleRun['trigger'],
  attempt: number,
  retryOf: string | null,
  status: ScheduleRun['status'],
  now: number,
  dueAt = now,
  error?: { code: string; reason: string },
): ScheduleRun {
  const ended = status === 'skipped' || status === 'failed' || status === 'succeeded';
  return {
    id: randomUUID(),
    schedule_id: schedule.id,
    project_id: schedule.project_id,
    trigger,
    attempt,
    retry_of: retryOf,
    status,
    due_at: dueAt,
    job_uuid: null,
    log_uuid: null,
    error_code: error?.code ?? null,
    error_reason: error?.reason ?? null,
    locked_by: null,
    locked_until: null,
    created_at: now,
    started_at: null,
    finished_at: ended ? now : null,
  };
}

/** A schedule's project id, or undefined (the dashboard's route access checks membership with it). */
export async function projectIdOfSchedule(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('schedules').select('project_id').where('id', '=', id).executeTakeFirst();
  return row?.project_id;
}
