import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { answerObject, errorResponses, jsonResponse } from '../openapi.js';

// Saved extraction templates (README "Saved templates"): extraction_template=persistent:NAME (the TypeScript
// SDK) or NAME (the Python SDK) on /extraction and /scrape runs one of these.

const keyQuery = z.object({
  key: z.string().optional().describe('Project API key (LIVE or TEST: templates belong to one environment)'),
});
const nameParams = z.object({ name: z.string().describe('Template name (letters, digits, . - _)') });
const templateField = z
  .unknown()
  .describe(
    'The rules template (source, selectors with type, query, multiple, cast, formatters, extractor, nested), checked by the rules engine before it is saved',
  );

const savedSchema = answerObject({
  name: { type: 'string' },
  template: {
    type: 'object',
    description: 'The rules template: {source?, selectors: [...]}',
    required: ['selectors'],
    properties: {
      source: { type: 'string', enum: ['html', 'json'] },
      selectors: { type: 'array', items: { type: 'object', additionalProperties: true } },
    },
  },
  created_at: { type: 'string', format: 'date-time' },
  updated_at: { type: 'string', format: 'date-time' },
});

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const templates = services.extractionTemplates;
  const tags = ['extraction'];

  app.post(
    '/extraction/templates',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Save a new extraction template',
        openapi: {
          responses: {
            201: jsonResponse('The saved template', savedSchema),
            ...errorResponses(400, 409),
          },
        },
        tags,
        querystring: keyQuery,
        body: z.object({
          name: z.string().describe('Unique within the project and environment'),
          template: templateField,
        }),
      },
    },
    async (request, reply) => {
      const saved = await templates.create(callerOf(request), request.body.name, request.body.template);
      return reply.code(201).send(saved);
    },
  );

  app.get(
    '/extraction/templates',
    {
      config: { auth: 'key' },
      schema: {
        summary: "List the saved extraction templates of the key's project and environment",
        openapi: { responses: { 200: jsonResponse('{templates: [...]}, by name') } },
        tags,
        querystring: keyQuery,
      },
    },
    async (request) => ({ templates: await templates.list(callerOf(request)) }),
  );

  app.get(
    '/extraction/templates/:name',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Show a saved extraction template',
        openapi: { responses: { 200: jsonResponse('The template', savedSchema), ...errorResponses(404) } },
        tags,
        params: nameParams,
        querystring: keyQuery,
      },
    },
    async (request) => templates.get(callerOf(request), request.params.name),
  );

  app.put(
    '/extraction/templates/:name',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Replace a saved extraction template, or save it under a new name',
        openapi: {
          responses: {
            200: jsonResponse('The replaced template', savedSchema),
            201: jsonResponse('The template, saved under a new name', savedSchema),
            ...errorResponses(400),
          },
        },
        tags,
        params: nameParams,
        querystring: keyQuery,
        body: z.object({ template: templateField }),
      },
    },
    async (request, reply) => {
      const { saved, created } = await templates.put(
        callerOf(request),
        request.params.name,
        request.body.template,
      );
      return reply.code(created ? 201 : 200).send(saved);
    },
  );

  app.delete(
    '/extraction/templates/:name',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Delete a saved extraction template',
        openapi: { responses: { 204: { description: 'Deleted' }, ...errorResponses(404) } },
        tags,
        params: nameParams,
        querystring: keyQuery,
      },
    },
    async (request, reply) => {
      await templates.remove(callerOf(request), request.params.name);
      return reply.code(204).send();
    },
  );
};

export default route;
