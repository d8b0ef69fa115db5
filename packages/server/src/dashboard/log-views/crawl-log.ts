import type { Project } from '../../accounts/projects.js';
import type { ScreenshotLog } from '../../logs/log-store.js';
import { details, redirectedTo, upstreamOf } from '../components.js';
import { html, type Html } from '../html.js';
import { paramsOf } from '../log-kinds.js';
import { headRows, parametersView, tailRows, text } from './common.js';

/**
 * What a crawled page's log shows (kind `crawl`, written by crawler/crawl-worker.ts): which crawl it
 * belongs to (linked to the crawl's dashboard page), the URL and its depth, how the site answered, the
 * formats stored, and how to read the page's contents through the API.
 */
export function crawlLogView(log: ScreenshotLog, project: Project | undefined, publicUrl: string): Html {
  const p = paramsOf(log);
  const crawlUuid = text(p.crawler_uuid);
  const formats = Array.isArray(p.content_formats)
    ? p.content_formats.filter((f): f is string => typeof f === 'string')
    : [];
  const scope = `project=${encodeURIComponent(project?.name ?? '')}&env=${log.env}`;
  const contentsCall =
    crawlUuid && formats[0] && !log.error_code
      ? `curl "${publicUrl}/crawl/${crawlUuid}/contents?key=$SNAPWIRE_KEY&format=${formats[0]}&plain=true&url=${encodeURIComponent(log.url)}"`
      : undefined;
  return html`<div id="crawl-log">
    ${details(
      [
        ...headRows(log, project),
        [
          'Crawl',
          crawlUuid
            ? html`<a href="/dashboard/crawls/${crawlUuid}?${scope}" id="crawl-link"
                ><code>${crawlUuid}</code></a
              >`
            : '—',
        ],
        ['URL', html`<span style="word-break:break-all" id="crawl-page-url">${log.url}</span>`],
        ['Depth', text(p.depth) ?? '—'],
        ['Upstream', html`${upstreamOf(log.upstream_status)} ${redirectedTo(log)}`],
        log.content_type ? ['Content type', log.content_type] : false,
        [
          'Formats stored',
          html`<span id="crawl-formats">${log.error_code ? 'none' : formats.join(', ') || '—'}</span>`,
        ],
        ...tailRows(log),
      ],
      'log-details',
    )}
    ${
      contentsCall
        ? html`<h2>Contents</h2>
            <p class="muted">The page as stored, in its first format, through the API:</p>
            <pre id="crawl-contents-call">${contentsCall}</pre>`
        : ''
    }
    ${parametersView(p)}
  </div>`;
}
