/** Tiny HTML helpers: every interpolated value goes through `esc` unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Part = Html | string | number | null | undefined | false | Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (Array.isArray(part)) return part.map(render).join('');
  if (part instanceof Html) return part.value;
  return esc(part);
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes userText. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? '';
  parts.forEach((part, index) => {
    out += render(part) + (strings[index + 1] ?? '');
  });
  return new Html(out);
}

export function raw(value: string): Html {
  return new Html(value);
}

export function isoTime(ms: number | null | undefined): string {
  return ms
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '—';
}

// Colours are variables so that dark mode (prefers-color-scheme) only swaps the palette. Below 700 px the
// layout stacks, and tables turn into one card per row (each cell labelled from its column), so no page
// needs horizontal scrolling on a 390 px phone.
const STYLE = `
:root{--fg:#1d2330;--bg:#f5f6f8;--panel:#fff;--line:#dde1e8;--soft:#eceef2;--head:#fafbfc;--muted:#5a6375;--ok:#14813b;--bad:#c2261b;--accent:#2d5be3;--warnbg:#fff4d6;--warnline:#f0c75e;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e3e7ef;--bg:#12151c;--panel:#1b1f29;--line:#2e3442;--soft:#262b37;--head:#20252f;--muted:#9aa3b5;--ok:#4cc37a;--bad:#ff6b5e;--accent:#6d8ff0;--warnbg:#3a3016;--warnline:#8a6d1f}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
header{display:flex;align-items:center;flex-wrap:wrap;gap:6px 18px;padding:10px 24px;background:#1d2330;color:#fff}
header a{color:#cfd6e4;text-decoration:none}header a.on,header a:hover{color:#fff}header .brand{font-weight:700;color:#fff;margin-right:12px}
header form{margin-left:auto}main{padding:20px 24px;max-width:1200px}
h1{font-size:20px;margin:0 0 14px;overflow-wrap:anywhere}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;background:var(--panel);border:1px solid var(--line)}th,td{padding:6px 9px;border-bottom:1px solid var(--soft);text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600;font-size:12px;color:var(--muted)}td.url{max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
td img.thumb{width:64px;height:40px;object-fit:cover;object-position:top;border:1px solid var(--line);display:block}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.warn{background:var(--warnbg);border:1px solid var(--warnline);padding:8px 12px;margin:8px 0}
.error{border-color:var(--bad)}p.error,div.error{color:var(--bad);background:var(--warnbg);border:1px solid var(--bad);padding:8px 12px;margin:8px 0}
.card{background:var(--panel);border:1px solid var(--line);padding:14px;margin-bottom:14px;min-width:0}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(180px,100%),1fr));gap:14px}
.stat{font-size:24px;font-weight:700}.muted{color:var(--muted);font-size:12px}.empty{color:var(--muted);padding:10px 0}
button,.button{background:var(--accent);color:#fff;border:0;padding:6px 12px;border-radius:4px;cursor:pointer;font:inherit;text-decoration:none;display:inline-block}
button.secondary{background:#6b7385}button.danger{background:#c2261b}
input,select,textarea{font:inherit;padding:5px 7px;border:1px solid var(--line);border-radius:4px;background:var(--panel);color:var(--fg);max-width:100%}
form.inline{display:inline}.filters{display:flex;gap:8px;flex-wrap:wrap;align-items:end;margin-bottom:12px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);max-width:100%}
.pager{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:10px 0}
pre{background:#1d2330;color:#e6e9ef;padding:10px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.tabs{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:12px 0}.tabs a{padding:6px 14px;text-decoration:none;color:var(--muted)}
.tabs a.on{border:1px solid var(--line);border-bottom-color:var(--bg);background:var(--bg);color:var(--fg);margin-bottom:-1px}
img.shot{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}.secret{font-family:monospace;background:var(--warnbg);padding:4px 8px;overflow-wrap:anywhere}
.bar{display:flex;height:18px;width:100%;background:var(--soft)}.bar span{display:block;height:100%}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(520px,100%),1fr));gap:14px;margin-top:14px}
.split{display:grid;grid-template-columns:2fr 1fr;gap:14px}.playground{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(240px,100%),1fr));gap:8px}
.playground label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
svg text{fill:var(--muted)}svg line{stroke:var(--soft)}
.login{max-width:340px;margin:80px auto}.login input{width:100%;margin-bottom:10px}
@media (max-width:700px){
 header{padding:8px 12px}main{padding:12px}.split{grid-template-columns:1fr}
 .cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.card{padding:10px;margin-bottom:8px}.stat{font-size:19px}
 table.responsive,table.responsive tbody,table.responsive tr,table.responsive td{display:block;width:100%}
 table.responsive thead{display:none}table.responsive tr{border-bottom:2px solid var(--line);padding:4px 0}
 table.responsive td{border:0;padding:2px 9px;overflow-wrap:anywhere}
 table.responsive td[data-label]:not([data-label=""])::before{content:attr(data-label) ": ";color:var(--muted);font-size:12px}
 td.url{max-width:none;white-space:normal;overflow-wrap:anywhere}
 table:not(.responsive) th,table:not(.responsive) td{overflow-wrap:anywhere}
 .filters input,.filters select{width:100%}.filters label{flex:1 1 140px}
}
`;

// The one piece of script (the htmx idea, in a dozen lines): an element with data-refresh="ms" is fetched
// again from the same URL and swapped in place, so delivery histories update without a reload.
const REFRESH = `for (const el of document.querySelectorAll('[data-refresh]')) {
  const every = Number(el.dataset.refresh) || 3000; let left = 200;
  const tick = async () => {
    if (document.hidden || --left < 0) return;
    try {
      const r = await fetch(location.href, { credentials: 'same-origin' });
      if (r.ok) { const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
        const fresh = doc.getElementById(el.id); if (fresh) el.innerHTML = fresh.innerHTML; }
    } catch {}
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}
// Destructive actions ask first: a form with data-confirm="question" is only sent once confirmed.
document.addEventListener('submit', (event) => {
  const question = event.target instanceof HTMLFormElement ? event.target.dataset.confirm : undefined;
  if (question && !confirm(question)) event.preventDefault();
}, true);`;

export interface NavItem {
  key: string;
  href: string;
  label: string;
}

/** The navigation when a caller gives none (pages register theirs; see dashboard/pages/index.ts). */
export const DEFAULT_NAV: NavItem[] = [
  { key: 'overview', href: '/dashboard', label: 'Overview' },
  { key: 'logs', href: '/dashboard/logs', label: 'Logs' },
  { key: 'webhooks', href: '/dashboard/webhooks', label: 'Webhooks' },
  { key: 'projects', href: '/dashboard/projects', label: 'Projects & keys' },
];

export interface LayoutOptions {
  title: string;
  nav?: NavItem[];
  active?: string;
  csrf?: string;
  flash?: string | undefined;
}

export function layout(options: LayoutOptions, body: Html): string {
  const nav = [...(options.nav ?? DEFAULT_NAV), { key: 'docs', href: '/docs', label: 'API docs' }];
  const header =
    options.csrf === undefined
      ? html`<header><span class="brand">Snapwire</span></header>`
      : html`<header>
          <span class="brand">Snapwire</span>
          ${nav.map(({ key, href, label }) => html`<a href="${href}" class="${options.active === key ? 'on' : ''}">${label}</a>`)}
          <form method="post" action="/dashboard/logout">
            <input type="hidden" name="_csrf" value="${options.csrf}" /><button
              class="secondary"
              type="submit"
            >
              Sign out
            </button>
          </form>
        </header>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(options.title)} · Snapwire</title><style>${STYLE}</style></head><body>${header.value}<main>${
    options.flash ? html`<div class="warn" role="status">${options.flash}</div>`.value : ''
  }${body.value}</main>${options.csrf === undefined ? '' : `<script>${REFRESH}</script>`}</body></html>`;
}
