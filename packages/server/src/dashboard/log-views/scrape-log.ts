import type { Project } from '../../accounts/projects.js';
import type { ScreenshotLog } from '../../logs/log-store.js';
import { details, redirectedTo, upstreamOf } from '../components.js';
import { html, type Html } from '../html.js';
import { paramsOf } from '../log-kinds.js';
import { headRows, parametersView, sizeOf, tailRows, text } from './common.js';

/**
 * A scrape as a curl command: the parameters the log keeps. Header values and the body are never logged,
 * so headers appear by name with a placeholder value, and a body as a file to fill in.
 */
export function scrapeCurlOf(publicUrl: string, log: ScreenshotLog, webhookName?: string): string {
  const p = paramsOf(log);
  const query: Array<[string, string]> = [['url', log.url]];
  const add = (name: string, value: unknown) => {
    const written = text(value);
    if (written !== undefined && written !== '') query.push([name, written]);
  };
  const options = Array.isArray(p.format_options) ? (p.format_options as string[]) : [];
  if (p.format && p.format !== 'raw')
    add('format', `${text(p.format)}${options.length ? `:${options.join(',')}` : ''}`);
  if (p.render_js) {
    add('render_js', 'true');
    add('rendering_wait', p.rendering_wait);
    add('wait_for_selector', p.wait_for_selector);
    if (p.auto_scroll) add('auto_scroll', 'true');
  }
  add('timeout', p.timeout);
  add('webhook_name', webhookName);
  for (const name of Array.isArray(p.headers) ? (p.headers as string[]) : []) add(`headers[${name}]`, '...');
  const method = text(p.method) ?? 'GET';
  const qs = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const body = typeof p.body_bytes === 'number' && p.body_bytes > 0 ? ` --data-binary @body` : '';
  // Single quotes keep the shell from touching the URL; the key is spliced in from the environment.
  return `curl${method === 'GET' ? '' : ` -X ${method}`}${body} '${publicUrl}/scrape?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}

/** What a scrape's log page shows: the request, the target's answer, the content answered, headers. */
export function scrapeLogView(
  log: ScreenshotLog,
  project: Project | undefined,
  publicUrl: string,
  webhookName?: string,
): Html {
  const p = paramsOf(log);
  const options = Array.isArray(p.format_options) ? (p.format_options as string[]) : [];
  const responseHeaders =
    p.response_headers && typeof p.response_headers === 'object'
      ? Object.entries(p.response_headers as Record<string, string>)
      : [];
  return html`<div id="scrape-log">
    ${details(
      [
        ...headRows(log, project),
        ['Method', html`<code id="scrape-method">${text(p.method) ?? 'GET'}</code>`],
        ['URL', html`<span style="word-break:break-all">${log.url}</span>`],
        [
          'Status code',
          html`<span id="scrape-status">${upstreamOf(log.upstream_status)}</span> ${redirectedTo(log)}`,
        ],
        [
          'Format',
          html`<span id="scrape-format"
            >${text(p.format) ?? 'raw'}${options.length ? `:${options.join(',')}` : ''}</span
          >`,
        ],
        [
          'Content',
          html`<span id="scrape-content"
            >${sizeOf(p.content_bytes)}${p.content_type ? html` · ${text(p.content_type)}` : ''}</span
          >`,
        ],
        [
          'Target answered',
          html`<span id="scrape-upstream-size">${sizeOf(p.upstream_bytes)}</span
            >${log.content_type ? ` · ${log.content_type}` : ''}`,
        ],
        ['Browser', p.render_js ? 'render_js (Chromium)' : 'no browser (one HTTP request)'],
        ['Cache', text(p.cache) ?? '—'],
        ['Mode', log.job_uuid ? 'asynchronous (webhook)' : 'synchronous'],
        ...tailRows(log),
      ],
      'log-details',
    )}
    <h2>Response headers</h2>
    ${
      responseHeaders.length
        ? details(responseHeaders, 'response-headers')
        : html`<p class="muted" id="response-headers">
            Not logged${log.upstream_status === null ? ': the target did not answer' : ''}.
          </p>`
    }
    <h2>Request</h2>
    <pre id="curl">${scrapeCurlOf(publicUrl, log, webhookName)}</pre>
    ${parametersView(p)}
  </div>`;
}
