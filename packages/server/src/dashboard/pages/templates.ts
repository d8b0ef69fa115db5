import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, Project } from '../../accounts/projects.js';
import { isApiError, type ApiError } from '../../errors.js';
import { parseTemplateJson } from '../../extraction/template.js';
import { ExtractionFailure } from '../../jobs/extraction-service.js';
import { parseExtractionRequest } from '../../request/extraction-request.js';
import { parseScrapeRequest } from '../../request/scrape-request.js';
import { ScrapeRefused } from '../../scrape/scrape-service.js';
import { csrfInput, inlineError, selectField, table, textField } from '../components.js';
import { scopePicker, type DashboardPage, type Env } from '../context.js';
import { html } from '../html.js';
import { formOf, type Form } from '../session.js';

/** Media types the editor offers for a pasted document. */
const CONTENT_TYPES = ['text/html', 'application/json', 'text/xml', 'text/markdown', 'text/plain'];
const EXAMPLE = JSON.stringify({ selectors: [{ name: 'title', type: 'css', query: 'h1::text' }] }, null, 2);

interface Editor {
  form: Form;
  /** What a try extracted, or the reason it failed. */
  result?: unknown;
  error?: string;
  status?: number;
}

const ephemeral = (text: string) => `ephemeral:${Buffer.from(text, 'utf8').toString('base64url')}`;

/**
 * Saved extraction templates of one project + environment (what extraction_template=persistent:NAME runs),
 * and an editor that tries a template on a pasted document or a URL, then saves it. A try is a real call as
 * that project: billed and logged like the API's.
 */
const page: DashboardPage = {
  nav: { key: 'templates', href: '/dashboard/templates', label: 'Templates' },
  register(app, ctx) {
    const { projects, extractionTemplates, extractions, scrapes, settings } = ctx.services;

    const render = async (
      request: FastifyRequest,
      reply: FastifyReply,
      scope: { all: Project[]; project: Project | undefined; env: Env },
      editor: Editor,
    ) => {
      const { all, project, env } = scope;
      if (!project) {
        return ctx.render(request, reply, {
          title: 'Templates',
          active: 'templates',
          body: html`<h1>Extraction templates</h1>
            <p class="empty">
              No project yet: create one on <a href="/dashboard/projects">Projects & keys</a>.
            </p>`,
        });
      }
      const list = await extractionTemplates.list({ project, env });
      const { form } = editor;
      const link = (name: string) =>
        `/dashboard/templates?project=${encodeURIComponent(project.name)}&env=${env}&name=${encodeURIComponent(name)}`;
      return ctx.render(request, reply, {
        title: 'Templates',
        active: 'templates',
        status: editor.status ?? 200,
        body: html`<h1>Extraction templates</h1>
          ${scopePicker('/dashboard/templates', all, project, env)}
          ${table({
            id: 'templates',
            rows: list,
            empty: `No saved template in ${project.name} (${env}) yet: write one below, try it, then save it.`,
            columns: [
              { label: 'Name', cell: (t) => html`<a href="${link(t.name)}">${t.name}</a>` },
              { label: 'Selectors', cell: (t) => (t.template as { selectors: unknown[] }).selectors.length },
              { label: 'Updated', cell: (t) => t.updated_at },
              { label: 'Use as', cell: (t) => `extraction_template=persistent:${t.name}` },
            ],
          })}
          <h2>Editor (${project.name}, ${env})</h2>
          <form method="post" action="/dashboard/templates/try" id="template-editor">
            ${csrfInput(ctx.csrf(request))}
            <input type="hidden" name="project" value="${project.name}" />
            <input type="hidden" name="env" value="${env}" />
            ${textField('Name', 'name', form.name, { placeholder: 'product' })}
            <label
              >Template (JSON)<textarea name="template" rows="14" cols="80">
${form.template ?? EXAMPLE}</textarea>
            </label>
            <label
              >Document to try it on (pasted)<textarea name="document" rows="8" cols="80">
${form.document ?? ''}</textarea>
            </label>
            ${selectField('Its content type', 'content_type', CONTENT_TYPES, form.content_type ?? 'text/html')}
            ${textField('or a URL (scraped without a browser)', 'url', form.url, { size: 50 })}
            <button type="submit">Try</button>
            <button type="submit" formaction="/dashboard/templates/save">Save</button>
            <button type="submit" formaction="/dashboard/templates/delete" formnovalidate>Delete</button>
          </form>
          ${inlineError(editor.error)}
          ${
            editor.result !== undefined
              ? html`<h2>Result</h2>
                  <pre id="template-result">${JSON.stringify(editor.result, null, 2)}</pre>`
              : ''
          }`,
      });
    };

    /** The project + environment a form posts, as the caller its calls run as. */
    const callerOf = async (form: Form) => {
      const all = await projects.list();
      const project = all.find((p) => p.name === form.project);
      const env: Env = form.env === 'TEST' ? 'TEST' : 'LIVE';
      return { all, project, env, caller: project ? ({ project, env } as Caller) : undefined };
    };

    /** Runs the typed template as the API would: on the pasted document, else on the scraped URL. */
    const tryTemplate = async (caller: Caller, form: Form): Promise<unknown> => {
      const text = form.template ?? '';
      parseTemplateJson(text);
      const document = form.document ?? '';
      if (document.trim() === '' && form.url) {
        const request = parseScrapeRequest(
          { url: form.url, extraction_template: ephemeral(text) },
          { method: 'GET', contentType: undefined, body: undefined },
          { maxTimeoutMs: settings.maxTimeoutMs },
        );
        const outcome = await scrapes.scrape(caller, request);
        if (outcome.error) throw outcome.error;
        return outcome.envelope.result.extracted_data?.data;
      }
      const request = parseExtractionRequest(
        {
          content_type: form.content_type ?? 'text/html',
          extraction_template: ephemeral(text),
          ...(form.url ? { url: form.url } : {}),
        },
        { maxTimeoutMs: settings.maxTimeoutMs },
      );
      const outcome = await extractions.extract(caller, request, {
        bytes: Buffer.from(document, 'utf8'),
        contentEncoding: undefined,
      });
      return outcome.result.data;
    };

    const refusal = (error: unknown): ApiError | undefined =>
      error instanceof ExtractionFailure || error instanceof ScrapeRefused
        ? error.error
        : isApiError(error)
          ? error
          : undefined;

    app.get('/templates', async (request, reply) => {
      const scope = await ctx.scope(request);
      const name = (request.query as Record<string, unknown>).name;
      const form: Form = {};
      if (scope.project && typeof name === 'string' && name !== '') {
        const saved = (await extractionTemplates.list({ project: scope.project, env: scope.env })).find(
          (t) => t.name === name,
        );
        if (saved) Object.assign(form, { name, template: JSON.stringify(saved.template, null, 2) });
      }
      return render(request, reply, scope, { form });
    });

    app.post('/templates/try', async (request, reply) => {
      const form = formOf(request);
      const { caller, ...scope } = await callerOf(form);
      if (!caller) return ctx.back(reply, '/dashboard/templates', 'Unknown project');
      try {
        return await render(request, reply, scope, { form, result: await tryTemplate(caller, form) });
      } catch (error) {
        const apiError = refusal(error);
        if (!apiError) throw error;
        return render(request, reply, scope, {
          form,
          error: `${apiError.code}: ${apiError.reason}`,
          status: apiError.definition.httpStatus,
        });
      }
    });

    app.post('/templates/save', async (request, reply) => {
      const form = formOf(request);
      const { caller, ...scope } = await callerOf(form);
      if (!caller) return ctx.back(reply, '/dashboard/templates', 'Unknown project');
      try {
        const template: unknown = parseTemplateJson(form.template ?? '') && JSON.parse(form.template ?? '');
        await extractionTemplates.put(caller, form.name ?? '', template);
        return ctx.back(
          reply,
          `/dashboard/templates?project=${encodeURIComponent(caller.project.name)}&env=${caller.env}&name=${encodeURIComponent(form.name ?? '')}`,
          `Saved ${form.name}: use it as extraction_template=persistent:${form.name}`,
        );
      } catch (error) {
        if (!isApiError(error)) throw error;
        return render(request, reply, scope, {
          form,
          error: `${error.code}: ${error.reason}`,
          status: error.definition.httpStatus,
        });
      }
    });

    app.post('/templates/delete', async (request, reply) => {
      const form = formOf(request);
      const { caller, ...scope } = await callerOf(form);
      if (!caller) return ctx.back(reply, '/dashboard/templates', 'Unknown project');
      try {
        await extractionTemplates.remove(caller, form.name ?? '');
      } catch (error) {
        if (!isApiError(error)) throw error;
        return render(request, reply, scope, { form, error: error.reason, status: 404 });
      }
      return ctx.back(
        reply,
        `/dashboard/templates?project=${encodeURIComponent(caller.project.name)}&env=${caller.env}`,
        `Deleted ${form.name}`,
      );
    });
  },
};

export default page;
