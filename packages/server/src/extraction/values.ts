import { parseHTML } from 'linkedom';
import { compileSafeRegex, findAll } from './safe-regex.js';
import type { CastName, Extractor, Formatter } from './template.js';

/**
 * What a rule does to what its query matched: extractors (run first, on each match), formatters (in
 * order, on the value) and cast (last). Every function here is pure; docs/compat.md lists what each does.
 */

/** A match as the extractors see it: its text, its HTML and, for HTML, its element. */
export interface MatchView {
  text: string;
  html: string;
  element: Element | undefined;
}

/** Context of a run: the document's address, to make links absolute. */
export interface ValueContext {
  baseUrl: string | undefined;
}

// Digits with `.`/`,` marks, or groups of three after a space or apostrophe (`1 299`, `1'299`): each group
// starts with its own separator, so matching stays linear.
const NUMBER = /[-+]?\d+(?:[.,]\d+|[\s\u00a0\u202f']\d{3}(?!\d))*/;

/**
 * A number as written on a page: `1,299.99`, `1.299,99`, `1 299,99`, `12`. The last of `.` and `,` is the
 * decimal mark when both appear; a lone one is a decimal mark when one or two digits follow it once.
 */
export function parseLocalizedNumber(text: string): number | null {
  const found = NUMBER.exec(text);
  if (!found) return null;
  let raw = found[0].replace(/[\s\u00a0\u202f']/g, '');
  const lastDot = raw.lastIndexOf('.');
  const lastComma = raw.lastIndexOf(',');
  let decimal: string | undefined;
  if (lastDot >= 0 && lastComma >= 0) decimal = lastDot > lastComma ? '.' : ',';
  else if (lastDot >= 0 || lastComma >= 0) {
    const mark = lastDot >= 0 ? '.' : ',';
    const parts = raw.split(mark);
    decimal = parts.length === 2 && parts[1]!.length <= 2 ? mark : undefined;
  }
  const thousands = decimal === '.' ? ',' : decimal === ',' ? '.' : /[.,]/;
  raw = raw.split(thousands).join('');
  if (decimal === ',') raw = raw.replace(',', '.');
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}

const CURRENCY_SYMBOLS: Record<string, string> = {
  $: 'USD',
  US$: 'USD',
  '€': 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  '₹': 'INR',
  '₩': 'KRW',
  '₽': 'RUB',
  '₺': 'TRY',
  '₪': 'ILS',
  '฿': 'THB',
  R$: 'BRL',
  CHF: 'CHF',
  zł: 'PLN',
  kr: 'SEK',
};
const CURRENCY_CODE =
  /\b(USD|EUR|GBP|JPY|CNY|INR|CAD|AUD|CHF|SEK|NOK|DKK|PLN|BRL|MXN|KRW|RUB|TRY|ZAR|NZD|SGD|HKD)\b/;

/** `price`: the first amount in the text and its currency (ISO 4217 code), or null without an amount. */
export function extractPrice(text: string): { amount: number; currency: string | null; raw: string } | null {
  const amount = parseLocalizedNumber(text);
  if (amount === null) return null;
  const code = CURRENCY_CODE.exec(text)?.[1];
  const symbol = Object.keys(CURRENCY_SYMBOLS)
    .sort((a, b) => b.length - a.length)
    .find((candidate) => text.includes(candidate));
  return {
    amount,
    currency: code ?? (symbol ? CURRENCY_SYMBOLS[symbol]! : null),
    raw: text.replace(/\s+/g, ' ').trim(),
  };
}

// Linear-time patterns (RE2) for scanning text of any shape.
const EMAIL = compileSafeRegex('[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}');
const PHONE = compileSafeRegex('\\+?\\(?\\d[\\d\\s().-]{5,}\\d');
const URL_IN_TEXT = compileSafeRegex('https?://[^\\s"\'<>]+');

export function absoluteUrl(value: string, baseUrl: string | undefined): string {
  try {
    return new URL(value.trim(), baseUrl).href;
  } catch {
    return value;
  }
}

const unique = <T>(values: T[]): T[] => {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

function elementsOf(view: MatchView, selector: string): Element[] {
  const root = view.element ?? parseHTML(`<html><body>${view.html}</body></html>`).document.body;
  if (!root) return [];
  const own = root.matches?.(selector) ? [root] : [];
  return [...own, ...Array.from(root.querySelectorAll(selector))];
}

function imageOf(element: Element, context: ValueContext) {
  const source =
    element.getAttribute('src') ?? element.getAttribute('data-src') ?? element.getAttribute('srcset');
  if (!source) return null;
  return {
    url: absoluteUrl(source.split(/\s+/)[0]!, context.baseUrl),
    alt: element.getAttribute('alt'),
  };
}

/** Runs an extractor on one match. */
export function runExtractor(extractor: Extractor, view: MatchView, context: ValueContext): unknown {
  switch (extractor.name) {
    case 'text':
      return view.text.replace(/\s+/g, ' ').trim();
    case 'price':
      return extractPrice(view.text);
    case 'image':
      return (
        elementsOf(view, 'img')
          .map((image) => imageOf(image, context))
          .find(Boolean) ?? null
      );
    case 'images':
      return unique(
        elementsOf(view, 'img')
          .map((image) => imageOf(image, context))
          .filter(Boolean),
      );
    case 'links': {
      const anchors = elementsOf(view, 'a[href]').map((anchor) => ({
        url: absoluteUrl(anchor.getAttribute('href') ?? '', context.baseUrl),
        text: (anchor.textContent ?? '').replace(/\s+/g, ' ').trim(),
      }));
      if (anchors.length > 0 || view.element) return unique(anchors);
      return unique(findAll(URL_IN_TEXT, view.text).map((found) => ({ url: found.match, text: '' })));
    }
    case 'emails': {
      const mailto = elementsOf(view, 'a[href^="mailto:" i]').map((anchor) =>
        decodeURIComponent((anchor.getAttribute('href') ?? '').slice(7).split('?')[0]!),
      );
      return unique([...mailto, ...findAll(EMAIL, view.text).map((found) => found.match)]).map((email) =>
        email.toLowerCase(),
      );
    }
    case 'phone_numbers': {
      const tel = elementsOf(view, 'a[href^="tel:" i]').map((anchor) =>
        (anchor.getAttribute('href') ?? '').slice(4),
      );
      const numbers = [...tel, ...findAll(PHONE, view.text).map((found) => found.match)]
        .map((phone) => phone.replace(/[^\d+]/g, ''))
        .filter((phone) => {
          const digits = phone.replace(/\D/g, '').length;
          return digits >= 7 && digits <= 15;
        });
      return unique(numbers);
    }
  }
}

const onStrings =
  (transform: (text: string) => unknown) =>
  (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? transform(item) : item));
    return typeof value === 'string' ? transform(value) : value;
  };

function htmlToText(html: string): string {
  if (!/[<&]/.test(html)) return html;
  const { document } = parseHTML(`<html><body>${html}</body></html>`);
  return (document.body?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function parseDate(text: string): Date | null {
  const time = Date.parse(text.trim());
  return Number.isNaN(time) ? null : new Date(time);
}

/** Applies one formatter to a rule's value (a list with `multiple`: each item, or the list itself). */
export function runFormatter(formatter: Formatter, value: unknown, context: ValueContext): unknown {
  switch (formatter.name) {
    case 'lowercase':
      return onStrings((text) => text.toLowerCase())(value);
    case 'uppercase':
      return onStrings((text) => text.toUpperCase())(value);
    case 'capitalize':
      return onStrings((text) => text.charAt(0).toUpperCase() + text.slice(1))(value);
    case 'trim':
      return onStrings((text) => text.trim())(value);
    case 'remove_whitespace':
      return onStrings((text) => text.replace(/\s+/g, ' ').trim())(value);
    case 'remove_html':
      return onStrings(htmlToText)(value);
    case 'absolute_url':
      return onStrings((text) => absoluteUrl(text, context.baseUrl))(value);
    case 'datetime':
      return onStrings((text) => parseDate(text)?.toISOString() ?? null)(value);
    case 'date':
      return onStrings((text) => parseDate(text)?.toISOString().slice(0, 10) ?? null)(value);
    case 'number':
      return onStrings(parseLocalizedNumber)(value);
    case 'unique':
      return Array.isArray(value) ? unique(value) : value;
    case 'join': {
      const separator = typeof formatter.args?.separator === 'string' ? formatter.args.separator : ' ';
      return Array.isArray(value) ? value.map((item) => castValue('string', item)).join(separator) : value;
    }
    case 'first':
      return Array.isArray(value) ? (value[0] ?? null) : value;
    case 'last':
      return Array.isArray(value) ? (value.at(-1) ?? null) : value;
  }
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'n', '']);

/** Casts one value; what cannot be cast is null (never an error: pages vary). Lists cast each item. */
export function castValue(cast: CastName, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => castValue(cast, item));
  if (value === null || value === undefined) return null;
  switch (cast) {
    case 'string':
    case 'str':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'int':
    case 'integer': {
      const number = typeof value === 'number' ? value : parseLocalizedNumber(String(value));
      return number === null ? null : Math.trunc(number);
    }
    case 'float':
    case 'number':
      return typeof value === 'number' ? value : parseLocalizedNumber(String(value));
    case 'bool':
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const word = String(value).trim().toLowerCase();
      return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : null;
    }
  }
}
