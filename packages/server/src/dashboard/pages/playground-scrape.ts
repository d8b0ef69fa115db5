import type { FastifyReply, FastifyRequest } from 'fastify';
import { isApiError } from '../../errors.js';
import { scrapeQueryDoc } from '../../http/scrape-openapi.js';
import { parseScrapeRequest, SCRAPE_FORMATS, SCRAPE_METHODS } from '../../request/scrape-request.js';
import { ScrapeRefused } from '../../scrape/scrape-service.js';
import { csrfInput, details, outcomeOf, upstreamOf } from '../components.js';
import type { DashboardContext, DashboardPage } from '../context.js';
import { html, type Html } from '../html.js';
import { fieldOfError, fieldsView, formValue, type FieldKind } from '../playground-fields.js';
import {
  callerFields,
  callerOf,
  logLink,
  playgroundTabs,
  refusalView,
  shownText,
  snippet,
} from '../playground-shared.js';
import { formOf, type Form } from '../session.js';

/** The Scrape tab's fields: the query parameters, plus the body sent to the target. */
const FIELDS: Array<{ name: string; kind: FieldKind; description: string }> = [
  {
    name: 'url',
    kind: { kind: 'text', placeholder: 'https://example.com', required: true },
    description: scrapeQueryDoc.shape.url.description ?? '',
  },
  {
    name: 'method',
    kind: { kind: 'select', values: SCRAPE_METHODS, fallback: 'GET' },
    description: 'The HTTP method sent to the target (the API call uses the same method)',
  },
  {
    name: 'render_js',
    kind: { kind: 'checkbox' },
    description: scrapeQueryDoc.shape.render_js.description ?? '',
  },
  {
    name: 'format',
    kind: { kind: 'select', values: SCRAPE_FORMATS, fallback: 'raw' },
    description: 'How the content is answered: raw (as served), text, markdown, clean_html or json',
  },
  {
    name: 'body',
    kind: { kind: 'textarea', placeholder: '{"query": "..."}', rows: 4 },
    description:
      'With POST, PUT or PATCH: the body sent to the target, as typed (labelled application/json when it is JSON, text/plain otherwise)',
  },
];
const QUERY_FIELDS = ['url', 'render_js', 'format'];

function bodyOf(form: Form): { bytes: Buffer; contentType: string } | undefined {
  const body = form.body ?? '';
  if (!body.trim() || !['POST', 'PUT', 'PATCH'].includes(form.method ?? 'GET')) return undefined;
  let json = true;
  try {
    JSON.parse(body);
  } catch {
    json = false;
  }
  return { bytes: Buffer.from(body), contentType: json ? 'application/json' : 'text/plain; charset=utf-8' };
}

/** The form's query parameters as /scrape takes them (empty fields left out). */
export function scrapeParameters(form: Form): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of FIELDS.filter(({ name }) => QUERY_FIELDS.includes(name))) {
    const value = formValue(field.name, field.kind, form);
    if (typeof value === 'string') out[field.name] = value;
  }
  return out;
}

export function scrapeCurlFor(publicUrl: string, form: Form): string {
  const qs = Object.entries(scrapeParameters(form))
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
  const method = form.method || 'GET';
  const body = bodyOf(form);
  const data = body
    ? ` -H 'content-type: ${body.contentType}' --data-binary '${body.bytes.toString().replace(/'/g, "'\\''")}'`
    : '';
  return `curl${method === 'GET' ? '' : ` -X ${method}`}${data} '${publicUrl}/scrape?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}

/** The same call with Scrapfly's own SDK pointed at this host. */
export function scrapeSdkCallFor(publicUrl: string, form: Form): string {
  const params = scrapeParameters(form);
  const body = bodyOf(form);
  const fields = [
    `    url: ${JSON.stringify(params.url ?? '')},`,
    form.method && form.method !== 'GET' ? `    method: ${JSON.stringify(form.method)},` : '',
    params.render_js ? '    render_js: true,' : '',
    params.format ? `    format: ${JSON.stringify(params.format)},` : '',
    body ? `    body: ${JSON.stringify(body.bytes.toString())},` : '',
    body ? `    headers: { 'content-type': ${JSON.stringify(body.contentType)} },` : '',
  ].filter(Boolean);
  return [
    "import { ScrapflyClient, ScrapeConfig } from 'scrapfly-sdk';",
    '',
    `const client = new ScrapflyClient({\n  key: process.env.SNAPWIRE_KEY!,\n  host: ${JSON.stringify(publicUrl)},\n});`,
    `const result = await client.scrape(\n  new ScrapeConfig({\n${fields.join('\n')}\n  }),\n);`,
    "// result.result.content: the content; result.result.status_code: the target's status",
  ].join('\n');
}

interface ScrapeAnswer {
  status: number;
  logUuid: string;
  upstreamStatus?: number;
  format?: string;
  contentType?: string | null;
  content?: string;
  error?: { code: string; reason: string };
}

async function run(ctx: DashboardContext, form: Form): Promise<ScrapeAnswer> {
  const caller = await callerOf(ctx, form);
  const body = bodyOf(form);
  const parsed = parseScrapeRequest(
    scrapeParameters(form),
    { method: form.method || 'GET', contentType: body?.contentType, body: body?.bytes },
    ctx.services.settings,
  );
  try {
    const outcome = await ctx.services.scrapes.scrape(caller, parsed);
    const { result } = outcome.envelope;
    return {
      status: outcome.httpStatus,
      logUuid: outcome.logUuid,
      upstreamStatus: result.status_code,
      format: result.format,
      contentType: result.content_type,
      content: result.content,
      ...(outcome.error ? { error: { code: outcome.error.code, reason: outcome.error.reason } } : {}),
    };
  } catch (error) {
    if (!(error instanceof ScrapeRefused)) throw error;
    return {
      status: error.error.definition.httpStatus,
      logUuid: error.logUuid,
      error: { code: error.error.code, reason: error.error.reason },
    };
  }
}

function answerView(answer: ScrapeAnswer): Html {
  const shown = shownText(answer.content ?? '');
  return html`<section id="answer" data-status="${answer.status}">
    <h2>Answer: HTTP ${answer.status}</h2>
    ${logLink(answer.logUuid)}
    ${details(
      [
        ['API status', outcomeOf(answer.status)],
        answer.upstreamStatus !== undefined
          ? ['Target status', upstreamOf(answer.upstreamStatus || null)]
          : false,
        answer.error ? ['Error', html`<code>${answer.error.code}</code> ${answer.error.reason}`] : false,
        answer.format ? ['result.format', answer.format] : false,
        answer.contentType ? ['Content type', answer.contentType] : false,
      ],
      'answer-details',
    )}
    ${
      answer.content !== undefined
        ? html`<h2>Content</h2>
            <pre id="scrape-answer-content">${shown.text}</pre>
            ${shown.cut ? html`<p class="muted">Cut here: the log and the API answer the whole content.</p>` : ''}`
        : ''
    }
  </section>`;
}

const page: DashboardPage = {
  register(app, ctx) {
    const render = async (
      request: FastifyRequest,
      reply: FastifyReply,
      form: Form,
      result: { answer?: ScrapeAnswer; error?: { code: string; reason: string } } = {},
    ) => {
      const sent = FIELDS.filter(({ name }) => formValue(name, undefined, form) !== undefined).map(
        (f) => f.name,
      );
      const errorField = result.error ? fieldOfError(result.error.reason, sent) : undefined;
      return ctx.render(request, reply, {
        title: 'Playground: scrape',
        active: 'playground',
        body: html`<h1>Playground</h1>
          ${playgroundTabs('scrape')}
          <p class="muted">
            <a href="/docs">/scrape</a>, the Web Scraping API, run as the chosen project (billed and logged
            like any call). Leave a field empty to use its default.
          </p>
          ${result.error ? refusalView(result.error, errorField) : ''}
          <form method="post" action="/dashboard/playground/scrape" id="playground">
            ${csrfInput(ctx.csrf(request))} ${await callerFields(ctx, form, request)}
            ${fieldsView(FIELDS, form, { field: errorField, reason: result.error?.reason })}
            <p><button type="submit" data-action="scrape">Scrape</button></p>
          </form>
          ${result.answer ? answerView(result.answer) : ''}
          ${
            form.url
              ? html`<h2>The same call in code</h2>
                  <div class="snippets">
                    ${snippet('playground-curl', 'curl', scrapeCurlFor(ctx.settings.publicUrl, form), true)}
                    ${snippet(
                      'playground-scrapfly-sdk',
                      html`Scrapfly's SDK, <code>scrapfly-sdk</code>, pointed at this host`,
                      scrapeSdkCallFor(ctx.settings.publicUrl, form),
                    )}
                  </div>`
              : ''
          }`,
      });
    };

    app.get('/playground/scrape', async (request, reply) => render(request, reply, {}));

    app.post('/playground/scrape', async (request, reply) => {
      const form = formOf(request);
      try {
        return await render(request, reply, form, { answer: await run(ctx, form) });
      } catch (error) {
        // A refused request keeps the form as typed, the reason next to its field.
        if (!isApiError(error)) throw error;
        return render(request, reply, form, { error: { code: error.code, reason: error.reason } });
      }
    });
  },
};

export default page;
