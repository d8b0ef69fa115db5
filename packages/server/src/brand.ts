// Snapwire's look, shared by every page the service renders: the dashboard (dashboard/html.ts), the API
// reference (/docs, Swagger UI themed in http/docs-page.ts) and the error reference (/docs/errors). One
// logo, one palette and one header, so that the three read as one product.

/** The mark: a viewfinder (the capture) around a dot, on the accent colour. */
export const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true">' +
  '<rect width="32" height="32" rx="7" fill="#2d5be3"/>' +
  '<path d="M8 13V9.5A1.5 1.5 0 0 1 9.5 8H13M19 8h3.5A1.5 1.5 0 0 1 24 9.5V13M24 19v3.5a1.5 1.5 0 0 1-1.5 1.5H19M13 24H9.5A1.5 1.5 0 0 1 8 22.5V19" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round"/>' +
  '<circle cx="16" cy="16" r="3.2" fill="#fff"/></svg>';

/** The logo as an inline icon: no request, allowed by the dashboard's img-src 'self' data:. */
export const FAVICON_DATA_URL = `data:image/svg+xml,${encodeURIComponent(LOGO_SVG)}`;

/** The palette as CSS variables; dark mode (prefers-color-scheme) swaps them. */
export const PALETTE_CSS = `
:root{--fg:#1d2330;--bg:#f5f6f8;--panel:#fff;--line:#dde1e8;--soft:#eceef2;--head:#fafbfc;--muted:#5a6375;--ok:#14813b;--bad:#c2261b;--accent:#2d5be3;--warnbg:#fff4d6;--warnline:#f0c75e;--code:#eef0f4;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e3e7ef;--bg:#12151c;--panel:#1b1f29;--line:#2e3442;--soft:#262b37;--head:#20252f;--muted:#9aa3b5;--ok:#4cc37a;--bad:#ff6b5e;--accent:#6d8ff0;--warnbg:#3a3016;--warnline:#8a6d1f;--code:#262b37}}
`;

/** The header every page opens with (the same dark band in light and dark mode): `.sw-header`, `.sw-brand`. */
export const HEADER_CSS = `
.sw-header{display:flex;align-items:center;flex-wrap:wrap;gap:6px 18px;padding:10px 24px;background:#1d2330;color:#fff;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
.sw-header a{color:#cfd6e4;text-decoration:none}.sw-header a.on,.sw-header a:hover{color:#fff}
.sw-header .sw-brand{display:inline-flex;align-items:center;gap:8px;font-weight:700;color:#fff;margin-right:12px}
.sw-header .sw-brand svg{width:22px;height:22px;flex:none}
@media (max-width:700px){.sw-header{padding:8px 12px;gap:4px 12px}.sw-header .sw-brand{margin-right:0}}
`;

export interface HeaderLink {
  href: string;
  label: string;
  /** Marks the page the reader is on. */
  on?: boolean;
}

/** The header of the pages outside the dashboard (static text only: nothing here is user input). */
export function brandHeader(links: HeaderLink[]): string {
  return `<header class="sw-header"><a class="sw-brand" href="/dashboard">${LOGO_SVG}<span>Snapwire</span></a>${links
    .map(
      (link) => `<a href="${link.href}"${link.on ? ' class="on" aria-current="page"' : ''}>${link.label}</a>`,
    )
    .join('')}</header>`;
}

/** Where the pages outside the dashboard lead: back to it, and between the two references. */
export const DOCS_LINKS: HeaderLink[] = [
  { href: '/dashboard', label: '← Dashboard' },
  { href: '/docs', label: 'API reference' },
  { href: '/docs/errors', label: 'Errors' },
];
