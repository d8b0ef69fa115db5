import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A generated site for crawl tests, on loopback: a home page, SECTIONS sections of PAGES pages each, a
 * robots.txt that disallows /private/, a sitemap index (that also lists itself) whose sitemap names pages no
 * link reaches (/orphan/N), an infinite calendar (every month links to the next and the previous one), a
 * nofollow link, a link off the site, and links written in several spellings of one URL (fragment, ./).
 * It counts the requests per path, so a test can tell that every page was fetched once.
 */
export interface Site {
  origin: string;
  port: number;
  /** Requests per path (query included). */
  hits: Map<string, number>;
  /** The most requests the site was answering at once. */
  peakInFlight(): number;
  /** Every page a whole in-scope crawl of / reaches by links (robots.txt respected), sitemaps aside. */
  linkedPages(): string[];
  close(): Promise<void>;
}

export const SECTIONS = 10;
export const PAGES = 30;
export const ORPHANS = 5;

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><title>${title}</title><meta name="description" content="About ${title}"></head><body><h1>${title}</h1>${body}</body></html>`;
const link = (href: string, text = href, rel = '') =>
  `<a href="${href}"${rel ? ` rel="${rel}"` : ''}>${text}</a>`;

export async function startSite(host = 'site.test', options: { slowMs?: number } = {}): Promise<Site> {
  const hits = new Map<string, number>();
  let origin = '';
  let inFlight = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    res.on('close', () => (inFlight -= 1));
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const html = (body: string, status = 200) =>
      setTimeout(
        () => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body),
        options.slowMs ?? 0,
      );
    const xml = (body: string) => res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
    if (path === '/robots.txt') {
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(`User-agent: *\nDisallow: /private/\n\nSitemap: ${origin}/sitemap.xml\n`);
      return;
    }
    if (path === '/sitemap.xml') {
      return xml(
        `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${origin}/sitemap.xml</loc></sitemap><sitemap><loc>${origin}/sitemap-pages.xml</loc></sitemap></sitemapindex>`,
      );
    }
    if (path === '/sitemap-pages.xml') {
      const urls = Array.from({ length: ORPHANS }, (_, n) => `<url><loc>${origin}/orphan/${n}</loc></url>`);
      return xml(
        `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.join('')}<url><loc>${origin}/</loc></url></urlset>`,
      );
    }
    if (path === '/') {
      const sections = Array.from({ length: SECTIONS }, (_, s) => link(`/section/${s}/`, `Section ${s}`));
      return html(
        page(
          'Home',
          sections.join(' ') +
            link('/section/0/#top', 'Section 0 again') +
            link('./section/1/', 'Section 1 again') +
            link('/calendar/2026-01', 'Calendar') +
            link('/private/secret', 'Private') +
            link('/nofollow-target', 'Sponsored', 'nofollow') +
            link(`http://other.test:${new URL(origin).port}/`, 'Elsewhere') +
            link('mailto:someone@site.test', 'Mail'),
        ),
      );
    }
    let match = /^\/section\/(\d+)\/$/.exec(path);
    if (match) {
      const s = Number(match[1]);
      const pages = Array.from({ length: PAGES }, (_, p) => link(`/section/${s}/page/${p}`, `Page ${p}`));
      return html(page(`Section ${s}`, pages.join(' ') + link('/', 'Home')));
    }
    match = /^\/section\/(\d+)\/page\/(\d+)$/.exec(path);
    if (match) {
      const [s, p] = [Number(match[1]), Number(match[2])];
      return html(
        page(
          `Section ${s} page ${p}`,
          `<p>Text of page ${p} in section ${s}.</p>` +
            link(`/section/${s}/page/${(p + 1) % PAGES}`, 'Next') +
            link(`/section/${s}/`, 'Up'),
        ),
      );
    }
    match = /^\/calendar\/(\d{4})-(\d{2})$/.exec(path);
    if (match) {
      const month = Number(match[1]) * 12 + Number(match[2]) - 1;
      const name = (m: number) => `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
      return html(
        page(
          `Calendar ${name(month)}`,
          link(`/calendar/${name(month + 1)}`, 'Next month') +
            link(`/calendar/${name(month - 1)}`, 'Previous month'),
        ),
      );
    }
    if (/^\/orphan\/\d+$/.test(path))
      return html(page(`Orphan ${path}`, '<p>Only the sitemap knows me.</p>'));
    if (path.startsWith('/private/') || path === '/nofollow-target')
      return html(page('Secret', '<p>secret</p>'));
    return html(page('Not found', '<p>no such page</p>'), 404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://${host}:${port}`;
  return {
    origin,
    port,
    hits,
    peakInFlight: () => peak,
    linkedPages: () => [
      `${origin}/`,
      ...Array.from({ length: SECTIONS }, (_, s) => [
        `${origin}/section/${s}/`,
        ...Array.from({ length: PAGES }, (_, p) => `${origin}/section/${s}/page/${p}`),
      ]).flat(),
    ],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
