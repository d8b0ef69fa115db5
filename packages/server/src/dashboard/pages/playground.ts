import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, isApiError } from '../../errors.js';
import { screenshotQuery } from '../../request/screenshot-parameters.js';
import { parseScreenshotRequest } from '../../request/screenshot-request.js';
import { ScreenshotFailure } from '../../jobs/screenshot-service.js';
import { answerHeaders, rejectHeaders } from '../../scrapfly-headers.js';
import { copyButton, csrfInput, details } from '../components.js';
import type { DashboardContext, DashboardPage } from '../context.js';
import { html, raw, type Html } from '../html.js';
import { fieldKinds, fieldOfError, formValue, renderField, type FieldKind } from '../playground-fields.js';
import { callerFields, callerOf, playgroundTabs, refusalView, snippet } from '../playground-shared.js';
import { formOf, type Form } from '../session.js';
import { startStopwatch } from '../../clock.js';

/**
 * Every parameter of GET /screenshot, read from the route's own schema (so a parameter added there shows
 * up here), except the key: the playground runs as the chosen project, signed in as the admin.
 */
const PARAMETERS = Object.entries(screenshotQuery.shape)
  .filter(([name]) => name !== 'key')
  .map(([name, schema]) => ({ name, description: schema.description ?? '' }));

/** The parameters scrapfly-sdk's ScreenshotConfig takes (its name when it differs); the rest are Snapwire's. */
const SCRAPFLY_SDK_FIELDS: Record<string, string> = {
  url: 'url',
  format: 'format',
  capture: 'capture',
  resolution: 'resolution',
  country: 'country',
  timeout: 'timeout',
  rendering_wait: 'rendering_wait',
  wait_for_selector: 'wait_for_selector',
  options: 'options',
  auto_scroll: 'auto_scroll',
  js: 'js',
  cache: 'cache',
  cache_ttl: 'cache_ttl',
  cache_clear: 'cache_clear',
  vision_deficiency: 'vision_deficiency',
  webhook_name: 'webhook',
};
/** Formats scrapfly-sdk's ScreenshotConfig accepts (pdf is a Snapwire extension). */
const SCRAPFLY_SDK_FORMATS = ['jpg', 'png', 'webp', 'gif'];
/** Parameters both SDKs take as lists (sent as comma lists). */
const COMMA_LISTS = new Set(['options', 'hide_selectors']);

const KINDS = (maxTimeoutMs: number) => fieldKinds(maxTimeoutMs);

/** The form's values as API query parameters: empty fields are left out; js is typed plain, sent base64url. */
export function apiParameters(form: Form, kinds = KINDS(120_000)): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const { name } of PARAMETERS) {
    const value = formValue(name, kinds[name], form);
    if (value === undefined) continue;
    out[name] = name === 'js' && typeof value === 'string' ? Buffer.from(value).toString('base64url') : value;
  }
  return out;
}

export function curlFor(publicUrl: string, params: Record<string, string | string[]>): string {
  const qs = Object.entries(params)
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one) => [name, one] as const))
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
  const extension = typeof params.format === 'string' ? params.format : 'jpg';
  // Single quotes keep the shell from touching the URL; the key comes from the environment.
  return `curl -D - -o screenshot.${extension} '${publicUrl}/screenshot?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}

/** A form value as a TypeScript literal of the type both SDKs take (numbers, booleans and lists typed). */
function literalOf(name: string, value: string | string[], kind: FieldKind | undefined): string {
  if (Array.isArray(value)) return `[${value.map((one) => JSON.stringify(one)).join(', ')}]`;
  if (kind?.kind === 'number' && /^\d+(\.\d+)?$/.test(value)) return value;
  if ((kind?.kind === 'checkbox' || kind?.kind === 'choice') && /^(true|false)$/.test(value)) return value;
  if (COMMA_LISTS.has(name) || kind?.kind === 'lines')
    return `[${value
      .split(kind?.kind === 'lines' ? /\n/ : ',')
      .map((one) => JSON.stringify(one.trim()))
      .join(', ')}]`;
  return JSON.stringify(value);
}

/** The form's values as the SDKs take them: js stays plain JavaScript (the SDKs encode it). */
function sdkFields(form: Form, kinds: Record<string, FieldKind>): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const { name } of PARAMETERS) {
    const value = formValue(name, kinds[name], form);
    if (value !== undefined) fields.push([name, literalOf(name, value, kinds[name])]);
  }
  return fields;
}

/** The same call with @snapwire/sdk. */
export function sdkCallFor(publicUrl: string, form: Form, kinds = KINDS(120_000)): string {
  const fields = sdkFields(form, kinds).map(([name, literal]) => `  ${name}: ${literal},`);
  return [
    "import { SnapwireClient } from '@snapwire/sdk';",
    '',
    `const client = new SnapwireClient({\n  host: ${JSON.stringify(publicUrl)},\n  key: process.env.SNAPWIRE_KEY!,\n});`,
    `const shot = await client.screenshot({\n${fields.join('\n')}\n});`,
  ].join('\n');
}

/**
 * The fields of scrapfly-sdk's ScreenshotConfig for the form (what the snippet passes), and the Snapwire
 * extensions it cannot express.
 */
export function scrapflyConfigFor(
  form: Form,
  kinds = KINDS(120_000),
): { fields: Array<[string, string]>; left: string[] } {
  const fields: Array<[string, string]> = [];
  const left: string[] = [];
  for (const [name, literal] of sdkFields(form, kinds)) {
    const field = SCRAPFLY_SDK_FIELDS[name];
    const unsupportedFormat = name === 'format' && !SCRAPFLY_SDK_FORMATS.includes(form.format ?? '');
    if (field && !unsupportedFormat) fields.push([field, literal]);
    else left.push(unsupportedFormat ? 'format=pdf' : name);
  }
  return { fields, left };
}

/** The same call with Scrapfly's own SDK, pointed at this service: the product's promise. */
export function scrapflySdkCallFor(publicUrl: string, form: Form, kinds = KINDS(120_000)): string {
  const { fields, left } = scrapflyConfigFor(form, kinds);
  const notes: string[] = [];
  if (left.length)
    notes.push(
      "// Not in scrapfly-sdk's ScreenshotConfig (Snapwire extensions):",
      `// ${left.join(', ')}. Use @snapwire/sdk or the curl for those.`,
    );
  if (fields.some(([name, literal]) => name === 'rendering_wait' && literal === '0'))
    notes.push(
      '// scrapfly-sdk leaves out rendering_wait: 0 (a falsy value):',
      '// the 1000 ms default applies.',
    );
  return [
    "import { ScrapflyClient, ScreenshotConfig } from 'scrapfly-sdk';",
    '',
    `const client = new ScrapflyClient({\n  key: process.env.SNAPWIRE_KEY!,\n  host: ${JSON.stringify(publicUrl)},\n});`,
    ...notes,
    `const result = await client.screenshot(\n  new ScreenshotConfig({\n${fields
      .map(([name, literal]) => `    ${name}: ${literal},`)
      .join('\n')}\n  }),\n);`,
    '// result.image: the bytes; result.metadata: extension, upstream status',
  ].join('\n');
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  image?: string;
  json?: unknown;
}

function answerView(answer: Answer): Html {
  const logUuid = answer.headers['x-scrapfly-log-uuid'];
  return html`<section id="answer" data-status="${answer.status}">
    <h2>Answer: HTTP ${answer.status}</h2>
    ${
      logUuid
        ? html`<p id="answer-log">
            Logged as
            <a href="/dashboard/monitoring/log/${logUuid}"><code>${logUuid}</code></a
            >${copyButton(logUuid)} (the log page: timings, what was blocked, the request again)
          </p>`
        : ''
    }
    ${
      answer.image
        ? html`<a href="${answer.image}"
            ><img
              class="shot"
              id="playground-image"
              alt="the screenshot"
              src="${answer.image}"
              style="max-width:min(560px,100%)"
          /></a>`
        : ''
    }
    ${answer.json !== undefined ? html`<pre id="answer-json">${JSON.stringify(answer.json, null, 2)}</pre>` : ''}
    <h2>Answer headers</h2>
    ${details(
      Object.entries(answer.headers).map(([name, value]): [string, string] => [name, value]),
      'answer-headers',
    )}
  </section>`;
}

async function run(
  ctx: DashboardContext,
  form: Form,
  kinds: Record<string, FieldKind>,
  elapsed: () => number,
): Promise<Answer> {
  const { screenshots, asyncScreenshots, settings } = ctx.services;
  const caller = await callerOf(ctx, form);
  const parsed = parseScreenshotRequest(apiParameters(form, kinds), settings);
  if (parsed.webhookName !== undefined) {
    const accepted = await asyncScreenshots.accept(caller, parsed);
    return {
      status: 201,
      headers: {
        'content-type': 'application/json',
        'x-scrapfly-log-uuid': accepted.log_uuid,
        'x-scrapfly-log-url': accepted.log_url,
      },
      json: accepted,
    };
  }
  try {
    const outcome = await screenshots.take(caller, parsed);
    return {
      status: 200,
      headers: answerHeaders(outcome, { elapsedMs: elapsed() }),
      image: `/dashboard/monitoring/log/${outcome.logUuid}/image`,
    };
  } catch (error) {
    if (!(error instanceof ScreenshotFailure)) throw error;
    const errorId = randomUUID();
    return {
      status: error.error.definition.httpStatus,
      headers: {
        'content-type': 'application/json',
        ...rejectHeaders(error.error, errorId, ctx.services.settings.publicUrl),
        'x-scrapfly-log-uuid': error.logUuid,
        'x-scrapfly-api-cost': String(error.cost),
      },
      json: errorBody(error.error, errorId, ctx.services.settings.publicUrl),
    };
  }
}

const page: DashboardPage = {
  nav: { key: 'playground', href: '/dashboard/playground', label: 'Playground' },
  register(app, ctx) {
    const kinds = KINDS(ctx.settings.maxTimeoutMs);
    const render = async (
      request: FastifyRequest,
      reply: FastifyReply,
      form: Form,
      result: { answer?: Answer; error?: { code: string; reason: string } } = {},
    ) => {
      const params = apiParameters(form, kinds);
      const filled = Object.keys(params).length > 0;
      // A refusal shows next to the field it is about; one about no field shows above the form.
      const errorField = result.error ? fieldOfError(result.error.reason, Object.keys(params)) : undefined;
      const field = ({ name, description }: (typeof PARAMETERS)[number]) =>
        renderField({
          name,
          description,
          kind: kinds[name],
          form,
          error: name === errorField ? result.error?.reason : undefined,
        });
      const scrapfly = PARAMETERS.filter(({ name }) => name in SCRAPFLY_SDK_FIELDS);
      const extensions = PARAMETERS.filter(({ name }) => !(name in SCRAPFLY_SDK_FIELDS));
      const extensionsUsed = extensions.some(({ name }) => name in params || name === errorField);
      return ctx.render(request, reply, {
        title: 'Playground',
        active: 'playground',
        body: html`<h1>Playground</h1>
          ${playgroundTabs('screenshot')}
          <p class="muted">
            Every parameter of <a href="/docs">GET /screenshot</a>, run as the chosen project (billed and
            logged like any call). Leave a field empty to use its default.
          </p>
          ${result.error ? refusalView(result.error, errorField) : ''}
          <form method="post" action="/dashboard/playground" id="playground">
            ${csrfInput(ctx.csrf(request))} ${await callerFields(ctx, form, request)}
            <div class="fields">${scrapfly.map(field)}</div>
            <details class="group" id="extensions" ${extensionsUsed ? raw('open') : ''}>
              <summary>
                Snapwire extensions (${extensions.length}): devices, cookies, PDF, hidden elements, …
              </summary>
              <div class="fields">${extensions.map(field)}</div>
            </details>
            <p><button type="submit" data-action="take">Take the screenshot</button></p>
          </form>
          ${result.answer ? answerView(result.answer) : ''}
          ${
            filled
              ? html`<h2>The same call in code</h2>
                  <div class="snippets">
                    ${snippet('playground-curl', 'curl', curlFor(ctx.settings.publicUrl, params), true)}
                    ${snippet(
                      'playground-scrapfly-sdk',
                      html`Scrapfly's SDK, <code>scrapfly-sdk</code>, pointed at this host`,
                      scrapflySdkCallFor(ctx.settings.publicUrl, form, kinds),
                    )}
                    ${snippet(
                      'playground-sdk',
                      html`<code>@snapwire/sdk</code> (every extension)`,
                      sdkCallFor(ctx.settings.publicUrl, form, kinds),
                    )}
                  </div>`
              : ''
          }`,
      });
    };

    app.get('/playground', async (request, reply) => render(request, reply, {}));

    app.post('/playground', async (request, reply) => {
      const form = formOf(request);
      try {
        return await render(request, reply, form, { answer: await run(ctx, form, kinds, startStopwatch()) });
      } catch (error) {
        // A refused request (bad parameter, unknown webhook, ...) keeps the form as typed, reason inline.
        if (!isApiError(error)) throw error;
        return render(request, reply, form, { error: { code: error.code, reason: error.reason } });
      }
    });
  },
};

export default page;
