import { parseHTML } from 'linkedom';
import { absoluteUrl } from './values.js';

/**
 * A document made small for a language model: an HTML page becomes markdown of its main content (the
 * `main` or `article` element when there is one; scripts, styles, navigation, footers, asides and forms
 * left out), JSON and text stay as they are, and the result is cut to the token budget (estimated at 4
 * characters a token, the usual ratio for English with GPT-style tokenizers).
 */

export const CHARACTERS_PER_TOKEN = 4;

const DROPPED = 'script, style, noscript, template, svg, canvas, iframe, nav, footer, aside, form, head';
const BLOCKS = new Set([
  'P',
  'DIV',
  'SECTION',
  'ARTICLE',
  'MAIN',
  'HEADER',
  'BLOCKQUOTE',
  'PRE',
  'TABLE',
  'UL',
  'OL',
  'DL',
  'FIGURE',
]);

export interface ReducedDocument {
  text: string;
  /** Whether the budget cut the document. */
  truncated: boolean;
  estimatedTokens: number;
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

/** Markdown of an HTML document's main content. */
export function htmlToMarkdown(html: string, baseUrl: string | undefined): string {
  const { document } = parseHTML(html);
  for (const element of Array.from(document.querySelectorAll(DROPPED))) element.remove();
  const root =
    document.querySelector('main') ??
    document.querySelector('article') ??
    document.body ??
    document.documentElement;
  if (!root) return html;
  const title = document.querySelector('title')?.textContent?.trim();
  const out: string[] = [];
  const walk = (node: Node): string => {
    if (node.nodeType === 3) return (node.nodeValue ?? '').replace(/\s+/g, ' ');
    if (node.nodeType !== 1) return '';
    const element = node as Element;
    const inner = () => Array.from(element.childNodes).map(walk).join('');
    const tag = element.tagName.toUpperCase();
    const heading = /^H([1-6])$/.exec(tag);
    if (heading) return `\n\n${'#'.repeat(Number(heading[1]))} ${inner().trim()}\n\n`;
    if (tag === 'BR') return '\n';
    if (tag === 'LI') return `\n- ${inner().trim()}`;
    if (tag === 'TR')
      return `\n| ${Array.from(element.children)
        .map((cell) => walk(cell).trim())
        .join(' | ')} |`;
    if (tag === 'A') {
      const text = inner().trim();
      const href = element.getAttribute('href');
      return href && text && !href.startsWith('javascript:')
        ? `[${text}](${absoluteUrl(href, baseUrl)})`
        : text;
    }
    if (tag === 'IMG') {
      const alt = element.getAttribute('alt');
      return alt ? `![${alt}]` : '';
    }
    if (BLOCKS.has(tag)) return `\n\n${inner().trim()}\n\n`;
    return inner();
  };
  if (title) out.push(`Title: ${title}\n\n`);
  out.push(walk(root));
  return out
    .join('')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The document as the model reads it, within `maxTokens`. */
export function reduceDocument(
  text: string,
  kind: 'html' | 'json' | 'text',
  options: { baseUrl: string | undefined; maxTokens: number },
): ReducedDocument {
  const reduced = kind === 'html' ? htmlToMarkdown(text, options.baseUrl) : text.trim();
  const maxCharacters = options.maxTokens * CHARACTERS_PER_TOKEN;
  const truncated = reduced.length > maxCharacters;
  const kept = truncated ? reduced.slice(0, maxCharacters) : reduced;
  return { text: kept, truncated, estimatedTokens: estimateTokens(kept) };
}
