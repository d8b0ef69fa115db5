import { parseHTML } from 'linkedom';
import { absoluteUrl } from './values.js';

/**
 * A document made small for a language model: an HTML page becomes markdown of its main content (the
 * `main` or `article` element when there is one; scripts, styles, navigation, footers, asides and forms
 * left out), JSON and text stay as they are, and the result is split into parts within the token budget
 * (estimated at 4 characters a token, the usual ratio for English with GPT-style tokenizers).
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

export interface ChunkedDocument {
  /** The parts, in document order, each within the token budget. */
  chunks: string[];
  /** Whether the document went on past the last part (more than `maxChunks` budgets long). */
  truncated: boolean;
  estimatedTokens: number;
}

/**
 * The reduced document in parts of at most `maxTokens` each, at most `maxChunks` of them: a long document
 * is read part by part (each part asked the same question, the answers merged: merge.ts) instead of being
 * cut to its beginning. Parts end at a paragraph break (else a line break, else a space) in the last fifth
 * of the budget, so that a sentence or a table row is rarely split.
 */
export function chunkDocument(
  text: string,
  kind: 'html' | 'json' | 'text',
  options: { baseUrl: string | undefined; maxTokens: number; maxChunks: number },
): ChunkedDocument {
  const reduced = kind === 'html' ? htmlToMarkdown(text, options.baseUrl) : text.trim();
  const budget = options.maxTokens * CHARACTERS_PER_TOKEN;
  const chunks: string[] = [];
  let start = 0;
  while (start < reduced.length && chunks.length < options.maxChunks) {
    let end = Math.min(reduced.length, start + budget);
    if (end < reduced.length) {
      const window = reduced.slice(start + Math.floor(budget * 0.8), end);
      const cut = [window.lastIndexOf('\n\n'), window.lastIndexOf('\n'), window.lastIndexOf(' ')].find(
        (index) => index >= 0,
      );
      if (cut !== undefined) end = start + Math.floor(budget * 0.8) + cut + 1;
    }
    const chunk = reduced.slice(start, end).trim();
    if (chunk) chunks.push(chunk);
    start = end;
  }
  const truncated = start < reduced.length && reduced.slice(start).trim().length > 0;
  return {
    chunks,
    truncated,
    estimatedTokens: chunks.reduce((sum, chunk) => sum + estimateTokens(chunk), 0),
  };
}
