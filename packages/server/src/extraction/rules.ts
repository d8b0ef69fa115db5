import jmespath from 'jmespath';
import { parseHTML } from 'linkedom';
import xpath from 'xpath';
import { ApiError } from '../errors.js';
import { compileSafeRegex, findAll, MAX_MATCHES, type SafeRegex } from './safe-regex.js';
import { invalidRule, type Selector, type Template } from './template.js';
import { castValue, runExtractor, runFormatter, type MatchView, type ValueContext } from './values.js';

/**
 * The rules engine: a checked template (template.ts) compiled once, then run on a document. Pure: no HTTP,
 * no store; time comes from the caller (`now`), so that a run is bounded by its deadline. One engine for
 * /extraction and, later, /scrape?extraction_template= and the crawler.
 */

/** What a query runs on: an HTML node, a JSON value, or text (the result of a regex or an attribute). */
type Context =
  | { kind: 'html'; node: Node; source?: string }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; value: string };

type Match =
  | { kind: 'node'; node: Node }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; value: string }
  | { kind: 'groups'; value: Record<string, string | null> };

type ContextKind = Context['kind'];

interface CompiledRule {
  selector: Selector;
  path: string;
  find(context: Context): Match[];
  nested: CompiledRule[] | undefined;
}

export interface CompiledTemplate {
  source: Template['source'];
  rules: CompiledRule[];
}

export interface RunOptions {
  /** The document's address: links made absolute against it. */
  url?: string | undefined;
  /** Epoch ms after which the run stops with ERR::EXTRACTION::TIMEOUT. */
  deadline: number;
  now: () => number;
}

/** The xpath package types only its classic API; parse() takes the isHtml option linkedom needs. */
interface XPathResult {
  toArray?: () => Node[];
  stringValue(): string;
  numberValue(): number;
  booleanValue(): boolean;
}
interface ParsedXPath {
  evaluate(options: { node: Node; isHtml: boolean }): XPathResult;
}
const parseXPath = (xpath as unknown as { parse(expression: string): ParsedXPath }).parse;
/** jmespath.js exports compile (syntax check without a document); its types list search only. */
const compileJmespath = (jmespath as unknown as { compile(expression: string): unknown }).compile;

const CSS_PSEUDO_TEXT = /::text\s*$/;
const CSS_PSEUDO_ATTR = /::attr\(\s*([^)\s]+)\s*\)\s*$/;

/** An empty document on which css queries are tried when a template is checked. */
let probeDocument: Document | undefined;
const probe = () => (probeDocument ??= parseHTML('<html><body></body></html>').document);

/** Which contexts a query type can read. */
const READS: Record<Selector['type'], ContextKind[]> = {
  css: ['html'],
  xpath: ['html'],
  jmespath: ['json'],
  regex: ['html', 'json', 'text'],
};

/** Checks every query of a template (syntax, and that its type fits where it runs) and compiles it. */
export function compileTemplate(template: Template): CompiledTemplate {
  const root: ContextKind = template.source === 'json' ? 'json' : 'html';
  return { source: template.source, rules: compileRules(template.selectors, 'selectors', root) };
}

function compileRules(selectors: Selector[], path: string, context: ContextKind): CompiledRule[] {
  return selectors.map((selector, index) => compileRule(selector, `${path}[${index}]`, context));
}

function compileRule(selector: Selector, path: string, context: ContextKind): CompiledRule {
  if (!READS[selector.type].includes(context)) {
    const what = context === 'html' ? 'an HTML document or element' : context === 'json' ? 'JSON' : 'text';
    const fits = (Object.keys(READS) as Array<Selector['type']>).filter((type) =>
      READS[type].includes(context),
    );
    throw invalidRule(
      `${path}.type`,
      `a ${selector.type} query cannot read ${what} here (${selector.type === 'jmespath' ? 'jmespath reads JSON documents: set "source": "json"' : 'css and xpath read HTML'}); use ${fits.join(' or ')}`,
    );
  }
  const find = compileQuery(selector, `${path}.query`);
  // What nested rules read: an element stays HTML, a JSON value stays JSON, anything else is text.
  const inner: ContextKind =
    selector.type === 'jmespath' ? 'json' : selector.type === 'regex' ? 'text' : innerOfCss(selector);
  return {
    selector,
    path,
    find,
    nested: selector.nested ? compileRules(selector.nested, `${path}.nested`, inner) : undefined,
  };
}

function innerOfCss(selector: Selector): ContextKind {
  if (
    selector.type === 'css' &&
    (CSS_PSEUDO_TEXT.test(selector.query) || CSS_PSEUDO_ATTR.test(selector.query))
  ) {
    return 'text';
  }
  return 'html';
}

function compileQuery(selector: Selector, path: string): (context: Context) => Match[] {
  const { query } = selector;
  switch (selector.type) {
    case 'css': {
      const attr = CSS_PSEUDO_ATTR.exec(query);
      const text = CSS_PSEUDO_TEXT.test(query);
      const css = query.replace(CSS_PSEUDO_ATTR, '').replace(CSS_PSEUDO_TEXT, '').trim();
      if (css !== '') {
        try {
          probe().querySelectorAll(css);
        } catch (error) {
          throw invalidRule(path, `not a valid CSS selector (${(error as Error).message})`);
        }
      }
      return (context) => {
        if (context.kind !== 'html') return [];
        const elements = css === '' ? [context.node] : selectAll(context.node, css);
        if (attr) {
          const name = attr[1]!;
          return elements
            .filter(
              (element): element is Element =>
                element.nodeType === 1 && (element as Element).hasAttribute(name),
            )
            .map((element) => ({ kind: 'text', value: element.getAttribute(name) ?? '' }));
        }
        if (text) {
          // parsel's ::text: the text nodes that are children of each matched element.
          return elements.flatMap((element) =>
            Array.from(element.childNodes)
              .filter((child) => child.nodeType === 3)
              .map((child) => ({ kind: 'text' as const, value: child.nodeValue ?? '' })),
          );
        }
        return elements.map((node) => ({ kind: 'node', node }));
      };
    }
    case 'xpath': {
      let parsed: ParsedXPath;
      try {
        parsed = parseXPath(query);
      } catch (error) {
        throw invalidRule(path, `not a valid XPath 1.0 expression (${(error as Error).message})`);
      }
      return (context) => {
        if (context.kind !== 'html') return [];
        let result: XPathResult;
        try {
          result = parsed.evaluate({ node: context.node, isHtml: true });
        } catch (error) {
          throw invalidRule(path, `the XPath failed on the document (${(error as Error).message})`);
        }
        if (typeof result.toArray === 'function') {
          return result.toArray().map((node) => ({ kind: 'node', node }));
        }
        const kind = (result as { constructor: { name: string } }).constructor.name;
        const value =
          kind === 'XNumber'
            ? result.numberValue()
            : kind === 'XBoolean'
              ? result.booleanValue()
              : result.stringValue();
        return [{ kind: 'json', value }];
      };
    }
    case 'jmespath': {
      try {
        compileJmespath(query);
      } catch (error) {
        throw invalidRule(path, `not a valid JMESPath expression (${(error as Error).message})`);
      }
      return (context) => {
        if (context.kind !== 'json') return [];
        let value: unknown;
        try {
          value = jmespath.search(context.value, query);
        } catch (error) {
          throw invalidRule(path, `the JMESPath failed on the document (${(error as Error).message})`);
        }
        if (value === null || value === undefined) return [];
        if (selector.multiple && Array.isArray(value))
          return value.map((item: unknown) => ({ kind: 'json', value: item }));
        return [{ kind: 'json', value }];
      };
    }
    case 'regex': {
      let regex: SafeRegex;
      try {
        regex = compileSafeRegex(query, selector.options?.flags ?? '');
      } catch (error) {
        throw invalidRule(
          path,
          `not a valid regular expression for RE2 (${(error as Error).message}); backreferences and look-around are not supported`,
        );
      }
      return (context) =>
        findAll(regex, textOfContext(context)).map((found): Match => {
          if (found.named) return { kind: 'groups', value: found.named };
          return { kind: 'text', value: found.groups.length > 0 ? (found.groups[0] ?? '') : found.match };
        });
    }
  }
}

function selectAll(node: Node, css: string): Node[] {
  const scope = node as ParentNode;
  if (typeof scope.querySelectorAll !== 'function') return [];
  return Array.from(scope.querySelectorAll(css));
}

/** What a regex reads: the HTML source of a node (the document's own text at the root), or the text. */
function textOfContext(context: Context): string {
  if (context.kind === 'text') return context.value;
  if (context.kind === 'json')
    return typeof context.value === 'string' ? context.value : JSON.stringify(context.value);
  if (context.source !== undefined) return context.source;
  return htmlOf(context.node);
}

function htmlOf(node: Node): string {
  if (node.nodeType === 1) return (node as Element).outerHTML;
  if (node.nodeType === 9) return (node as Document).documentElement?.outerHTML ?? '';
  if (node.nodeType === 2) return (node as Attr).value;
  return node.nodeValue ?? node.textContent ?? '';
}

/** A match's value when no extractor or nested rule reads it: HTML of an element, text of the rest. */
function valueOf(match: Match): unknown {
  if (match.kind === 'node') return htmlOf(match.node);
  return match.value;
}

function viewOf(match: Match): MatchView {
  if (match.kind === 'node') {
    const { node } = match;
    const element =
      node.nodeType === 1
        ? (node as Element)
        : node.nodeType === 9
          ? ((node as Document).documentElement ?? undefined)
          : undefined;
    return {
      text: node.nodeType === 2 ? (node as Attr).value : (node.textContent ?? ''),
      // Serialised only when an extractor reads it (most read the text or the element).
      get html() {
        return htmlOf(node);
      },
      element,
    };
  }
  const text = typeof match.value === 'string' ? match.value : JSON.stringify(match.value);
  return { text, html: text, element: undefined };
}

function contextOf(match: Match): Context {
  if (match.kind === 'node') return { kind: 'html', node: match.node };
  if (match.kind === 'json') return { kind: 'json', value: match.value };
  if (match.kind === 'groups') return { kind: 'text', value: JSON.stringify(match.value) };
  return { kind: 'text', value: match.value };
}

class Run {
  constructor(
    private readonly options: RunOptions,
    private readonly values: ValueContext,
  ) {}

  private checkTime(): void {
    if (this.options.now() > this.options.deadline) {
      throw new ApiError(
        'ERR::EXTRACTION::TIMEOUT',
        'The extraction template did not finish within the timeout; raise timeout or make the selectors narrower (fewer matches, smaller regex inputs)',
      );
    }
  }

  rules(rules: CompiledRule[], context: Context): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const rule of rules) data[rule.selector.name] = this.rule(rule, context);
    return data;
  }

  private rule(rule: CompiledRule, context: Context): unknown {
    this.checkTime();
    const { selector } = rule;
    let matches = rule.find(context);
    if (matches.length > MAX_MATCHES) matches = matches.slice(0, MAX_MATCHES);
    if (!selector.multiple) matches = matches.slice(0, 1);
    const items = matches.map((match) => {
      this.checkTime();
      if (rule.nested) return this.rules(rule.nested, contextOf(match));
      if (selector.extractor) return runExtractor(selector.extractor, viewOf(match), this.values);
      return valueOf(match);
    });
    let value: unknown = selector.multiple ? items : (items[0] ?? null);
    for (const formatter of selector.formatters) {
      if (value === null) break;
      value = runFormatter(formatter, value, this.values);
    }
    if (selector.cast && value !== null) value = castValue(selector.cast, value);
    return value;
  }
}

/**
 * linkedom leaves a doctype node unlinked from its next sibling, and the xpath package walks siblings from
 * the document's first child: with `<!doctype html>` kept, every XPath from the root finds nothing.
 */
const LEADING_DOCTYPE = /^(\uFEFF?\s*(?:<!--[^>]*-->\s*)*)<!doctype[^>]*>/i;
function withoutDoctype(document: string): string {
  return document.replace(LEADING_DOCTYPE, '$1');
}

/**
 * Runs a compiled template on a document (its text, already decoded). A `json` template reads the text as
 * JSON; an `html` one parses it with linkedom (any text parses; XML is read as HTML).
 */
export function runTemplate(
  compiled: CompiledTemplate,
  document: string,
  options: RunOptions,
): Record<string, unknown> {
  let root: Context;
  if (compiled.source === 'json') {
    try {
      root = { kind: 'json', value: JSON.parse(document) as unknown };
    } catch (error) {
      throw new ApiError(
        'ERR::EXTRACTION::CONTENT_TYPE_NOT_SUPPORTED',
        `The template reads JSON ("source": "json") but the document is not valid JSON (${(error as Error).message}); send the JSON document, or use an html template`,
      );
    }
  } else {
    root = { kind: 'html', node: parseHTML(withoutDoctype(document)).document, source: document };
  }
  return new Run(options, { baseUrl: options.url }).rules(compiled.rules, root);
}
