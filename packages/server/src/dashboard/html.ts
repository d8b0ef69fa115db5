import { FAVICON_DATA_URL, HEADER_CSS, LOGO_SVG, PALETTE_CSS } from '../brand.js';

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

// Colours are variables (brand.ts) so that dark mode (prefers-color-scheme) only swaps the palette. Below
// 700 px the layout stacks, and tables turn into one card per row (each cell labelled from its column), so
// no page needs horizontal scrolling on a 390 px phone; the logs table is denser still (three lines a row).
const STYLE = `${PALETTE_CSS}${HEADER_CSS}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
.sw-nav{display:flex;gap:6px 18px;flex-wrap:wrap}header form{margin-left:auto}main{padding:20px 24px;max-width:1680px;margin:0 auto}
h1{font-size:20px;margin:0 0 14px;overflow-wrap:anywhere}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;background:var(--panel);border:1px solid var(--line)}th,td{padding:6px 9px;border-bottom:1px solid var(--soft);text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600;font-size:12px;color:var(--muted)}td.url{max-width:480px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
th.nowrap,td.nowrap{white-space:nowrap}table.details th{white-space:nowrap;width:1%}td.num{white-space:nowrap;text-align:right}
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
pre{background:#1d2330;color:#e6e9ef;padding:10px;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.id{display:inline-flex;align-items:center;gap:4px;white-space:nowrap}
button.copy{background:transparent;color:var(--accent);border:1px solid var(--line);padding:0 6px;font-size:11px;line-height:18px;border-radius:3px}
.snippet{min-width:0}.snippet pre{white-space:pre;word-break:normal}.snippet-head{display:flex;align-items:baseline;justify-content:space-between;gap:8px;margin:0 0 6px}
.snippets{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:14px}.snippets h3{font-size:14px;margin:0}.snippet.full{grid-column:1/-1}.snippet.full pre{white-space:pre-wrap;word-break:break-all}
.tabs{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:12px 0}.tabs a{padding:6px 14px;text-decoration:none;color:var(--muted)}
.tabs a.on{border:1px solid var(--line);border-bottom-color:var(--bg);background:var(--bg);color:var(--fg);margin-bottom:-1px}
img.shot{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}.secret{font-family:monospace;background:var(--warnbg);padding:4px 8px;overflow-wrap:anywhere}
.bar{display:flex;height:18px;width:100%;background:var(--soft)}.bar span{display:block;height:100%}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;margin:8px 0 0;padding:0;font-size:13px}.legend li{display:flex;align-items:center;gap:6px;white-space:nowrap}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;flex:none}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(520px,100%),1fr));gap:14px;margin-top:14px}
.chart figcaption{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:center;margin-bottom:8px}.chart figcaption .legend{margin:0;font-size:12px}
.plot{display:grid;grid-template-columns:auto 1fr;grid-template-rows:160px auto;column-gap:6px}
.y-axis{position:relative;min-width:34px}.y-axis span{position:absolute;right:0;transform:translateY(50%);font-size:11px;line-height:1;color:var(--muted);white-space:nowrap}
.plot svg{width:100%;height:160px;display:block;overflow:visible}
.x-axis{grid-column:2;position:relative;height:18px}.x-axis span{position:absolute;top:4px;font-size:11px;line-height:1;color:var(--muted);white-space:nowrap}
.plot line.grid{stroke:var(--soft)}
.split{display:grid;grid-template-columns:2fr 1fr;gap:14px}
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(300px,100%),1fr));gap:14px 16px;margin:0 0 12px}
.field{display:flex;flex-direction:column;gap:3px;min-width:0}.field.wide{grid-column:1/-1}
.field label,.field legend{font-weight:600;font-size:13px}.field .help{color:var(--muted);font-size:12px;margin:0}
.field input[type=text],.field input[type=number],.field select,.field textarea{width:100%}
.field.invalid input,.field.invalid select,.field.invalid textarea{border-color:var(--bad);outline:1px solid var(--bad)}
.field .field-error{color:var(--bad);font-size:12px;font-weight:600;margin:0}
fieldset.field{border:0;padding:0;margin:0}.checks{display:flex;flex-wrap:wrap;gap:4px 14px}.checks label,.check{font-weight:400;font-size:13px;display:flex;gap:6px;align-items:center}
details.group{margin:6px 0 12px}details.group>summary{cursor:pointer;font-weight:600;margin-bottom:10px}
svg text{fill:var(--muted)}svg line{stroke:var(--soft)}
.login{max-width:360px;margin:12vh auto 0}.login input{width:100%;margin-bottom:10px}.login label{display:block}
@media (max-width:700px){
 main{padding:12px}.split{grid-template-columns:1fr}
 .sw-nav{order:3;flex:1 1 100%;flex-wrap:nowrap;overflow-x:auto;gap:16px;scrollbar-width:none;padding-bottom:2px}.sw-nav a{white-space:nowrap}
 header form button{padding:3px 10px;font-size:13px}
 .cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.card{padding:10px;margin-bottom:8px}.stat{font-size:19px}
 table.responsive,table.responsive tbody,table.responsive tr,table.responsive td{display:block;width:100%}
 table.responsive thead{display:none}table.responsive tr{border-bottom:2px solid var(--line);padding:4px 0}
 table.responsive td{border:0;padding:2px 9px;overflow-wrap:anywhere}
 table.responsive td[data-label]:not([data-label=""])::before{content:attr(data-label) ": ";color:var(--muted);font-size:12px}
 td.url{max-width:none;white-space:normal;overflow-wrap:anywhere}td.num{text-align:left}
 table.compact tr{display:flex;flex-wrap:wrap;align-items:center;gap:2px 8px;padding:6px 9px}
 table.compact td{display:block;width:auto;padding:0;font-size:12px;color:var(--muted)}
 table.compact td[data-label]:not([data-label=""])::before{content:none}
 table.compact td.labelled::before{content:attr(data-label) " "!important;font-size:12px}
 table.compact td.lead{order:-2;font-size:14px;color:var(--fg)}table.compact td.lead-end{order:-1;margin-left:auto;font-size:13px}
 table.compact td.url{order:-1;flex-basis:100%;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:13px;color:var(--fg)}
 table.compact td.lead-thumb{order:-3}table.compact td.lead-thumb img.thumb{width:48px;height:30px}
 table.compact td.phone-hidden{display:none}
 table:not(.responsive) th,table:not(.responsive) td{overflow-wrap:anywhere}
 table.details th{white-space:normal;overflow-wrap:normal}
 .filters input,.filters select{width:100%}.filters label{flex:1 1 140px}
 .x-axis span.minor{display:none}
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
}, true);
// A button with data-copy="text" copies the text (the clipboard API needs https or localhost; a hidden
// textarea does it elsewhere) and says so for a moment.
document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  const text = button.dataset.copy ?? '';
  try { await navigator.clipboard.writeText(text); } catch {
    const area = Object.assign(document.createElement('textarea'), { value: text });
    document.body.append(area); area.select(); document.execCommand('copy'); area.remove();
  }
  const label = button.textContent; button.textContent = 'copied';
  setTimeout(() => { button.textContent = label; }, 1500);
});`;

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
  const brand = html`<a class="sw-brand" href="/dashboard">${raw(LOGO_SVG)}<span>Snapwire</span></a>`;
  const header =
    options.csrf === undefined
      ? html`<header class="sw-header">${brand}</header>`
      : html`<header class="sw-header">
          ${brand}
          <nav class="sw-nav" aria-label="Dashboard">
            ${nav.map(
              ({ key, href, label }) =>
                html`<a href="${href}" class="${options.active === key ? 'on' : ''}">${label}</a>`,
            )}
          </nav>
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
<title>${esc(options.title)} · Snapwire</title><link rel="icon" type="image/svg+xml" href="${FAVICON_DATA_URL}"><style>${STYLE}</style></head><body>${header.value}<main>${
    options.flash ? html`<div class="warn" role="status">${options.flash}</div>`.value : ''
  }${body.value}</main>${options.csrf === undefined ? '' : `<script>${REFRESH}</script>`}</body></html>`;
}
