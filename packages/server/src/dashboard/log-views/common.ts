import type { Project } from '../../accounts/projects.js';
import type { ScreenshotLog } from '../../logs/log-store.js';
import { humanValue } from '../charts.js';
import { copyButton, outcomeOf } from '../components.js';
import { html, isoTime, type Html } from '../html.js';

type Row = [string, Html | string | number] | false;

/** A recorded value as text; undefined for anything else (the record is JSON written by older versions too). */
export const text = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

/** A size in bytes as people read it (12.3 KB), with the exact count on hover. */
export function sizeOf(bytes: unknown): Html | string {
  if (typeof bytes !== 'number') return '—';
  const shown =
    bytes >= 1_048_576
      ? `${(bytes / 1_048_576).toFixed(1)} MB`
      : bytes >= 1024
        ? `${(bytes / 1024).toFixed(1)} KB`
        : `${bytes} B`;
  return html`<span title="${humanValue(bytes)} bytes">${shown}</span>`;
}

/** The first rows of every log page: whose call it was and how it ended. */
export function headRows(log: ScreenshotLog, project: Project | undefined): Row[] {
  return [
    ['Project', `${project?.name ?? log.project_id} (${log.env})`],
    ['Outcome', html`${outcomeOf(log.http_status)} ${log.error_code ?? ''}`],
    log.error_reason ? ['Reason', log.error_reason] : false,
  ];
}

/** The last rows of every log page: what it cost, how long it took, when, and its id. */
export function tailRows(log: ScreenshotLog): Row[] {
  return [
    ['Cost', `${log.cost} credits`],
    ['Duration', humanValue(log.duration_ms, 'ms')],
    ['Time', isoTime(log.created_at)],
    ['log_uuid', html`<span class="id"><code>${log.log_uuid}</code>${copyButton(log.log_uuid)}</span>`],
  ];
}

/** The recorded parameters, as stored (values of secrets are masked when they are written). */
export function parametersView(params: Record<string, unknown>): Html {
  return html`<details>
    <summary>Parameters (as recorded)</summary>
    <pre>${JSON.stringify(params, null, 2)}</pre>
  </details>`;
}
