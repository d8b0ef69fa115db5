import { runImageUrl } from './change-event.js';
import type { MonitorRow, MonitorRun } from './store.js';

const iso = (time: number | null | undefined) =>
  time === null || time === undefined ? null : new Date(time).toISOString();

/** A monitor as the API answers it (docs/monitors.md). */
export function describeMonitor(row: MonitorRow) {
  const { url: _url, ...config } = JSON.parse(row.config) as Record<string, string>;
  return {
    id: row.id,
    status: row.status,
    url: row.url,
    env: row.env,
    screenshot_config: config,
    hide_selectors: config.hide_selectors ? config.hide_selectors.split(',') : [],
    recurrence: row.recurrence ? (JSON.parse(row.recurrence) as Record<string, unknown>) : null,
    next_run_at: iso(row.next_run_at),
    change_threshold: row.change_threshold,
    ignore: JSON.parse(row.ignore_regions) as unknown[],
    compare_text: row.compare_text === 1,
    confirm_runs: row.confirm_runs,
    require_approval: row.require_approval === 1,
    notify_unchanged: row.notify_unchanged === 1,
    webhook_name: row.webhook_name,
    baseline_run_id: row.baseline_run_id,
    pending_run_id: row.pending_run_id,
    unconfirmed_changes: row.unconfirmed_changes,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

/** One run: its outcome, the comparison and the addresses of its images. */
export function describeMonitorRun(run: MonitorRun, publicUrl: string) {
  const image = (which: string, blob: string | null) =>
    blob ? runImageUrl(publicUrl, run.monitor_id, run.id, which) : null;
  return {
    id: run.id,
    monitor_id: run.monitor_id,
    trigger: run.trigger,
    status: run.status,
    changed: run.changed === null ? null : run.changed === 1,
    score: run.score,
    changed_pixels: run.changed_pixels,
    height_change: run.height_change,
    regions: run.regions ? (JSON.parse(run.regions) as unknown[]) : [],
    text_diff: run.text_diff ? (JSON.parse(run.text_diff) as Record<string, unknown>) : null,
    became_baseline: run.became_baseline === 1,
    approval: run.approval,
    note: run.note,
    event_job_id: run.event_job_id,
    log_uuid: run.log_uuid,
    cost: run.cost,
    images: {
      before: image('before', run.before_blob),
      after: image('after', run.after_blob),
      diff: image('diff', run.diff_blob),
    },
    error: run.error_code ? { code: run.error_code, reason: run.error_reason } : null,
    due_at: iso(run.due_at),
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
  };
}
