import { parseHTML } from 'linkedom';

/**
 * The links of an HTML page, absolute against the page's URL (or its <base href>). rel=nofollow links and
 * every link of a page with <meta name=robots content=nofollow> are left out unless ignoreNoFollow.
 */
export function linksOf(html: string, pageUrl: string, ignoreNoFollow: boolean): string[] {
  const { document } = parseHTML(html) as unknown as { document: Document };
  if (!ignoreNoFollow) {
    const robots = document.querySelector('meta[name="robots" i]')?.getAttribute('content') ?? '';
    if (/\bnofollow\b|\bnone\b/i.test(robots)) return [];
  }
  let base = pageUrl;
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  if (baseHref) {
    try {
      base = new URL(baseHref, pageUrl).href;
    } catch {
      // a broken <base href> leaves the page's URL as the base
    }
  }
  const links: string[] = [];
  for (const anchor of Array.from(document.querySelectorAll('a[href]'))) {
    if (!ignoreNoFollow && /\bnofollow\b/i.test(anchor.getAttribute('rel') ?? '')) continue;
    const href = anchor.getAttribute('href')?.trim();
    if (!href || /^(javascript|mailto|tel|data):/i.test(href)) continue;
    try {
      links.push(new URL(href, base).href);
    } catch {
      // not a URL: not a link to follow
    }
  }
  return links;
}

/** page_metadata: what an index of pages needs to know about each one. */
export function pageMetadata(
  html: string,
  page: { url: string; status: number; contentType: string | undefined },
): Record<string, unknown> {
  const { document } = parseHTML(html) as unknown as { document: Document };
  const meta = (name: string) =>
    document.querySelector(`meta[name="${name}" i], meta[property="${name}" i]`)?.getAttribute('content') ??
    null;
  return {
    url: page.url,
    status_code: page.status,
    content_type: page.contentType ?? null,
    title: document.querySelector('title')?.textContent?.trim() ?? null,
    description: meta('description'),
    canonical: document.querySelector('link[rel="canonical" i]')?.getAttribute('href') ?? null,
    lang: document.documentElement?.getAttribute('lang') ?? null,
    robots: meta('robots'),
    og_title: meta('og:title'),
    og_image: meta('og:image'),
    h1: Array.from(document.querySelectorAll('h1')).map((heading) => heading.textContent?.trim() ?? ''),
  };
}
