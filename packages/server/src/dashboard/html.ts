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

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#f5f6f8}
header{display:flex;align-items:center;gap:18px;padding:10px 24px;background:#1d2330;color:#fff}
header a{color:#cfd6e4;text-decoration:none}header a.on,header a:hover{color:#fff}header .brand{font-weight:700;color:#fff;margin-right:12px}
header form{margin-left:auto}main{padding:20px 24px;max-width:1200px}
h1{font-size:20px;margin:0 0 14px}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e8}th,td{padding:6px 9px;border-bottom:1px solid #eceef2;text-align:left;vertical-align:top}
th{background:#fafbfc;font-weight:600;font-size:12px;color:#5a6375}td.url{max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ok{color:#14813b;font-weight:600}.bad{color:#c2261b;font-weight:600}.warn{background:#fff4d6;border:1px solid #f0c75e;padding:8px 12px;margin:8px 0}
.card{background:#fff;border:1px solid #dde1e8;padding:14px;margin-bottom:14px}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:14px}
.stat{font-size:24px;font-weight:700}.muted{color:#6b7385;font-size:12px}
button,.button{background:#2d5be3;color:#fff;border:0;padding:6px 12px;border-radius:4px;cursor:pointer;font:inherit;text-decoration:none;display:inline-block}
button.secondary{background:#6b7385}button.danger{background:#c2261b}
input,select{font:inherit;padding:5px 7px;border:1px solid #c5cad4;border-radius:4px}
form.inline{display:inline}.filters{display:flex;gap:8px;flex-wrap:wrap;align-items:end;margin-bottom:12px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:#5a6375}
pre{background:#1d2330;color:#e6e9ef;padding:10px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.tabs{display:flex;gap:4px;border-bottom:1px solid #dde1e8;margin:12px 0}.tabs a{padding:6px 14px;text-decoration:none;color:#5a6375}
.tabs a.on{border:1px solid #dde1e8;border-bottom-color:#f5f6f8;background:#f5f6f8;color:#1d2330;margin-bottom:-1px}
img.shot{max-width:100%;border:1px solid #dde1e8;background:#fff}.secret{font-family:monospace;background:#fff4d6;padding:4px 8px}
.bar{display:flex;height:18px;width:100%;background:#eceef2}.bar span{display:block;height:100%}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px;margin-top:14px}
.login{max-width:340px;margin:80px auto}.login input{width:100%;margin-bottom:10px}
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
}`;

export interface LayoutOptions {
  title: string;
  active?: string;
  csrf?: string;
  flash?: string | undefined;
}

export function layout(options: LayoutOptions, body: Html): string {
  const nav = [
    ['overview', '/dashboard', 'Overview'],
    ['logs', '/dashboard/logs', 'Logs'],
    ['webhooks', '/dashboard/webhooks', 'Webhooks'],
    ['schedules', '/dashboard/schedules', 'Schedules'],
    ['projects', '/dashboard/projects', 'Projects & keys'],
  ] as const;
  const header =
    options.csrf === undefined
      ? html`<header><span class="brand">Snapwire</span></header>`
      : html`<header>
          <span class="brand">Snapwire</span>
          ${nav.map(([key, href, label]) => html`<a href="${href}" class="${options.active === key ? 'on' : ''}">${label}</a>`)}
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
