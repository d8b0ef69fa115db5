import type { FastifyRequest } from 'fastify';
import type { Caller } from '../accounts/projects.js';
import { ApiError } from '../errors.js';
import { copyButton, selectField } from './components.js';
import type { DashboardContext } from './context.js';
import { html, type Html } from './html.js';
import type { Form } from './session.js';

/** The playground's three APIs, one tab each. */
const TABS = [
  ['screenshot', '/dashboard/playground', 'Screenshot'],
  ['scrape', '/dashboard/playground/scrape', 'Scrape'],
  ['extraction', '/dashboard/playground/extraction', 'Extraction'],
] as const;
export type PlaygroundTab = (typeof TABS)[number][0];

export function playgroundTabs(active: PlaygroundTab): Html {
  return html`<nav class="tabs" id="playground-tabs" aria-label="API">
    ${TABS.map(
      ([key, href, label]) =>
        html`<a
          href="${href}"
          data-tab="${key}"
          class="${key === active ? 'on' : ''}"
          ${key === active ? html`aria-current="page"` : ''}
          >${label}</a
        >`,
    )}
  </nav>`;
}

/** The project and environment the playground runs as (billed and logged like any call). */
export async function callerOf(ctx: DashboardContext, form: Form): Promise<Caller> {
  const project = await ctx.services.projects.findByName(form.project ?? '');
  if (!project) throw new ApiError('ERR::API::NOT_FOUND', `No project named "${form.project ?? ''}"`);
  return { project, env: form.env === 'TEST' ? 'TEST' : 'LIVE' };
}

/** The project and environment pickers above every tab's fields. */
export async function callerFields(
  ctx: DashboardContext,
  form: Form,
  request: FastifyRequest,
): Promise<Html> {
  const all = await ctx.projects(request);
  return html`<div class="filters">
    ${selectField(
      'Project',
      'project',
      all.map((p) => p.name),
      form.project ?? 'default',
    )}
    ${selectField('Environment', 'env', ['LIVE', 'TEST'], form.env ?? 'LIVE')}
  </div>`;
}

/** A refusal: its code, and its reason unless the reason shows next to the field it is about. */
export function refusalView(error: { code: string; reason: string }, field: string | undefined): Html {
  return html`<div class="error" role="alert" id="playground-error">
    Refused: <code>${error.code}</code>
    ${field ? html`— see <a href="#field-${field}"><code>${field}</code></a> below.` : html`— ${error.reason}`}
  </div>`;
}

/** The link from an answer to its monitoring log. */
export function logLink(logUuid: string | undefined): Html | string {
  return logUuid
    ? html`<p id="answer-log">
        Logged as <a href="/dashboard/monitoring/log/${logUuid}"><code>${logUuid}</code></a
        >${copyButton(logUuid)}
      </p>`
    : '';
}

/** A block of code with its copy button. */
export function snippet(id: string, title: Html | string, code: string, wide = false): Html {
  return html`<div class="snippet${wide ? ' full' : ''}">
    <div class="snippet-head">
      <h3>${title}</h3>
      ${copyButton(code, 'the code')}
    </div>
    <pre id="${id}">${code}</pre>
  </div>`;
}

/** Characters of an answered content the page shows at most (the log and the API have the rest). */
export const SHOWN_CHARS = 200_000;

export function shownText(text: string): { text: string; cut: boolean } {
  return text.length > SHOWN_CHARS ? { text: text.slice(0, SHOWN_CHARS), cut: true } : { text, cut: false };
}
