import { devicePresets } from '../engine/devices.js';
import { PDF_PAPER_NAMES } from '../engine/pdf.js';
import { FORMATS, LIMITS, OPTIONS, VISION_DEFICIENCIES } from '../request/screenshot-request.js';
import { html, raw, type Html } from './html.js';
import type { Form } from './session.js';

/**
 * How the playground shows each parameter of GET /screenshot: a select for a closed list of values, a
 * checkbox for a boolean, a number box for a number, text otherwise; the parameter's description under it,
 * and a refused value's reason next to it. A parameter not named here is a text box (so a parameter added
 * to the API appears at once, with its description).
 */
export type FieldKind =
  | { kind: 'select'; values: readonly string[]; fallback: string }
  /** A boolean whose default is false: ticked sends `true`, unticked sends nothing. */
  | { kind: 'checkbox' }
  /** A boolean whose default is not simply "off": default, true or false. */
  | { kind: 'choice'; fallback: string }
  /** A comma list of known values: one checkbox each (`options[dark_mode]`). */
  | { kind: 'checks'; values: readonly string[] }
  | { kind: 'number'; min?: number; max?: number; step?: number | 'any'; fallback: string }
  /** Free text with suggestions (a datalist). */
  | { kind: 'suggest'; values: readonly string[]; placeholder: string }
  /** One value per line, sent as the parameter repeated. */
  | { kind: 'lines'; placeholder: string }
  | { kind: 'script' }
  /** Free text of several lines (a document, a JSON template, a prompt), sent as typed. */
  | { kind: 'textarea'; placeholder?: string; rows?: number }
  | { kind: 'text'; placeholder?: string; required?: boolean };

export function fieldKinds(maxTimeoutMs: number): Record<string, FieldKind> {
  return {
    url: { kind: 'text', placeholder: 'https://example.com', required: true },
    format: { kind: 'select', values: FORMATS, fallback: 'jpg' },
    capture: {
      kind: 'suggest',
      values: ['viewport', 'fullpage', 'vertical'],
      placeholder: 'viewport, fullpage, vertical, #selector or //xpath',
    },
    resolution: { kind: 'text', placeholder: '1920x1080' },
    country: { kind: 'text', placeholder: 'us' },
    timeout: {
      kind: 'number',
      min: LIMITS.minTimeoutMs,
      max: maxTimeoutMs,
      step: 1,
      fallback: String(LIMITS.defaultTimeoutMs),
    },
    rendering_wait: {
      kind: 'number',
      min: 0,
      max: LIMITS.maxRenderingWaitMs,
      step: 1,
      fallback: String(LIMITS.defaultRenderingWaitMs),
    },
    wait_for_selector: { kind: 'text', placeholder: '#content' },
    options: { kind: 'checks', values: OPTIONS },
    auto_scroll: { kind: 'checkbox' },
    js: { kind: 'script' },
    cache: { kind: 'checkbox' },
    cache_ttl: {
      kind: 'number',
      min: 1,
      max: LIMITS.maxCacheTtlSeconds,
      step: 1,
      fallback: String(LIMITS.defaultCacheTtlSeconds),
    },
    cache_clear: { kind: 'checkbox' },
    vision_deficiency: { kind: 'select', values: VISION_DEFICIENCIES, fallback: 'none' },
    webhook_name: { kind: 'text' },
    cookies: { kind: 'lines', placeholder: 'session=abc; Path=/' },
    device_scale_factor: { kind: 'number', step: 'any', fallback: '1' },
    viewport_device: {
      kind: 'select',
      values: devicePresets().map((device) => device.name),
      fallback: 'none',
    },
    hide_selectors: { kind: 'text', placeholder: '#cookie-banner,.ads' },
    click: { kind: 'text', placeholder: 'button.accept' },
    omit_background: { kind: 'checkbox' },
    pdf_paper: { kind: 'select', values: PDF_PAPER_NAMES, fallback: 'a4' },
    pdf_landscape: { kind: 'checkbox' },
    pdf_print_background: { kind: 'choice', fallback: 'true' },
    timezone: { kind: 'text', placeholder: 'Europe/Paris' },
    geolocation: { kind: 'text', placeholder: '48.8584,2.2945' },
  };
}

const TEXT: FieldKind = { kind: 'text' };

/** The value a form gives a parameter, as the API takes it (undefined: leave it out, the default applies). */
export function formValue(name: string, kind: FieldKind = TEXT, form: Form): string | string[] | undefined {
  if (kind.kind === 'checks') {
    const ticked = kind.values.filter((value) => form[`${name}[${value}]`] === 'true');
    return ticked.length ? ticked.join(',') : undefined;
  }
  const value = form[name]?.trim();
  if (!value) return undefined;
  if (kind.kind === 'lines') {
    const lines = value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean);
    return lines.length > 1 ? lines : lines[0];
  }
  return value;
}

/** Names a reason may use for a parameter besides its own (`The cookie "x" has …` is about cookies). */
const ALIASES: Record<string, RegExp> = {
  cookies: /\bcookies?\b/,
  webhook_name: /\bwebhook\b/,
  // The rules engine names the template itself (`Rule template: not valid JSON ...`).
  extraction_template: /\b(extraction_)?template\b/,
};

/**
 * The parameter a refusal is about, so that its reason shows next to that field: the first of the sent
 * parameters the reason names. undefined when it names none (the reason then shows above the form).
 */
export function fieldOfError(reason: string, sent: string[]): string | undefined {
  let best: { name: string; at: number } | undefined;
  for (const name of sent) {
    const pattern = ALIASES[name] ?? new RegExp(`\\b${name}\\b`);
    const at = reason.search(pattern);
    if (at >= 0 && (!best || at < best.at)) best = { name, at };
  }
  return best?.name;
}

export interface FieldOptions {
  name: string;
  description: string;
  kind: FieldKind | undefined;
  form: Form;
  /** The reason this parameter was refused, shown beside it. */
  error?: string | undefined;
}

/** Boxes of several lines: the field takes the form's whole width. */
const MULTILINE = new Set<FieldKind['kind']>(['lines', 'script', 'textarea']);

function placeholderOf(kind: FieldKind): string | undefined {
  if (kind.kind === 'lines') return `${kind.placeholder} (one per line)`;
  if (kind.kind === 'script') return "document.querySelector('h1').remove()";
  return 'placeholder' in kind ? kind.placeholder : kind.kind === 'number' ? kind.fallback : undefined;
}

/** The control itself; `common` carries its id, name and accessibility attributes. */
function controlOf(kind: FieldKind, name: string, value: string, form: Form, common: Html): Html {
  const placeholder = placeholderOf(kind);
  const hint = placeholder ? html`placeholder="${placeholder}"` : '';
  switch (kind.kind) {
    case 'select':
    case 'choice': {
      const values = kind.kind === 'select' ? kind.values : ['true', 'false'];
      return html`<select ${common}>
        <option value="">default (${kind.fallback})</option>
        ${values.map(
          (option) =>
            html`<option value="${option}" ${option === value ? raw('selected') : ''}>${option}</option>`,
        )}
        ${value && !values.includes(value) ? html`<option value="${value}" selected>${value}</option>` : ''}
      </select>`;
    }
    case 'checkbox':
      return html`<label class="check"
        ><input type="checkbox" value="true" ${common} ${value === 'true' ? raw('checked') : ''} /><code
          >${name}</code
        ></label
      >`;
    case 'checks':
      return html`<div class="checks">
        ${kind.values.map(
          (option) =>
            html`<label
              ><input
                type="checkbox"
                name="${name}[${option}]"
                value="true"
                ${form[`${name}[${option}]`] === 'true' ? raw('checked') : ''}
              />${option}</label
            >`,
        )}
      </div>`;
    case 'number':
      return html`<input
        type="number"
        value="${value}"
        ${hint}
        ${kind.min !== undefined ? html`min="${kind.min}"` : ''}
        ${kind.max !== undefined ? html`max="${kind.max}"` : ''}
        step="${kind.step ?? 1}"
        ${common}
      />`;
    case 'suggest':
      return html`<input type="text" value="${value}" list="field-${name}-values" ${hint} ${common} />
        <datalist id="field-${name}-values">
          ${kind.values.map((option) => html`<option value="${option}"></option>`)}
        </datalist>`;
    case 'lines':
    case 'script':
    case 'textarea':
      return html`<textarea rows="${kind.kind === 'textarea' ? (kind.rows ?? 6) : 3}" ${hint} ${common}>
${value}</textarea>`;
    case 'text':
      return html`<input
        type="text"
        value="${value}"
        ${hint}
        ${kind.required ? raw('required') : ''}
        ${common}
      />`;
  }
}

/**
 * One field, whatever its kind: its label (a legend for a group of checkboxes; a checkbox labels itself),
 * the control, the reason it was refused next to it, and its help text under it.
 */
export function renderField({ name, description, kind = TEXT, form, error }: FieldOptions): Html {
  const id = `field-${name}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = error ? `${errorId} ${helpId}` : helpId;
  const group = kind.kind === 'checks';
  const common = group
    ? html``
    : html`id="${id}" name="${name}" aria-describedby="${describedBy}"
      ${error ? raw('aria-invalid="true"') : ''}`;
  const required = name === 'url' || (kind.kind === 'text' && kind.required);
  const label =
    kind.kind === 'checkbox'
      ? ''
      : group
        ? html`<legend><code>${name}</code></legend>`
        : html`<label for="${id}"><code>${name}</code>${required ? ' (required)' : ''}</label>`;
  const wide = name === 'url' || name === 'cookies' || MULTILINE.has(kind.kind);
  const classes = `field${error ? ' invalid' : ''}${wide ? ' wide' : ''}`;
  const tag = raw(group ? 'fieldset' : 'div');
  return html`<${tag} class="${classes}" data-field="${name}" ${group ? html`aria-describedby="${describedBy}"` : ''}>
    ${label}${controlOf(kind, name, form[name] ?? '', form, common)}
    ${error ? html`<p class="field-error" id="${errorId}" role="alert">${error}</p>` : ''}
    <p class="help" id="${helpId}">${description}</p>
    ${
      kind.kind === 'script'
        ? html`<p class="help">Type plain JavaScript: the playground encodes it (base64url) for you.</p>`
        : ''
    }
  </${tag}>`;
}

/** A tab's fields, one renderField each, the refused one (if any) with its reason next to it. */
export function fieldsView(
  fields: ReadonlyArray<{ name: string; kind: FieldKind; description: string }>,
  form: Form,
  refused: { field: string | undefined; reason: string | undefined },
): Html {
  return html`<div class="fields">
    ${fields.map(({ name, kind, description }) =>
      renderField({
        name,
        description,
        kind,
        form,
        error: name === refused.field ? refused.reason : undefined,
      }),
    )}
  </div>`;
}
