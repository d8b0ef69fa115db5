import sharp from 'sharp';
import { z } from 'zod';
import { humanValue } from '../charts.js';
import { copyButton, details, outcomeOf, postButton, redirectedTo, upstreamOf } from '../components.js';
import { lenient, parse, type DashboardPage } from '../context.js';
import { curlOf } from '../curl.js';
import { html, isoTime, type Html } from '../html.js';
import { attemptTable, jobStateOf } from '../webhook-views.js';
import { kindOf } from '../log-kinds.js';
import { crawlLogView } from '../log-views/crawl-log.js';
import { extractionLogView } from '../log-views/extraction-log.js';
import { scrapeLogView } from '../log-views/scrape-log.js';

const KIND_LABELS = {
  screenshot: 'A screenshot (GET /screenshot)',
  scrape: 'A scrape (Web Scraping API, /scrape)',
  extraction: 'An extraction (Extraction API, POST /extraction)',
  crawl: 'A page of a crawl (Crawler API, POST /crawl)',
} as const;

export const idParams = z.object({ uuid: z.string().regex(/^[0-9A-Za-z-]{1,64}$/) });
const query = z.object({ tab: lenient(z.enum(['overview', 'webhook'])) });
const imageQuery = z.object({ thumb: lenient(z.literal('1')) });
const THUMB_WIDTH = 128;
const THUMB_HEIGHT = 80;

const page: DashboardPage = {
  register(app, ctx) {
    const { projects, queue, webhooks, attempts, blobs, logQueries } = ctx.services;

    app.get('/monitoring/log/:uuid', async (request, reply) => {
      const params = idParams.safeParse(request.params);
      const log = params.success ? await logQueries.find(params.data.uuid) : undefined;
      if (!log) {
        return ctx.render(request, reply, {
          title: 'Log not found',
          active: 'logs',
          status: 404,
          body: html`<h1>Log not found</h1>
            <p>No such log; it may have expired with its project's retention.</p>`,
        });
      }
      const project = await projects.findById(log.project_id);
      const tab = parse(query, request.query).tab ?? 'overview';
      const job = log.job_uuid ? await queue.get(log.job_uuid) : undefined;
      const hook = job ? await webhooks.byUuid(job.webhook_uuid) : undefined;
      const phases: Array<[string, number | null | undefined, string]> = [
        ['queue wait', log.queue_wait_ms, '#9aa3b5'],
        ['navigation', log.navigation_ms, '#2d5be3'],
        ['waits', log.wait_ms, '#e38a2d'],
        ['capture', log.capture_ms, '#14813b'],
        ['encode', log.encode_ms, '#7a3fd1'],
      ];
      const known = phases.reduce((s, [, ms]) => s + (ms ?? 0), 0);
      const tabs = html`<nav class="tabs">
        <a href="?tab=overview" class="${tab === 'overview' ? 'on' : ''}">Overview</a>${
          log.job_uuid
            ? html`<a href="?tab=webhook" id="tab-webhook" class="${tab === 'webhook' ? 'on' : ''}"
                >Webhook</a
              >`
            : ''
        }
      </nav>`;
      let body: Html;
      if (tab === 'webhook' && job) {
        const history = await attempts.forJob(job.id);
        body = html`<section id="webhook-tab" data-refresh="3000">
          ${details([
            ['Job', html`<span class="id"><code>${job.id}</code>${copyButton(job.id)}</span>`],
            [
              'Webhook',
              hook ? html`<a href="/dashboard/webhooks/${hook.uuid}">${hook.name}</a>` : job.webhook_uuid,
            ],
            ['State', html`<span data-job-state="${job.state}">${jobStateOf(job, ctx.now())}</span>`],
            ['Delivery attempts', job.delivery_attempts],
            job.state === 'delivering' && ['Next attempt', isoTime(job.run_at)],
            job.last_error ? ['Last error', job.last_error] : false,
          ])}
          ${
            job.payload_blob && (job.state === 'done' || job.state === 'failed')
              ? html`<p>
                  ${postButton({
                    action: `/dashboard/jobs/${job.id}/replay`,
                    label: 'Replay delivery',
                    csrf: ctx.csrf(request),
                    name: 'replay',
                    hidden: { back: `/dashboard/monitoring/log/${log.log_uuid}?tab=webhook` },
                  })}
                </p>`
              : ''
          }
          <h2>Attempts</h2>
          ${attemptTable(history)}
          ${
            job.payload_blob
              ? html`<h2>Payload</h2>
                  <p class="muted">
                    What was delivered (${job.payload_content_type ?? 'bytes'}), signed as stored.
                  </p>
                  ${
                    job.payload_content_type?.startsWith('image/')
                      ? html`<img
                          class="shot"
                          id="payload"
                          alt="delivered payload"
                          src="/dashboard/jobs/${job.id}/payload"
                          style="max-width:min(480px,100%)"
                        />`
                      : html`<a href="/dashboard/jobs/${job.id}/payload">open the payload</a>`
                  }`
              : ''
          }
        </section>`;
      } else if (kindOf(log) === 'scrape') {
        body = scrapeLogView(log, project, ctx.settings.publicUrl, hook?.name);
      } else if (kindOf(log) === 'extraction') {
        body = extractionLogView(log, project);
      } else if (kindOf(log) === 'crawl') {
        body = crawlLogView(log, project, ctx.settings.publicUrl);
      } else {
        body = html`<div class="split">
            <div>
              ${
                log.blob_key
                  ? html`<a href="/dashboard/monitoring/log/${log.log_uuid}/image"
                      ><img
                        class="shot"
                        id="screenshot"
                        alt="screenshot of ${log.url}"
                        src="/dashboard/monitoring/log/${log.log_uuid}/image"
                    /></a>`
                  : html`<div class="card muted">
                      No image${log.http_status === 0 ? ' yet (pending)' : ''}.
                    </div>`
              }
            </div>
            <div>
              ${details([
                ['Project', `${project?.name ?? log.project_id} (${log.env})`],
                ['Outcome', html`${outcomeOf(log.http_status)} ${log.error_code ?? ''}`],
                log.error_reason ? ['Reason', log.error_reason] : false,
                ['URL', html`<span style="word-break:break-all">${log.url}</span>`],
                ['Upstream', html`${upstreamOf(log.upstream_status)} ${redirectedTo(log)}`],
                ['Mode', log.job_uuid ? 'asynchronous (webhook)' : 'synchronous'],
                ['Blocked requests', blockedView(log.refused_requests, log.refused_hosts)],
                ['Cost', `${log.cost} credits`],
                ['Duration', humanValue(log.duration_ms, 'ms')],
                ['Time', isoTime(log.created_at)],
                [
                  'log_uuid',
                  html`<span class="id"><code>${log.log_uuid}</code>${copyButton(log.log_uuid)}</span>`,
                ],
              ])}
            </div>
          </div>
          <h2>Timings</h2>
          ${
            known > 0
              ? html`<div
                  class="bar"
                  role="img"
                  aria-label="${phases
                    .filter(([, ms]) => ms)
                    .map(([name, ms]) => `${name} ${humanValue(ms ?? 0, 'ms')}`)
                    .join(', ')}"
                >
                  ${phases.map(([name, ms, color]) =>
                    ms
                      ? html`<span
                          title="${name}: ${humanValue(ms, 'ms')}"
                          style="width:${((ms / known) * 100).toFixed(2)}%;background:${color}"
                        ></span>`
                      : '',
                  )}
                </div>`
              : ''
          }
          <ul class="legend" id="timings">
            ${phases.map(
              ([name, ms, color]) =>
                html`<li data-phase="${name}">
                  <i class="swatch" style="background:${color}"></i>${name}
                  <strong>${ms != null ? humanValue(ms, 'ms') : '—'}</strong>
                </li>`,
            )}
            <li data-phase="total">total <strong>${humanValue(log.duration_ms, 'ms')}</strong></li>
          </ul>
          <h2>Request</h2>
          <pre id="curl">${curlOf(ctx.settings.publicUrl, log.url, log.params, hook?.name)}</pre>
          <details>
            <summary>Parameters (normalised)</summary>
            <pre>${JSON.stringify(JSON.parse(log.params || '{}'), null, 2)}</pre>
          </details>`;
      }
      return ctx.render(request, reply, {
        title: `Log ${log.log_uuid}`,
        active: 'logs',
        body: html`<h1>Log <code>${log.log_uuid}</code></h1>
          <p class="muted" id="log-kind" data-kind="${kindOf(log)}">${KIND_LABELS[kindOf(log)]}</p>
          ${tabs}${body}`,
      });
    });

    app.get('/monitoring/log/:uuid/image', async (request, reply) => {
      const params = idParams.safeParse(request.params);
      const log = params.success ? await logQueries.find(params.data.uuid) : undefined;
      const image = log?.blob_key ? await blobs.get(log.blob_key) : undefined;
      if (!log || !image) return reply.code(404).send('not found');
      if (parse(imageQuery, request.query).thumb === '1' && log.content_type?.startsWith('image/')) {
        // The logs table shows 50 of these: a small WebP of the top of the page, not 50 full captures.
        const thumbnail = await sharp(image, { animated: false })
          .resize({ width: THUMB_WIDTH, height: THUMB_HEIGHT, fit: 'cover', position: 'top' })
          .webp({ quality: 70 })
          .toBuffer();
        return reply.header('content-type', 'image/webp').send(thumbnail);
      }
      return reply.header('content-type', log.content_type ?? 'application/octet-stream').send(image);
    });
  },
};

/**
 * What the egress guard blocked while the page loaded, in plain words, with the error reference's entry
 * that explains why and what an operator can allow.
 */
function blockedView(count: number | null | undefined, hostsJson: string | null | undefined): Html {
  if (count === null || count === undefined) return html`<span id="refused" class="muted">—</span>`;
  if (count === 0) return html`<span id="refused">none</span>`;
  let hosts: string[] = [];
  try {
    hosts = JSON.parse(hostsJson ?? '[]') as string[];
  } catch {
    // an unreadable list still gives the count
  }
  return html`<span id="refused"
    >${count} blocked${hosts.length ? html` (${hosts.join(', ')})` : ''}: the address is private or not
    allowed, so the page was captured without ${count === 1 ? 'it' : 'them'}.
    <a href="/docs/errors#ERR::SCRAPE::DOMAIN_NOT_ALLOWED">Why, and how to allow an address</a></span
  >`;
}

export default page;
