import { html, raw, type Html } from './html.js';

type Cell = Html | string | number | null | undefined | false | Html[];

export interface Column<Row> {
  label: string;
  cell: (row: Row) => Cell;
  /** Extra class of the cells (`url` truncates long URLs, `nowrap` keeps a cell on one line). */
  className?: string;
  /** A class for one row's cell (e.g. hide an empty one on a phone). */
  cellClass?: (row: Row) => string;
}

export interface TableOptions<Row> {
  id?: string;
  className?: string;
  columns: Array<Column<Row>>;
  rows: Row[];
  /** Said instead of an empty table: what would appear here, and how it gets there. */
  empty: string | Html;
  /** Attributes of each row (data-* for tests and scripts). */
  rowAttributes?: (row: Row) => Record<string, string | number | null | undefined>;
}

/**
 * The one table of the dashboard. Each cell carries its column's label, so that below 700 px the table
 * turns into one labelled card per row (class `responsive`) instead of scrolling sideways.
 */
export function table<Row>(options: TableOptions<Row>): Html {
  const attributes = (row: Row) =>
    Object.entries(options.rowAttributes?.(row) ?? {}).map(
      ([name, value]) => html` ${name}="${value ?? ''}"`,
    );
  return html`<table
      ${options.id ? html`id="${options.id}"` : ''}
      class="responsive ${options.className ?? ''}"
    >
      <thead>
        <tr>
          ${options.columns.map(
            (column) =>
              html`<th class="${column.className?.includes('nowrap') ? 'nowrap' : ''}">${column.label}</th>`,
          )}
        </tr>
      </thead>
      <tbody>
        ${options.rows.map(
          (row) =>
            html`<tr${attributes(row)}>
              ${options.columns.map(
                (column) =>
                  html`<td
                    data-label="${column.label}"
                    class="${[column.className, column.cellClass?.(row)].filter(Boolean).join(' ')}"
                  >
                    ${column.cell(row)}
                  </td>`,
              )}
            </tr>`,
        )}
      </tbody>
    </table>
    ${options.rows.length === 0 ? html`<p class="empty">${options.empty}</p>` : ''}`;
}

/** A two-column table of label/value pairs (a record's details). */
export function details(rows: Array<[string, Cell] | false | undefined>, id?: string): Html {
  return html`<table class="details" ${id ? html`id="${id}"` : ''}>
    ${rows.map((row) =>
      row
        ? html`<tr>
            <th>${row[0]}</th>
            <td>${row[1]}</td>
          </tr>`
        : '',
    )}
  </table>`;
}

export interface PostButtonOptions {
  action: string;
  label: string;
  csrf: string;
  className?: string;
  /** data-action of the button (tests and scripts find it by that). */
  name?: string;
  /** Asks before sending: destructive actions say what they destroy. */
  confirm?: string;
  hidden?: Record<string, string>;
}

/** A one-button form posting to `action` with the session's CSRF token. */
export function postButton(options: PostButtonOptions): Html {
  return html`<form
    class="inline"
    method="post"
    action="${options.action}"
    ${options.confirm ? html`data-confirm="${options.confirm}"` : ''}
  >
    ${csrfInput(options.csrf)}${Object.entries(options.hidden ?? {}).map(
      ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
    )}<button type="submit" class="${options.className ?? ''}" data-action="${options.name ?? ''}">
      ${options.label}
    </button>
  </form> `;
}

export function csrfInput(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}

export function selected(on: boolean): Html {
  return on ? raw('selected') : raw('');
}

/** A labelled select; `options` are [value, label] pairs or plain values. */
export function selectField(
  label: string,
  name: string,
  options: Array<string | [string, string]>,
  current: string | undefined,
): Html {
  return html`<label
    >${label}
    <select name="${name}">
      ${options.map((option) => {
        const [value, text] = typeof option === 'string' ? [option, option] : option;
        return html`<option value="${value}" ${selected(value === current)}>${text}</option>`;
      })}
    </select></label
  >`;
}

export function textField(
  label: string,
  name: string,
  value: string | number | null | undefined,
  extra: { placeholder?: string; required?: boolean; type?: string; size?: number } = {},
): Html {
  return html`<label
    >${label}<input
      name="${name}"
      value="${value ?? ''}"
      type="${extra.type ?? 'text'}"
      ${extra.placeholder ? html`placeholder="${extra.placeholder}"` : ''}
      ${extra.size ? html`size="${extra.size}"` : ''}
      ${extra.required ? raw('required') : ''}
  /></label>`;
}

/** An inline error that keeps the form it belongs to (and what was typed in it) on the page. */
export function inlineError(message: string | undefined): Html {
  return message ? html`<div class="error" role="alert">${message}</div>` : html``;
}

export function statCard(label: string, value: Cell, attribute?: string): Html {
  return html`<div class="card">
    <div class="muted">${label}</div>
    <div class="stat" ${attribute ? html`data-stat="${attribute}"` : ''}>${value}</div>
  </div>`;
}

export function outcomeOf(status: number): Html {
  if (status === 0) return html`<span class="muted">pending</span>`;
  return status >= 200 && status < 300
    ? html`<span class="ok">${status}</span>`
    : html`<span class="bad">${status}</span>`;
}

/** The target's own answer: a 404 page is a captured page, but not a green 200. */
export function upstreamOf(status: number | null | undefined): Html {
  if (status === null || status === undefined) return html`<span class="muted">—</span>`;
  return status >= 200 && status < 400
    ? html`<span class="ok">${status}</span>`
    : html`<span class="bad">${status}</span>`;
}

/** "→ final URL" when the page ended elsewhere than asked (redirects), else nothing. */
export function redirectedTo(log: { url: string; final_url: string | null }): Html | '' {
  return log.final_url && log.final_url !== log.url
    ? html`→ <span style="word-break:break-all">${log.final_url}</span>`
    : '';
}

/** A button that copies `text` (the page's script handles data-copy). */
export function copyButton(text: string, what = 'the id'): Html {
  return html`<button
    type="button"
    class="copy"
    data-copy="${text}"
    aria-label="Copy ${what}"
    title="Copy ${what}"
  >
    copy
  </button>`;
}

/** How many characters of an id the tables show. */
const ID_TAIL = 8;

/**
 * A long id as a table shows it: its last characters, where time-ordered ids (UUIDv7, ULID) differ (their
 * first ones are the timestamp, the same for every id made that minute), the whole id on hover, and a
 * button that copies it. `href` makes the short form a link.
 */
export function shortId(id: string, href?: string): Html {
  const tail = id.length > ID_TAIL + 1 ? `…${id.slice(-ID_TAIL)}` : id;
  const text = html`<code title="${id}">${tail}</code>`;
  return html`<span class="id" data-id="${id}"
    >${href ? html`<a href="${href}">${text}</a>` : text}${copyButton(id)}</span
  >`;
}

/**
 * The project + environment picker of a page over one project's things (schedules, monitors): the named
 * project of those the member sees (else `default`, else the first), LIVE unless TEST is asked for.
 */
export function pickScope<P extends { id: string; name: string }>(
  query: { project?: string; env?: string },
  visible: P[],
): { project: P | undefined; env: 'LIVE' | 'TEST' } {
  const project =
    visible.find((p) => p.name === query.project) ?? visible.find((p) => p.name === 'default') ?? visible[0];
  return { project, env: query.env === 'TEST' ? 'TEST' : 'LIVE' };
}

/** The form that switches such a page to another project or environment. */
export function scopeForm(
  action: string,
  visible: Array<{ id: string; name: string }>,
  project: { id: string },
  env: 'LIVE' | 'TEST',
): Html {
  return html`<form method="get" action="${action}" class="filters">
    <label
      >Project
      <select name="project">
        ${visible.map((p) => html`<option ${selected(p.id === project.id)}>${p.name}</option>`)}
      </select></label
    >
    <label
      >Environment
      <select name="env">
        ${(['LIVE', 'TEST'] as const).map((e) => html`<option ${selected(e === env)}>${e}</option>`)}
      </select></label
    >
    <button type="submit">Show</button>
  </form>`;
}
