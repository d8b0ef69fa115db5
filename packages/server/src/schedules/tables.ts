import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

/** Tables owned by this room (migration 0007). Times are epoch milliseconds. */
export type ScheduleStatus = 'ACTIVE' | 'PAUSED' | 'CANCELLED' | 'COMPLETED';
export type RunStatus = 'due' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type RunTrigger = 'schedule' | 'manual' | 'retry';

export interface SchedulesTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  kind: 'screenshot';
  status: ScheduleStatus;
  webhook_name: string;
  webhook_uuid: string | null;
  config: string;
  recurrence: string | null;
  scheduled_date: number | null;
  next_run_at: number | null;
  allow_concurrency: number;
  retry_on_failure: number;
  max_retries: number;
  notes: string | null;
  fired_count: number;
  consecutive_failures: number;
  last_run_at: number | null;
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  cancelled_at: number | null;
}

export interface ScheduleRunsTable {
  id: string;
  schedule_id: string;
  project_id: string;
  trigger: RunTrigger;
  attempt: number;
  retry_of: string | null;
  status: RunStatus;
  due_at: number;
  job_uuid: string | null;
  log_uuid: string | null;
  error_code: string | null;
  error_reason: string | null;
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** The shared schema plus this room's tables (kept here so the shared schema file stays untouched). */
export interface ScheduleDatabase extends Database {
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
}

export type ScheduleDb = Kysely<ScheduleDatabase>;
export type ScheduleExecutor = ScheduleDb | Transaction<ScheduleDatabase>;

export const withScheduleTables = (db: Kysely<Database>): ScheduleDb =>
  db.withTables<{ schedules: SchedulesTable; schedule_runs: ScheduleRunsTable }>();
