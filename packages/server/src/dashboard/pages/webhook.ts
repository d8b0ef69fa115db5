// Over 400 lines as one coherent thing: one webhook's page with every action on it (settings, jobs,
// attempts, replay, rotate, enable); the actions share its form handling and redirects back to it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditAction } from '../../audit/audit-log.js';
import type { Caller } from '../../accounts/projects.js';
import { isApiError } from '../../errors.js';
import type { Webhook } from '../../webhooks/registry.js';
import {
  csrfInput,
  inlineError,
  postButton,
  selectField,
  shortId,
  statCard,
  table,
  textField,
} from '../components.js';
import { lenient, parse, type DashboardPage } from '../context.js';
import { html, isoTime } from '../html.js';
import { formOf, type Form } from '../session.js';
import { describeAttempt } from '../../webhooks/attempt-history.js';
import { attemptTable, jobStateOf, secretPage } from '../webhook-views.js';

const ATTEMPTS_PER_PAGE = 25;
const idParams = z.object({ uuid: z.string().regex(/^[0-9A-Za-z-]{1,64}$/) });
const detailQuery = z.object({
  attempts: lenient(z.enum(['all', 'failed', 'succeeded'])),
  offset: lenient(z.coerce.number().int().min(0)),
});

function utcTimeOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

const numberOrNull = (value: string | undefined) =>
  value === undefined || value.trim() === '' ? null : Number(value);

/** One webhook: state, settings, jobs, attempts (paged, filtered), events, and every action on it. */
const page: DashboardPage = {
  register(app, ctx) {
    const { settings, projects, webhooks, queue, asyncScreenshots, webhookService } = ctx.services;
    const queries = ctx.queries;

    const webhookCaller = async (
      params: unknown,
    ): Promise<{ webhook: Webhook; caller: Caller } | undefined> => {
      const parsed = idParams.safeParse(params);
      const webhook = parsed.success ? await webhooks.byUuid(parsed.data.uuid) : undefined;
      const project = webhook ? await projects.findById(webhook.project_id) : undefined;
      return webhook && project ? { webhook, caller: { project, env: webhook.env } } : undefined;
    };
    const notFound = (request: FastifyRequest, reply: FastifyReply) =>
      ctx.render(request, reply, {
        title: 'Not found',
        active: 'webhooks',
        status: 404,
        body: html`<h1>No such webhook</h1>
          <p><a href="/dashboard/webhooks">All webhooks</a></p>`,
      });

    const detailPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      found: { webhook: Webhook; caller: Caller },
      typed: { form?: Form; error?: string; status?: number } = {},
    ) => {
      const { webhook: w, caller } = found;
      const q = parse(detailQuery, request.query);
      const filter = q.attempts ?? 'all';
      const offset = q.offset ?? 0;
      const [history, jobs, stats, events] = await Promise.all([
        queries.attempts(w.uuid, filter, ATTEMPTS_PER_PAGE, offset),
        queries.jobsOfWebhook(w.uuid, 30),
        queries.webhookStats(w.uuid),
        queries.events(w.project_id, 10),
      ]);
      const now = ctx.now();
      const csrf = ctx.csrf(request);
      const to = `/dashboard/webhooks/${w.uuid}`;
      const action = (name: string, label: string, className = '', confirm?: string) =>
        postButton({
          action: `${to}/${name}`,
          label,
          csrf,
          className,
          name,
          ...(confirm ? { confirm } : {}),
        });
      const warningAt = Math.ceil(settings.webhookDisableAfter * 0.5);
      const attemptsLink = (extra: { attempts?: string; offset?: number }) => {
        const params = new URLSearchParams();
        const f = extra.attempts ?? filter;
        if (f !== 'all') params.set('attempts', f);
        if (extra.offset) params.set('offset', String(extra.offset));
        return `${to}${params.size ? `?${params.toString()}` : ''}#attempts`;
      };
      const form = typed.form;
      const field = (name: 'name' | 'url' | 'queue_limit' | 'max_concurrency' | 'timeout_ms') =>
        form?.[name] ?? w[name] ?? '';
      const dayAgo = new Date(now - 86_400_000).toISOString().slice(0, 16);
      return ctx.render(request, reply, {
        title: `Webhook ${w.name}`,
        active: 'webhooks',
        status: typed.status ?? 200,
        body: html`<h1>Webhook ${w.name} <span class="muted">${caller.project.name} · ${w.env}</span></h1>
          ${
            !w.enabled
              ? html`<div class="warn" id="disabled">
                  Disabled${w.disable_reason ? html`: ${w.disable_reason}` : ''}. Jobs wait until it is
                  enabled again.
                </div>`
              : ''
          }
          ${
            w.enabled && w.consecutive_failed_count >= warningAt
              ? html`<div class="warn" id="failing">
                  ${w.consecutive_failed_count} consecutive failed deliveries: it is disabled automatically at
                  ${settings.webhookDisableAfter}.
                </div>`
              : ''
          }
          <div class="cards">
            <div class="card">
              <div class="muted">State</div>
              <div class="stat" id="state">${w.enabled ? 'enabled' : 'disabled'}</div>
            </div>
            ${statCard(
              `Success rate (last ${stats.attempts} attempts)`,
              stats.successRate === undefined ? '—' : `${(stats.successRate * 100).toFixed(1)} %`,
            )}
            ${statCard('Consecutive failures', `${w.consecutive_failed_count} / ${settings.webhookDisableAfter}`)}
          </div>
          <p>
            ${
              w.enabled
                ? action('disable', 'Disable', 'secondary')
                : action(
                    'enable',
                    w.disable_reason && w.disable_reason !== 'disabled by its owner' ? 'Re-enable' : 'Enable',
                  )
            }
            ${action('ping', 'Send test ping')}${action('reveal', 'Reveal secret', 'secondary')}${action(
              'rotate',
              'Rotate secret',
              'secondary',
              `Rotate the signing secret of ${w.name}? Receivers must switch to the new one within the grace period.`,
            )}${action(
              'delete',
              'Delete',
              'danger',
              `Delete the webhook ${w.name}? Its waiting jobs are dropped and cannot be delivered.`,
            )}
          </p>
          ${inlineError(typed.error)}
          <form method="post" action="${to}/edit" class="filters" id="edit-webhook">
            ${csrfInput(csrf)} ${textField('Name', 'name', field('name'))}
            ${textField('URL', 'url', field('url'), { size: 40 })}
            ${textField('Queue limit', 'queue_limit', field('queue_limit'), { placeholder: 'plan', size: 6 })}
            ${textField('Max concurrency', 'max_concurrency', field('max_concurrency'), { size: 6 })}
            ${textField('Timeout ms', 'timeout_ms', field('timeout_ms'), { size: 6 })}
            <button type="submit">Save</button>
          </form>
          <div id="live-deliveries" data-refresh="3000">
            <h2>Jobs</h2>
            ${table({
              id: 'jobs',
              rows: jobs,
              empty:
                'No job yet: a /screenshot call with webhook_name=' +
                w.name +
                ' (or a test ping) appears here until it is delivered.',
              rowAttributes: (j) => ({ 'data-job': j.id, 'data-state': j.state }),
              columns: [
                { label: 'Created', cell: (j) => isoTime(j.created_at) },
                {
                  label: 'Job',
                  cell: (j) =>
                    shortId(
                      j.id,
                      j.log_uuid ? `/dashboard/monitoring/log/${j.log_uuid}?tab=webhook` : undefined,
                    ),
                },
                { label: 'Type', cell: (j) => j.resource_type },
                { label: 'State', cell: (j) => html`<span class="job-state">${jobStateOf(j, now)}</span>` },
                { label: 'Attempts', cell: (j) => j.delivery_attempts },
                {
                  label: 'Payload',
                  cell: (j) =>
                    j.payload_blob && j.payload_content_type?.startsWith('image/')
                      ? html`<a href="/dashboard/jobs/${j.id}/payload"
                          ><img class="thumb" alt="payload" src="/dashboard/jobs/${j.id}/payload"
                        /></a>`
                      : j.payload_blob
                        ? html`<a href="/dashboard/jobs/${j.id}/payload"
                            >${j.payload_content_type ?? 'payload'}</a
                          >`
                        : '—',
                },
                {
                  label: '',
                  cell: (j) =>
                    j.payload_blob && (j.state === 'done' || j.state === 'failed')
                      ? postButton({
                          action: `/dashboard/jobs/${j.id}/replay`,
                          label: 'Replay',
                          csrf,
                          name: 'replay',
                          hidden: { back: to },
                        })
                      : '',
                },
              ],
            })}
            <h2 id="attempts">Delivery history</h2>
            <form method="get" action="${to}" class="filters" id="attempt-filters">
              ${selectField(
                'Show',
                'attempts',
                [
                  ['all', 'all attempts'],
                  ['failed', 'failed'],
                  ['succeeded', 'succeeded'],
                ],
                filter,
              )}
              <button type="submit">Filter</button>
            </form>
            ${attemptTable(
              history.rows.map(describeAttempt),
              filter === 'all'
                ? 'No delivery attempt yet: each try to POST a result to this URL is listed here.'
                : `No ${filter} attempt.`,
            )}
            <nav class="pager" aria-label="attempt pages">
              <span id="attempt-position"
                >${
                  history.rows.length
                    ? `${offset + 1}–${offset + history.rows.length} of ${history.total}`
                    : `0 of ${history.total}`
                }</span
              >
              ${
                offset > 0
                  ? html`<a href="${attemptsLink({ offset: Math.max(0, offset - ATTEMPTS_PER_PAGE) })}"
                      >← Newer</a
                    >`
                  : ''
              }
              ${
                offset + history.rows.length < history.total
                  ? html`<a href="${attemptsLink({ offset: offset + ATTEMPTS_PER_PAGE })}" id="older-attempts"
                      >Older →</a
                    >`
                  : ''
              }
            </nav>
          </div>
          <form
            method="post"
            action="${to}/replay-failed"
            class="filters"
            id="replay-failed"
            data-confirm="Deliver again every failed job of ${w.name} since this time?"
          >
            ${csrfInput(csrf)} ${textField('Failed since (UTC)', 'since', dayAgo, { type: 'datetime-local' })}
            <button type="submit" data-action="replay-failed">Replay every failed delivery since then</button>
          </form>
          <h2>Events</h2>
          ${table({
            id: 'events',
            rows: events,
            empty: 'No event: warnings and automatic disabling of this project’s webhooks appear here.',
            columns: [
              { label: 'Time', cell: (e) => isoTime(e.created_at) },
              { label: 'Kind', cell: (e) => e.kind },
              { label: 'Message', cell: (e) => e.message },
            ],
          })}`,
      });
    };

    app.get('/webhooks/:uuid', async (request, reply) => {
      const found = await webhookCaller(request.params);
      return found ? detailPage(request, reply, found) : notFound(request, reply);
    });

    const failure = (request: FastifyRequest, reply: FastifyReply, error: unknown, back: string) => {
      if (!isApiError(error)) throw error;
      return ctx.render(request, reply, {
        title: 'Error',
        active: 'webhooks',
        status: error.definition.httpStatus,
        body: html`<h1>Could not do that</h1>
          <p class="error" role="alert">${error.reason}</p>
          <p><a href="${back}">Back</a></p>`,
      });
    };

    const webhookAction = (
      name: string,
      run: (
        found: { webhook: Webhook; caller: Caller },
        body: Form,
        request: FastifyRequest,
        reply: FastifyReply,
      ) => Promise<unknown>,
    ) =>
      app.post(`/webhooks/:uuid/${name}`, async (request, reply) => {
        const found = await webhookCaller(request.params);
        if (!found) return notFound(request, reply);
        try {
          return await run(found, formOf(request), request, reply);
        } catch (error) {
          return failure(request, reply, error, `/dashboard/webhooks/${found.webhook.uuid}`);
        }
      });
    const toWebhook = (w: Webhook) => `/dashboard/webhooks/${w.uuid}`;
    const audited = (
      request: FastifyRequest,
      action: AuditAction,
      webhook: Webhook,
      detail?: Record<string, unknown>,
    ) =>
      ctx.audit(request, action, {
        projectId: webhook.project_id,
        target: webhook.uuid,
        ...(detail ? { detail } : {}),
      });

    webhookAction('enable', async ({ webhook, caller }, _b, request, reply) => {
      await webhookService.enable(caller, webhook.uuid);
      await audited(request, 'webhook_enabled', webhook);
      return ctx.back(reply, toWebhook(webhook), 'Webhook enabled; waiting jobs resume.');
    });
    webhookAction('disable', async ({ webhook, caller }, _b, request, reply) => {
      await webhookService.update(caller, webhook.uuid, { enabled: false });
      await audited(request, 'webhook_disabled', webhook);
      return ctx.back(reply, toWebhook(webhook), 'Webhook disabled.');
    });
    webhookAction('ping', async ({ webhook, caller }, _b, request, reply) => {
      await webhookService.ping(caller, webhook);
      return ctx.back(reply, toWebhook(webhook), 'Test ping queued.');
    });
    webhookAction('reveal', async ({ webhook }, _b, request, reply) => {
      await audited(request, 'webhook_secret_revealed', webhook);
      return secretPage(ctx, request, reply, webhook, 'Secret');
    });
    webhookAction('rotate', async ({ webhook, caller }, _b, request, reply) => {
      const rotated = await webhookService.rotateSecret(caller, webhook.uuid);
      await audited(request, 'webhook_secret_rotated', webhook);
      return secretPage(
        ctx,
        request,
        reply,
        rotated,
        'Secret rotated (the previous one keeps signing an extra header during the grace period)',
      );
    });
    webhookAction('delete', async ({ webhook, caller }, _b, request, reply) => {
      await webhookService.remove(caller, webhook.uuid);
      await audited(request, 'webhook_deleted', webhook, { name: webhook.name });
      return ctx.back(
        reply,
        `/dashboard/webhooks?project=${caller.project.name}&env=${caller.env}`,
        `Webhook ${webhook.name} deleted.`,
      );
    });
    webhookAction('edit', async (found, body, request, reply) => {
      const { webhook, caller } = found;
      try {
        const updated = await webhookService.update(caller, webhook.uuid, {
          ...(body.name ? { name: body.name } : {}),
          ...(body.url ? { url: body.url } : {}),
          queue_limit: numberOrNull(body.queue_limit),
          max_concurrency: numberOrNull(body.max_concurrency),
          timeout_ms: numberOrNull(body.timeout_ms),
        });
        await audited(request, 'webhook_updated', webhook, {
          fields: Object.keys(body).filter((k) => !k.startsWith('_')),
        });
        return ctx.back(reply, toWebhook(updated), 'Saved.');
      } catch (error) {
        if (!isApiError(error)) throw error;
        return detailPage(request, reply, found, {
          form: body,
          error: error.reason,
          status: error.definition.httpStatus,
        });
      }
    });
    webhookAction('replay-failed', async ({ webhook }, body, request, reply) => {
      const since = utcTimeOf(body.since);
      if (since === undefined)
        return ctx.back(
          reply,
          toWebhook(webhook),
          'Give the time to replay from, as YYYY-MM-DDTHH:MM (UTC).',
        );
      let replayed = 0;
      for (const id of await queries.failedJobsSince(webhook.uuid, since)) {
        const job = await queue.get(id);
        if (job && (await webhookService.replay(job))) replayed += 1;
      }
      await audited(request, 'replay', webhook, { failed_since: isoTime(since), replayed });
      return ctx.back(
        reply,
        toWebhook(webhook),
        replayed > 0
          ? `${replayed} failed deliver${replayed === 1 ? 'y' : 'ies'} since ${isoTime(since)} queued again.`
          : `No failed delivery since ${isoTime(since)}.`,
      );
    });
  },
};

export default page;
