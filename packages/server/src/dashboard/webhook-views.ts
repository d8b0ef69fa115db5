import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobState } from '../store/schema.js';
import type { AttemptView } from '../webhooks/attempt-history.js';
import type { Webhook } from '../webhooks/registry.js';
import { humanValue } from './charts.js';
import { shortId, table } from './components.js';
import type { DashboardContext } from './context.js';
import { html, isoTime, type Html } from './html.js';

/** Pieces of the webhook pages shared with the log page's webhook tab. */
export function attemptTable(rows: AttemptView[], empty = 'No delivery attempt yet.'): Html {
  return table({
    className: 'attempts',
    rows,
    empty,
    rowAttributes: (a) => ({ 'data-status': a.status_code ?? '' }),
    columns: [
      { label: 'Started', cell: (a) => a.started_at.replace('T', ' ').slice(0, 19) },
      { label: 'Job', cell: (a) => shortId(a.job_uuid) },
      { label: '#', cell: (a) => a.attempt },
      {
        label: 'Status',
        cell: (a) =>
          a.success
            ? html`<span class="ok">${a.status_code ?? ''}</span>`
            : html`<span class="bad">${a.status_code ?? 'error'}</span>`,
      },
      { label: 'Duration', cell: (a) => humanValue(a.duration_ms, 'ms') },
      { label: 'Error', cell: (a) => a.error ?? '' },
      { label: 'Response', cell: (a) => html`<code>${(a.response_excerpt ?? '').slice(0, 120)}</code>` },
    ],
  });
}

/** What a job is doing, as a person reads it: a job waiting for its next attempt is "retrying at T". */
export function jobStateOf(
  job: { state: JobState; delivery_attempts: number; run_at: number },
  now: number,
): string {
  if (job.state === 'delivering' && job.delivery_attempts > 0 && job.run_at > now)
    return `retrying at ${isoTime(job.run_at)}`;
  if (job.state === 'queued') return 'queued for capture';
  return job.state;
}

/** A UTC time from a form: `YYYY-MM-DDTHH:MM` (datetime-local, read as UTC) or any ISO time. */

/** The one page that shows a webhook's signing secret (after create, reveal or rotate). */
export function secretPage(
  ctx: DashboardContext,
  request: FastifyRequest,
  reply: FastifyReply,
  webhook: Webhook,
  what: string,
) {
  return ctx.render(request, reply, {
    title: 'Webhook secret',
    active: 'webhooks',
    body: html`<h1>${what}: ${webhook.name}</h1>
      <p>The signing secret (shown on this page only; it is not in the page you come back to):</p>
      <p class="secret" id="secret">${webhook.secret}</p>
      <p><a class="button" href="/dashboard/webhooks/${webhook.uuid}">Back to the webhook</a></p>`,
  });
}
