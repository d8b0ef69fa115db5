import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../../errors.js';
import { adviceFor } from '../error-advice.js';

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
const inlineCode = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

/** The error reference every error body links to: one anchor per catalogue code, generated from it. */
export function renderErrorReference(): string {
  const entries = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).map((code) => {
    const { httpStatus, retryable, billed, description } = ERROR_CATALOGUE[code];
    return `<section id="${escape(code)}"><h2><a href="#${escape(code)}">${escape(code)}</a></h2>
<p class="facts">HTTP ${httpStatus} · ${retryable ? 'retryable (Retry-After says when)' : 'not retryable'} · ${billed ? 'billed' : 'not billed'}</p>
<p><strong>Meaning:</strong> ${escape(description)}.</p>
<p><strong>What to do:</strong> ${inlineCode(adviceFor(code, retryable))}</p></section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Snapwire errors</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}h2{font-size:1.1rem;margin-top:2rem}h2 a{color:inherit}.facts{color:#555;margin:.2rem 0}code{background:#f3f3f3;padding:.1rem .3rem}section:target{background:#fff8d6}</style></head>
<body><h1>Errors</h1>
<p>Every failure answers JSON <code>{code, error_id, http_code, links, message, reason, retryable}</code> with
<code>X-Scrapfly-Reject-*</code> headers (and <code>Retry-After</code> when retryable); <code>reason</code> says
what went wrong in this request. A bad key answers 401 <code>{status: "error", reason: "Unauthorized", …}</code>.
API reference: <a href="/docs">/docs</a>.</p>
${entries.join('\n')}
</body></html>`;
}

const route: FastifyPluginAsyncZod = async (app) => {
  const page = renderErrorReference();
  app.get('/docs/errors', { schema: { hide: true }, config: { auth: 'none' } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page),
  );
};

export default route;
