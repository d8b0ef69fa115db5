import { logUrlOf } from '../logs/log-url.js';
import type { ScheduleRow, ScheduleRun } from './store.js';

const iso = (time: number | null | undefined) =>
  time === null || time === undefined ? null : new Date(time).toISOString();

const CONFIG_NAMES = {
  screenshot: 'screenshot_config',
  scrape: 'scrape_config',
  crawler: 'crawler_config',
} as const;

/**
 * A schedule as the official SDK's `Schedule` type reads it (docs/compat.md §6). The screenshot (or
 * scrape, or crawl) parameters, webhook name and run count are in `metadata` (and at the top level, for readers that
 * look there), under `screenshot_config`, `scrape_config` or `crawler_config` by the schedule's kind.
 */
export function describeSchedule(row: ScheduleRow) {
  const config = JSON.parse(row.config) as Record<string, unknown>;
  const configName = CONFIG_NAMES[row.kind];
  const recurrence = row.recurrence ? (JSON.parse(row.recurrence) as Record<string, unknown>) : undefined;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    next_scheduled_date: iso(row.next_run_at),
    scheduled_date: iso(row.scheduled_date),
    ...(recurrence ? { recurrence } : {}),
    metadata: {
      [configName]: config,
      webhook_name: row.webhook_name,
      env: row.env,
      fired_count: row.fired_count,
      last_run_at: iso(row.last_run_at),
    },
    [configName]: config,
    webhook_name: row.webhook_name,
    notes: row.notes,
    created_by: null,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    cancelled_at: iso(row.cancelled_at),
    allow_concurrency: row.allow_concurrency === 1,
    retry_on_failure: row.retry_on_failure === 1,
    max_retries: row.max_retries,
    webhook_uuid: row.webhook_uuid,
    user_uuid: null,
    consecutive_failures: row.consecutive_failures,
  };
}

/** One run of the history: its trigger, attempt, outcome, and the job and log it made. */
export function describeRun(run: ScheduleRun, publicUrl: string) {
  return {
    id: run.id,
    schedule_id: run.schedule_id,
    trigger: run.trigger,
    attempt: run.attempt,
    retry_of: run.retry_of,
    status: run.status,
    due_at: iso(run.due_at),
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
    job_uuid: run.job_uuid,
    log_uuid: run.log_uuid,
    log_url: run.log_uuid ? logUrlOf(publicUrl, run.log_uuid) : null,
    error: run.error_code ? { code: run.error_code, reason: run.error_reason } : null,
  };
}
