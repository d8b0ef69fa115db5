import type { Project } from '../../accounts/projects.js';
import type { ScreenshotLog } from '../../logs/log-store.js';
import { humanValue } from '../charts.js';
import { details } from '../components.js';
import { html, type Html } from '../html.js';
import { paramsOf } from '../log-kinds.js';
import { headRows, parametersView, sizeOf, tailRows, text } from './common.js';

/** How the data was extracted: a rules template (which), a prompt (its length: the log keeps no text), a model. */
function methodOf(p: Record<string, unknown>): Html {
  if (p.method === 'template') return html`rules template <code>${text(p.template) ?? ''}</code>`;
  if (p.method === 'prompt')
    return html`prompt to the language model (${humanValue(Number(p.prompt_length ?? 0))} characters)`;
  if (p.method === 'model') return html`auto-extraction model <code>${text(p.model) ?? ''}</code>`;
  return html`—`;
}

function tokensOf(p: Record<string, unknown>): string | false {
  const tokens = p.tokens as { prompt?: number; completion?: number; total?: number } | undefined;
  if (!tokens || typeof tokens.total !== 'number') return false;
  return `${humanValue(tokens.total)} (${humanValue(tokens.prompt ?? 0)} prompt + ${humanValue(tokens.completion ?? 0)} completion) in ${humanValue(Number(p.model_calls ?? 1))} call(s)`;
}

/** The result as recorded (its start, when long), pretty-printed when it is whole JSON. */
function resultOf(preview: string): string {
  try {
    return JSON.stringify(JSON.parse(preview), null, 2);
  } catch {
    return preview;
  }
}

/** What an extraction's log page shows: the document, the method, the result. */
export function extractionLogView(log: ScreenshotLog, project: Project | undefined): Html {
  const p = paramsOf(log);
  const tokens = tokensOf(p);
  const preview = typeof p.result_preview === 'string' ? p.result_preview : undefined;
  const compressed = p.content_encoding && p.sent_bytes !== p.document_bytes;
  return html`<div id="extraction-log">
    ${details(
      [
        ...headRows(log, project),
        [
          'Document',
          html`<span id="extraction-document"
            >${sizeOf(p.document_bytes ?? p.sent_bytes)} ·
            ${text(p.content_type) ?? '—'}${
              compressed ? html` (sent ${sizeOf(p.sent_bytes)} ${text(p.content_encoding) ?? ''})` : ''
            }</span
          >`,
        ],
        log.url ? ['Document URL', html`<span style="word-break:break-all">${log.url}</span>`] : false,
        [
          'Method',
          html`<span id="extraction-method" data-method="${text(p.method) ?? ''}">${methodOf(p)}</span>`,
        ],
        tokens ? ['Model tokens', tokens] : false,
        p.data_quality ? ['Data quality', text(p.data_quality) ?? ''] : false,
        [
          'Result',
          html`<span id="extraction-result-size">${sizeOf(p.result_bytes)}</span
            >${log.content_type ? ` · ${log.content_type}` : ''}`,
        ],
        ...tailRows(log),
      ],
      'log-details',
    )}
    <h2>Result</h2>
    ${
      preview !== undefined
        ? html`<pre id="extraction-result">${resultOf(preview)}</pre>`
        : html`<p class="muted" id="extraction-result">
            ${log.error_code ? 'No result: the extraction failed.' : 'Not logged.'}
          </p>`
    }
    ${parametersView(p)}
  </div>`;
}
