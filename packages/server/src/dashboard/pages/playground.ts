import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorBody, isApiError } from '../../errors.js';
import { screenshotQuery } from '../../request/screenshot-parameters.js';
import { parseScreenshotRequest } from '../../request/screenshot-request.js';
import { ScreenshotFailure } from '../../jobs/screenshot-service.js';
import { answerHeaders, rejectHeaders } from '../../scrapfly-headers.js';
import { csrfInput, details, inlineError, selectField } from '../components.js';
import type { DashboardContext, DashboardPage, Env } from '../context.js';
import { html, type Html } from '../html.js';
import { formOf, type Form } from '../session.js';

/**
 * Every parameter of GET /screenshot, read from the route's own schema (so a parameter added there shows
 * up here), except the key: the playground runs as the chosen project, signed in as the admin.
 */
const PARAMETERS = Object.entries(screenshotQuery.shape)
  .filter(([name]) => name !== 'key')
  .map(([name, schema]) => ({ name, description: schema.description ?? '' }));
const NUMBERS = new Set(['timeout', 'rendering_wait', 'cache_ttl']);
const BOOLEANS = new Set(['auto_scroll', 'cache', 'cache_clear']);

/** The form's values as API query parameters: empty fields are left out; js is typed plain, sent base64url. */
export function apiParameters(form: Form): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name } of PARAMETERS) {
    const value = form[name]?.trim();
    if (!value) continue;
    out[name] = name === 'js' ? Buffer.from(value).toString('base64url') : value;
  }
  return out;
}

export function curlFor(publicUrl: string, params: Record<string, string>): string {
  const qs = Object.entries(params)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
  const extension = params.format ?? 'jpg';
  // Single quotes keep the shell from touching the URL; the key comes from the environment.
  return `curl -D - -o screenshot.${extension} '${publicUrl}/screenshot?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}

/** The same call with @snapwire/sdk (numbers, booleans and option lists typed as the SDK takes them). */
export function sdkCallFor(publicUrl: string, form: Form): string {
  const fields: string[] = [];
  for (const { name } of PARAMETERS) {
    const value = form[name]?.trim();
    if (!value) continue;
    let literal: string;
    if (NUMBERS.has(name) && /^\d+$/.test(value)) literal = value;
    else if (BOOLEANS.has(name) && /^(true|false)$/.test(value)) literal = value;
    else if (name === 'options')
      literal = `[${value
        .split(',')
        .map((o) => JSON.stringify(o.trim()))
        .join(', ')}]`;
    else literal = JSON.stringify(value);
    fields.push(`  ${name}: ${literal},`);
  }
  return [
    "import { SnapwireClient } from '@snapwire/sdk';",
    '',
    `const client = new SnapwireClient({ host: ${JSON.stringify(publicUrl)}, key: process.env.SNAPWIRE_KEY! });`,
    `const shot = await client.screenshot({\n${fields.join('\n')}\n});`,
  ].join('\n');
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  image?: string;
  json?: unknown;
}

function answerView(answer: Answer): Html {
  return html`<section id="answer" data-status="${answer.status}">
    <h2>Answer: HTTP ${answer.status}</h2>
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

async function run(ctx: DashboardContext, form: Form, started: number): Promise<Answer> {
  const { projects, screenshots, asyncScreenshots, settings } = { ...ctx.services };
  const project = await projects.findByName(form.project ?? '');
  if (!project) throw new ApiError('ERR::API::NOT_FOUND', `No project named "${form.project ?? ''}"`);
  const caller = { project, env: (form.env === 'TEST' ? 'TEST' : 'LIVE') as Env };
  const parsed = parseScreenshotRequest(apiParameters(form), settings);
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
      headers: answerHeaders(outcome, { elapsedMs: Date.now() - started }),
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
    const render = async (
      request: FastifyRequest,
      reply: FastifyReply,
      form: Form,
      result: { answer?: Answer; error?: string } = {},
    ) => {
      const all = await ctx.services.projects.list();
      const params = apiParameters(form);
      const filled = Object.keys(params).length > 0;
      return ctx.render(request, reply, {
        title: 'Playground',
        active: 'playground',
        body: html`<h1>Playground</h1>
          <p class="muted">
            Every parameter of <a href="/docs">GET /screenshot</a>, run as the chosen project (billed and
            logged like any call). Leave a field empty to use its default.
          </p>
          <form method="post" action="/dashboard/playground" id="playground">
            ${csrfInput(ctx.csrf(request))}
            <div class="playground">
              ${selectField(
                'Project',
                'project',
                all.map((p) => p.name),
                form.project ?? 'default',
              )}
              ${selectField('Environment', 'env', ['LIVE', 'TEST'], form.env ?? 'LIVE')}
              ${PARAMETERS.map(({ name, description }) =>
                name === 'js'
                  ? html`<label
                      >js (plain JavaScript; encoded for you)<textarea
                        name="js"
                        rows="2"
                        title="${description}"
                      >
${form.js ?? ''}</textarea>
                    </label>`
                  : html`<label title="${description}"
                      >${name}${name === 'url' ? ' *' : ''}<input
                        name="${name}"
                        value="${form[name] ?? ''}"
                        placeholder="${description.slice(0, 60)}"
                    /></label>`,
              )}
            </div>
            <p><button type="submit" data-action="take">Take the screenshot</button></p>
          </form>
          ${inlineError(result.error)} ${result.answer ? answerView(result.answer) : ''}
          ${
            filled
              ? html`<h2>The same call with curl</h2>
                  <pre id="playground-curl">${curlFor(ctx.settings.publicUrl, params)}</pre>
                  <h2>With the SDK</h2>
                  <pre id="playground-sdk">${sdkCallFor(ctx.settings.publicUrl, form)}</pre>`
              : ''
          }`,
      });
    };

    app.get('/playground', async (request, reply) => render(request, reply, {}));

    app.post('/playground', async (request, reply) => {
      const form = formOf(request);
      try {
        return await render(request, reply, form, { answer: await run(ctx, form, Date.now()) });
      } catch (error) {
        // A refused request (bad parameter, unknown webhook, ...) keeps the form as typed, reason inline.
        if (!isApiError(error)) throw error;
        return render(request, reply, form, { error: `${error.code}: ${error.reason}` });
      }
    });
  },
};

export default page;
