import type { FastifyReply, FastifyRequest } from 'fastify';
import { isApiError } from '../../errors.js';
import { ExtractionFailure } from '../../jobs/extraction-service.js';
import { EXTRACTION_MODELS, parseExtractionRequest } from '../../request/extraction-request.js';
import { csrfInput, details } from '../components.js';
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

const CONTENT_TYPES = ['text/html', 'application/json', 'text/xml', 'text/plain', 'text/markdown'];

/** The Extraction tab's fields: the document, then one way to extract (a template, a prompt or a model). */
const FIELDS: Array<{ name: string; kind: FieldKind; description: string }> = [
  {
    name: 'document',
    kind: { kind: 'textarea', placeholder: '<html>…</html>', rows: 8 },
    description: 'The document to extract from, pasted as it is (the body of POST /extraction)',
  },
  {
    name: 'content_type',
    kind: { kind: 'select', values: CONTENT_TYPES, fallback: 'text/html' },
    description: 'The media type of the document',
  },
  {
    name: 'url',
    kind: { kind: 'text', placeholder: 'https://shop.example/item' },
    description: "The document's address (optional): links are made absolute against it",
  },
  {
    name: 'extraction_template',
    kind: {
      kind: 'textarea',
      placeholder: '{"source": "html", "selectors": [{"name": "title", "type": "css", "query": "h1::text"}]}',
      rows: 6,
    },
    description:
      'A rules template as JSON (selectors, formatters, extractors); the playground sends it as ephemeral:BASE64URL',
  },
  {
    name: 'extraction_prompt',
    kind: { kind: 'textarea', placeholder: 'What is the price of the product?', rows: 2 },
    description: "Or a request about the document for the operator's language model (needs SNAPWIRE_LLM_*)",
  },
  {
    name: 'extraction_model',
    kind: { kind: 'select', values: EXTRACTION_MODELS, fallback: 'none' },
    description: 'Or an auto-extraction model, answered in its documented shape by the language model',
  },
];

/** The form as /extraction's query parameters: the template JSON becomes ephemeral:BASE64URL. */
export function extractionParameters(form: Form): Record<string, string> {
  const out: Record<string, string> = { content_type: form.content_type || 'text/html' };
  for (const { name, kind } of FIELDS) {
    if (name === 'document' || name === 'content_type') continue;
    const value = formValue(name, kind, form);
    if (typeof value !== 'string') continue;
    out[name] =
      name === 'extraction_template' ? `ephemeral:${Buffer.from(value).toString('base64url')}` : value;
  }
  return out;
}

export function extractionCurlFor(publicUrl: string, form: Form): string {
  const params = extractionParameters(form);
  const qs = Object.entries(params)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
  // The document is long: the command reads it from a file.
  return `curl -X POST -H 'content-type: ${params.content_type}' --data-binary @document '${publicUrl}/extraction?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}

interface ExtractionAnswer {
  status: number;
  logUuid: string;
  data?: unknown;
  contentType?: string;
  dataQuality?: string | undefined;
  cost?: number;
  error?: { code: string; reason: string };
}

async function run(ctx: DashboardContext, form: Form): Promise<ExtractionAnswer> {
  const caller = await callerOf(ctx, form);
  const parsed = parseExtractionRequest(extractionParameters(form), {
    maxTimeoutMs: ctx.services.settings.maxTimeoutMs,
  });
  try {
    const outcome = await ctx.services.extractions.extract(caller, parsed, {
      bytes: Buffer.from(form.document ?? ''),
      contentEncoding: undefined,
    });
    return {
      status: 200,
      logUuid: outcome.logUuid,
      data: outcome.result.data,
      contentType: outcome.result.content_type,
      dataQuality: outcome.result.data_quality,
      cost: outcome.cost,
    };
  } catch (error) {
    if (!(error instanceof ExtractionFailure)) throw error;
    return {
      status: error.error.definition.httpStatus,
      logUuid: error.logUuid,
      error: { code: error.error.code, reason: error.error.reason },
    };
  }
}

function answerView(answer: ExtractionAnswer): Html {
  const data = shownText(
    typeof answer.data === 'string' ? answer.data : JSON.stringify(answer.data ?? null, null, 2),
  );
  return html`<section id="answer" data-status="${answer.status}">
    <h2>Answer: HTTP ${answer.status}</h2>
    ${logLink(answer.logUuid)}
    ${details(
      [
        answer.error ? ['Error', html`<code>${answer.error.code}</code> ${answer.error.reason}`] : false,
        answer.contentType ? ['content_type', answer.contentType] : false,
        answer.dataQuality ? ['data_quality', answer.dataQuality] : false,
        answer.cost !== undefined ? ['Cost', `${answer.cost} credits`] : false,
      ],
      'answer-details',
    )}
    ${
      answer.error
        ? ''
        : html`<h2>Data</h2>
            <pre id="extraction-data">${data.text}</pre>`
    }
  </section>`;
}

const page: DashboardPage = {
  register(app, ctx) {
    const render = async (
      request: FastifyRequest,
      reply: FastifyReply,
      form: Form,
      result: { answer?: ExtractionAnswer; error?: { code: string; reason: string } } = {},
    ) => {
      const sent = FIELDS.filter(({ name }) => formValue(name, undefined, form) !== undefined).map(
        (f) => f.name,
      );
      const errorField = result.error ? fieldOfError(result.error.reason, sent) : undefined;
      return ctx.render(request, reply, {
        title: 'Playground: extraction',
        active: 'playground',
        body: html`<h1>Playground</h1>
          ${playgroundTabs('extraction')}
          <p class="muted">
            <a href="/docs">POST /extraction</a>, the Extraction API, run as the chosen project (billed and
            logged like any call): paste a document, then give a rules template, a prompt or a model.
          </p>
          ${result.error ? refusalView(result.error, errorField) : ''}
          <form method="post" action="/dashboard/playground/extraction" id="playground">
            ${csrfInput(ctx.csrf(request))} ${await callerFields(ctx, form, request)}
            ${fieldsView(FIELDS, form, { field: errorField, reason: result.error?.reason })}
            <p><button type="submit" data-action="extract">Extract</button></p>
          </form>
          ${result.answer ? answerView(result.answer) : ''}
          ${
            form.document
              ? html`<h2>The same call in code</h2>
                  <div class="snippets">
                    ${snippet('playground-curl', 'curl', extractionCurlFor(ctx.settings.publicUrl, form), true)}
                  </div>`
              : ''
          }`,
      });
    };

    app.get('/playground/extraction', async (request, reply) => render(request, reply, {}));

    app.post('/playground/extraction', async (request, reply) => {
      const form = formOf(request);
      try {
        return await render(request, reply, form, { answer: await run(ctx, form) });
      } catch (error) {
        if (!isApiError(error)) throw error;
        return render(request, reply, form, { error: { code: error.code, reason: error.reason } });
      }
    });
  },
};

export default page;
