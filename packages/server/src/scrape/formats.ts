import { Readability } from '@mozilla/readability';
import { gfm } from '@joplin/turndown-plugin-gfm';
import { convert as htmlToText, type SelectorDefinition } from 'html-to-text';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';
import { ApiError } from '../errors.js';
import type { ScrapeFormat, ScrapeFormatOption } from '../request/scrape-request.js';

/**
 * The scrape's `format` (docs/compat.md, Web Scraping API): raw (the body as served), text, markdown,
 * clean_html and json, with the options no_links, no_images and only_content. HTML is parsed with linkedom;
 * links and images become absolute against the final URL (or the page's <base href>) before any conversion.
 */

export interface UpstreamBody {
  bytes: Buffer;
  /** The target's Content-Type header, if any. */
  contentType: string | undefined;
  /** The final URL, for absolute links. */
  url: string;
}

export interface FormattedContent {
  content: string;
  /**
   * What the SDKs read in result.format: text, or binary (base64 in `content`); clob or blob when a large
   * content was kept aside and `content` is its URL (large-content.ts).
   */
  format: 'text' | 'binary' | 'clob' | 'blob';
  contentEncoding: 'utf-8' | 'base64';
  /** The content's own type: the target's for raw, the converted one's otherwise. */
  contentType: string;
}

const TEXTUAL_TYPES =
  /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ecmascript|x-javascript|x-www-form-urlencoded|ld\+json|rss\+xml|atom\+xml)|image\/svg\+xml|[a-z]+\/[a-z0-9.+-]*\+(json|xml)\b)/i;
const JSON_TYPES = /^(application\/([a-z0-9.+-]*\+)?json|text\/json)\b/i;
const HTML_TYPES = /^(text\/html|application\/xhtml\+xml)\b/i;

export function formatContent(
  body: UpstreamBody,
  format: ScrapeFormat,
  options: readonly ScrapeFormatOption[],
): FormattedContent {
  const kind = classify(body);
  if (kind === 'binary') {
    if (format !== 'raw') {
      throw new ApiError(
        'ERR::SCRAPE::FORMAT_NOT_SUPPORTED',
        `format=${format} needs a text answer, but the target answered ${body.contentType ?? 'binary content'}; use format=raw (the bytes, base64-encoded)`,
      );
    }
    return {
      content: body.bytes.toString('base64'),
      format: 'binary',
      contentEncoding: 'base64',
      contentType: body.contentType ?? 'application/octet-stream',
    };
  }
  const text = decode(body.bytes, body.contentType);
  const textResult = (content: string, contentType: string): FormattedContent => ({
    content,
    format: 'text',
    contentEncoding: 'utf-8',
    contentType,
  });
  switch (format) {
    case 'raw':
      return textResult(text, body.contentType ?? 'text/plain; charset=utf-8');
    case 'json':
      if (kind !== 'json' && !looksLikeJson(text)) {
        throw new ApiError(
          'ERR::SCRAPE::FORMAT_NOT_SUPPORTED',
          `format=json needs a JSON answer, but the target answered ${body.contentType ?? 'content that is not JSON'}; use format=raw, markdown or text`,
        );
      }
      return textResult(text, 'application/json');
    case 'text':
      return textResult(
        kind === 'html' ? htmlAsText(prepare(text, body.url, options), options) : text,
        'text/plain; charset=utf-8',
      );
    case 'markdown':
      return textResult(
        kind === 'html' ? htmlAsMarkdown(prepare(text, body.url, options), options) : text,
        'text/markdown; charset=utf-8',
      );
    case 'clean_html':
      if (kind !== 'html') {
        throw new ApiError(
          'ERR::SCRAPE::FORMAT_NOT_SUPPORTED',
          `format=clean_html needs an HTML answer, but the target answered ${body.contentType ?? 'plain text'}; use format=raw or text`,
        );
      }
      return textResult(cleanHtml(prepare(text, body.url, options)), 'text/html; charset=utf-8');
  }
}

type Kind = 'html' | 'json' | 'text' | 'binary';

function classify(body: UpstreamBody): Kind {
  const type = body.contentType?.trim();
  if (type) {
    if (HTML_TYPES.test(type)) return 'html';
    if (JSON_TYPES.test(type)) return 'json';
    return TEXTUAL_TYPES.test(type) ? 'text' : 'binary';
  }
  // No Content-Type: sniff as browsers do, roughly (a NUL byte or invalid UTF-8 in the head is binary).
  const head = body.bytes.subarray(0, 1024);
  if (head.includes(0)) return 'binary';
  const text = head.toString('utf8');
  if (text.includes('\uFFFD') && body.bytes.length > 0) return 'binary';
  if (/^\s*(<!doctype html|<html|<head|<body)/i.test(text)) return 'html';
  return 'text';
}

/** Decodes by the Content-Type's charset, else an HTML meta charset, else UTF-8. */
function decode(bytes: Buffer, contentType: string | undefined): string {
  const declared =
    /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1] ??
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(bytes.subarray(0, 2048).toString('latin1'))?.[1];
  try {
    return new TextDecoder(declared ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses the page, makes its links and images absolute, and applies the options that act on the
 * document: only_content keeps Readability's main content (navigation, footers and ads out), no_images
 * removes images, no_links unwraps links into their text.
 */
function prepare(html: string, url: string, options: readonly ScrapeFormatOption[]): Document {
  const { document } = parseHTML(html) as unknown as { document: Document };
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  let base = url;
  try {
    if (baseHref) base = new URL(baseHref, url).href;
  } catch {
    // a broken <base href> leaves the final URL as the base
  }
  absolutise(document, base);
  let root: Document = document;
  if (options.includes('only_content')) {
    const article = new Readability(document.cloneNode(true) as Document).parse();
    if (article?.content) {
      root = (
        parseHTML(`<!doctype html><html><head></head><body>${article.content}</body></html>`) as unknown as {
          document: Document;
        }
      ).document;
      const title = article.title?.trim();
      if (title && !root.querySelector('h1')) {
        const heading = root.createElement('h1');
        heading.textContent = title;
        root.body.prepend(heading);
      }
    }
  }
  if (options.includes('no_images')) {
    for (const node of Array.from(root.querySelectorAll('img, picture, svg, figure > figcaption:empty')))
      node.remove();
  }
  if (options.includes('no_links')) {
    for (const link of Array.from(root.querySelectorAll('a')))
      link.replaceWith(...Array.from(link.childNodes));
  }
  return root;
}

const URL_ATTRIBUTES: Array<[string, string]> = [
  ['a[href]', 'href'],
  ['img[src]', 'src'],
  ['link[href]', 'href'],
  ['source[src]', 'src'],
  ['video[src]', 'src'],
  ['audio[src]', 'src'],
  ['iframe[src]', 'src'],
  ['form[action]', 'action'],
];

function absolutise(document: Document, base: string): void {
  for (const [selector, attribute] of URL_ATTRIBUTES) {
    for (const element of Array.from(document.querySelectorAll(selector))) {
      const value = element.getAttribute(attribute);
      if (value === null || /^(#|javascript:|data:|mailto:|tel:)/i.test(value.trim())) continue;
      try {
        element.setAttribute(attribute, new URL(value.trim(), base).href);
      } catch {
        // not a URL: left as written
      }
    }
  }
}

const NOT_CONTENT = 'script, style, noscript, template, iframe, object, embed, link, meta, base';

function cleanHtml(document: Document): string {
  for (const node of Array.from(document.querySelectorAll(NOT_CONTENT))) node.remove();
  for (const element of Array.from(document.querySelectorAll('*'))) {
    for (const attribute of Array.from(element.attributes)) {
      if (/^on/i.test(attribute.name) || attribute.name === 'style') element.removeAttribute(attribute.name);
    }
  }
  removeComments(document);
  const html = document.documentElement?.outerHTML ?? '';
  return `<!DOCTYPE html>\n${html}`;
}

function removeComments(document: Document): void {
  const walker = document.createTreeWalker(document, 128 /* NodeFilter.SHOW_COMMENT */);
  const comments: Node[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) comments.push(node);
  for (const comment of comments) comment.parentNode?.removeChild(comment);
}

function htmlAsMarkdown(document: Document, options: readonly ScrapeFormatOption[]): string {
  for (const node of Array.from(document.querySelectorAll(NOT_CONTENT))) node.remove();
  const turndown = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '*',
  });
  turndown.use(gfm);
  if (options.includes('no_images')) turndown.remove('img');
  const body = document.body ?? document.documentElement;
  return turndown.turndown(body?.innerHTML ?? '').trim();
}

function htmlAsText(document: Document, options: readonly ScrapeFormatOption[]): string {
  const selectors: SelectorDefinition[] = [
    { selector: 'a', options: { ignoreHref: options.includes('no_links') } },
    { selector: 'img', format: options.includes('no_images') ? 'skip' : 'image' },
    { selector: 'table', format: 'dataTable' },
    // Headings keep their letters (html-to-text shouts them by default).
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ];
  for (const node of Array.from(document.querySelectorAll(NOT_CONTENT))) node.remove();
  return htmlToText(document.documentElement?.outerHTML ?? '', { wordwrap: false, selectors }).trim();
}
