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

/** One labelled field with its help text under it and, when refused, the reason next to it. */
export function renderField({ name, description, kind = TEXT, form, error }: FieldOptions): Html {
  const id = `field-${name}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = error ? `${errorId} ${helpId}` : helpId;
  const invalid = error ? raw('aria-invalid="true"') : '';
  const value = form[name] ?? '';
  const help = html`<p class="help" id="${helpId}">${description}</p>`;
  const problem = error ? html`<p class="field-error" id="${errorId}" role="alert">${error}</p>` : '';
  const classes = `field${error ? ' invalid' : ''}${['url', 'js', 'cookies'].includes(name) ? ' wide' : ''}`;
  const label = html`<label for="${id}"><code>${name}</code>${name === 'url' ? ' (required)' : ''}</label>`;

  switch (kind.kind) {
    case 'select':
    case 'choice': {
      const values = kind.kind === 'select' ? kind.values : ['true', 'false'];
      return html`<div class="${classes}" data-field="${name}">
        ${label}
        <select id="${id}" name="${name}" aria-describedby="${describedBy}" ${invalid}>
          <option value="">default (${kind.fallback})</option>
          ${values.map(
            (option) =>
              html`<option value="${option}" ${option === value ? raw('selected') : ''}>${option}</option>`,
          )}
          ${value && !values.includes(value) ? html`<option value="${value}" selected>${value}</option>` : ''}
        </select>
        ${problem}${help}
      </div>`;
    }
    case 'checkbox':
      return html`<div class="${classes}" data-field="${name}">
        <label class="check" for="${id}"
          ><input
            type="checkbox"
            id="${id}"
            name="${name}"
            value="true"
            aria-describedby="${describedBy}"
            ${value === 'true' ? raw('checked') : ''}
            ${invalid}
          /><code>${name}</code></label
        >
        ${problem}${help}
      </div>`;
    case 'checks':
      return html`<fieldset class="${classes}" data-field="${name}" aria-describedby="${describedBy}">
        <legend><code>${name}</code></legend>
        <div class="checks">
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
        </div>
        ${problem}${help}
      </fieldset>`;
    case 'number':
      return html`<div class="${classes}" data-field="${name}">
        ${label}
        <input
          type="number"
          id="${id}"
          name="${name}"
          value="${value}"
          placeholder="${kind.fallback}"
          ${kind.min !== undefined ? html`min="${kind.min}"` : ''}
          ${kind.max !== undefined ? html`max="${kind.max}"` : ''}
          step="${kind.step ?? 1}"
          aria-describedby="${describedBy}"
          ${invalid}
        />
        ${problem}${help}
      </div>`;
    case 'suggest':
      return html`<div class="${classes}" data-field="${name}">
        ${label}
        <input
          type="text"
          id="${id}"
          name="${name}"
          value="${value}"
          list="${id}-values"
          placeholder="${kind.placeholder}"
          aria-describedby="${describedBy}"
          ${invalid}
        />
        <datalist id="${id}-values">
          ${kind.values.map((option) => html`<option value="${option}"></option>`)}
        </datalist>
        ${problem}${help}
      </div>`;
    case 'lines':
    case 'script':
      return html`<div class="${classes}" data-field="${name}">
        ${label}
        <textarea
          id="${id}"
          name="${name}"
          rows="3"
          placeholder="${kind.kind === 'lines' ? `${kind.placeholder} (one per line)` : "document.querySelector('h1').remove()"}"
          aria-describedby="${describedBy}"
          ${invalid}
        >
${value}</textarea>
        ${problem}${help}
        ${
          kind.kind === 'script'
            ? html`<p class="help">Type plain JavaScript: the playground encodes it (base64url) for you.</p>`
            : ''
        }
      </div>`;
    case 'text':
      return html`<div class="${classes}" data-field="${name}">
        ${label}
        <input
          type="text"
          id="${id}"
          name="${name}"
          value="${value}"
          ${kind.placeholder ? html`placeholder="${kind.placeholder}"` : ''}
          ${kind.required ? raw('required') : ''}
          aria-describedby="${describedBy}"
          ${invalid}
        />
        ${problem}${help}
      </div>`;
  }
}
