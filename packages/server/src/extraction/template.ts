import { z } from 'zod';
import { ApiError } from '../errors.js';

/**
 * Scrapfly's extraction template (rules format), as Snapwire accepts it: docs/compat.md "Extraction API".
 * A template is checked whole before it runs; a malformed rule is a 400 naming its path in the template
 * (`selectors[2].nested[0].query`), so that a user finds the line to fix.
 */

export const SELECTOR_TYPES = ['css', 'xpath', 'jmespath', 'regex'] as const;
export const FORMATTER_NAMES = [
  'lowercase',
  'uppercase',
  'capitalize',
  'trim',
  'remove_whitespace',
  'remove_html',
  'absolute_url',
  'unique',
  'datetime',
  'date',
  'number',
  'join',
  'first',
  'last',
] as const;
export const EXTRACTOR_NAMES = [
  'price',
  'image',
  'images',
  'links',
  'emails',
  'phone_numbers',
  'text',
] as const;
export const CAST_NAMES = ['string', 'str', 'int', 'integer', 'float', 'number', 'bool', 'boolean'] as const;

export type SelectorType = (typeof SELECTOR_TYPES)[number];
export type FormatterName = (typeof FORMATTER_NAMES)[number];
export type ExtractorName = (typeof EXTRACTOR_NAMES)[number];
export type CastName = (typeof CAST_NAMES)[number];

/** Limits that keep one template's work bounded (docs/compat.md). */
export const TEMPLATE_LIMITS = {
  /** Selectors at one level, and levels of `nested`. */
  maxSelectors: 200,
  maxDepth: 8,
  maxQueryLength: 4_000,
  /** Template JSON as received (decoded), in bytes. */
  maxTemplateBytes: 64 * 1024,
} as const;

const args = z.record(z.string(), z.unknown()).optional();

export interface Formatter {
  name: FormatterName;
  args?: Record<string, unknown> | undefined;
}

export interface Extractor {
  name: ExtractorName;
  args?: Record<string, unknown> | undefined;
}

export interface Selector {
  name: string;
  type: SelectorType;
  query: string;
  multiple: boolean;
  cast?: CastName | undefined;
  formatters: Formatter[];
  extractor?: Extractor | undefined;
  nested?: Selector[] | undefined;
  /** regex: flags among i, m, s (RE2 syntax). */
  options?: { flags?: string | undefined } | undefined;
}

export interface Template {
  source: 'html' | 'json';
  name?: string | undefined;
  selectors: Selector[];
}

const formatterSchema = z.strictObject({ name: z.enum(FORMATTER_NAMES), args });
const extractorSchema = z.strictObject({ name: z.enum(EXTRACTOR_NAMES), args });

const selectorSchema: z.ZodType<Selector> = z.lazy(() =>
  z.strictObject({
    name: z.string().min(1).max(100),
    type: z.enum(SELECTOR_TYPES),
    query: z.string().min(1).max(TEMPLATE_LIMITS.maxQueryLength),
    multiple: z.boolean().default(false),
    cast: z.enum(CAST_NAMES).optional(),
    formatters: z.array(formatterSchema).max(20).default([]),
    extractor: extractorSchema.optional(),
    nested: z.array(selectorSchema).min(1).max(TEMPLATE_LIMITS.maxSelectors).optional(),
    options: z
      .strictObject({
        flags: z
          .string()
          .regex(/^[ims]*$/, 'regex flags are among i (ignore case), m (multi-line), s (dot matches newline)')
          .optional(),
      })
      .optional(),
  }),
);

const templateSchema = z.strictObject({
  source: z.enum(['html', 'json']).default('html'),
  name: z.string().max(200).optional(),
  version: z.string().max(100).optional(),
  description: z.string().max(2_000).optional(),
  // Scrapfly uses it to pick a saved template by URL; an explicit template ignores it.
  match: z.record(z.string(), z.unknown()).optional(),
  selectors: z.array(selectorSchema).min(1).max(TEMPLATE_LIMITS.maxSelectors),
});

/** A path in the template as a user reads it: `selectors[2].nested[0].query`. */
export function templatePath(path: ReadonlyArray<PropertyKey>): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text || 'template';
}

/** A malformed rule: 400 naming where it is in the template. */
export function invalidRule(path: ReadonlyArray<PropertyKey> | string, problem: string): ApiError {
  const where = typeof path === 'string' ? path : templatePath(path);
  return new ApiError(
    'ERR::EXTRACTION::INVALID_RULE',
    `The extraction template is not valid at ${where}: ${problem}`,
  );
}

/** Checks a template's shape (not yet its queries: see compileTemplate in rules.ts). */
export function parseTemplate(value: unknown): Template {
  const parsed = templateSchema.safeParse(value);
  if (!parsed.success) {
    // A misspelt field explains the rest ("qurey" also leaves query missing): name it first.
    const issues = parsed.error.issues;
    const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path;
    const problem =
      issue.code === 'unrecognized_keys'
        ? `unknown field "${keys[0]}" (a selector takes name, type, query, multiple, cast, formatters, extractor, nested, options)`
        : issue.code === 'invalid_type' && issue.input === undefined
          ? `required (${issue.expected})`
          : issue.message;
    throw invalidRule(path, problem);
  }
  const template = parsed.data;
  checkDepth(template.selectors, ['selectors'], 1);
  return { source: template.source, name: template.name, selectors: template.selectors };
}

function checkDepth(selectors: Selector[], path: PropertyKey[], depth: number): void {
  selectors.forEach((selector, index) => {
    if (!selector.nested) return;
    const here = [...path, index, 'nested'];
    if (depth >= TEMPLATE_LIMITS.maxDepth) {
      throw invalidRule(here, `nested deeper than ${TEMPLATE_LIMITS.maxDepth} levels`);
    }
    checkDepth(selector.nested, here, depth + 1);
  });
}

/** The JSON text of a template (a saved one, or an ephemeral one once decoded), parsed and checked. */
export function parseTemplateJson(text: string): Template {
  if (Buffer.byteLength(text, 'utf8') > TEMPLATE_LIMITS.maxTemplateBytes) {
    throw invalidRule('template', `larger than ${TEMPLATE_LIMITS.maxTemplateBytes / 1024} KB`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidRule('template', `not valid JSON (${(error as Error).message})`);
  }
  return parseTemplate(value);
}
