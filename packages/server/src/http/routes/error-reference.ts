import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../../errors.js';
import { adviceFor } from '../error-advice.js';
import { brandHeader, DOCS_LINKS, FAVICON_DATA_URL, HEADER_CSS, PALETTE_CSS } from '../../brand.js';

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
const inlineCode = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const STYLE = `${PALETTE_CSS}${HEADER_CSS}
*{box-sizing:border-box}body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:54rem;margin:0 auto;padding:20px 24px 48px}a{color:var(--accent)}
h1{font-size:26px;margin:8px 0 10px}h2{font-size:17px;margin:0 0 4px;overflow-wrap:anywhere}h2 a{color:inherit;text-decoration:none}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:var(--code);padding:.1rem .3rem;border-radius:3px;overflow-wrap:anywhere}
nav.index{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:18px 0 22px}
nav.index h2{font-size:15px;margin:0 0 6px}nav.index h3{font-size:13px;color:var(--muted);margin:12px 0 4px}nav.index h3 code{font-size:12px}
nav.index ul{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(min(300px,100%),1fr));gap:2px 16px}
nav.index li{display:flex;justify-content:space-between;gap:8px;min-width:0}nav.index li a{overflow-wrap:anywhere;min-width:0}
.status{color:var(--muted);font-size:12px;white-space:nowrap}
main>section{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:14px 16px;margin:0 0 12px;scroll-margin-top:12px}
main>section:target{border-color:var(--accent);box-shadow:0 0 0 2px var(--accent)}
.facts{color:var(--muted);margin:.1rem 0 .5rem;font-size:13px}.facts .retryable{color:var(--ok)}
main>section p{margin:.35rem 0}
@media (max-width:700px){main{padding:14px 12px 32px}h1{font-size:22px}}
`;

/** A code's family, the index's groups: `ERR::SCRAPE::DNS_NAME_NOT_RESOLVED` -> `SCRAPE`. */
const familyOf = (code: string) => code.split('::')[1] ?? code;
const FAMILY_TITLES: Record<string, string> = {
  SCRAPE: 'The request and the page',
  SCREENSHOT: 'The capture',
  THROTTLE: 'Limits',
  WEBHOOK: 'Webhooks',
  SCHEDULE: 'Scheduled runs',
  SCHEDULER: 'Schedules',
  API: 'Keys and the API',
};

/** The error reference every error body links to: one anchor per catalogue code, generated from it. */
export function renderErrorReference(): string {
  const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
  const entries = codes.map((code) => {
    const { httpStatus, retryable, billed, description } = ERROR_CATALOGUE[code];
    return `<section id="${escape(code)}"><h2><a href="#${escape(code)}">${escape(code)}</a></h2>
<p class="facts">HTTP ${httpStatus} · ${retryable ? '<span class="retryable">retryable</span> (Retry-After says when)' : 'not retryable'} · ${billed ? 'billed' : 'not billed'}</p>
<p><strong>Meaning:</strong> ${escape(description)}.</p>
<p><strong>What to do:</strong> ${inlineCode(adviceFor(code, retryable))}</p></section>`;
  });
  const groups = new Map<string, ErrorCode[]>();
  for (const code of codes) {
    groups.set(familyOf(code), [...(groups.get(familyOf(code)) ?? []), code]);
  }
  const index = [...groups]
    .map(
      ([family, members]) =>
        `<h3>${escape(FAMILY_TITLES[family] ?? family)} <code>ERR::${escape(family)}::</code></h3><ul>${members
          .map(
            (code) =>
              `<li><a href="#${escape(code)}"><code>${escape(code.split('::').slice(2).join('::'))}</code></a><span class="status">HTTP ${ERROR_CATALOGUE[code].httpStatus}</span></li>`,
          )
          .join('')}</ul>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Errors · Snapwire</title><link rel="icon" type="image/svg+xml" href="${FAVICON_DATA_URL}"><style>${STYLE}</style></head>
<body>${brandHeader(DOCS_LINKS.map((link) => ({ ...link, on: link.href === '/docs/errors' })))}<main><h1>Errors</h1>
<p>Every failure answers JSON <code>{code, error_id, http_code, links, message, reason, retryable}</code> with
<code>X-Scrapfly-Reject-*</code> headers (and <code>Retry-After</code> when retryable); <code>reason</code> says
what went wrong in this request. A bad key answers 401 <code>{status: "error", reason: "Unauthorized", …}</code>.
API reference: <a href="/docs">/docs</a>.</p>
<nav class="index" aria-label="Index of the error codes"><h2>Index</h2>${index}</nav>
${entries.join('\n')}
</main></body></html>`;
}

const route: FastifyPluginAsyncZod = async (app) => {
  const page = renderErrorReference();
  app.get('/docs/errors', { schema: { hide: true }, config: { auth: 'none' } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page),
  );
};

export default route;
