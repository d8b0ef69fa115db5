// Over 400 lines as one coherent thing: the Crawler API's routes with the schemas the OpenAPI document and
// the SDKs' readers rely on; they share one parser of the crawl's uuid, its caller and its answers.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FORMAT_CONTENT_TYPES } from '../../crawler/page-contents.js';
import { ApiError } from '../../errors.js';
import {
  CRAWL_CONTENT_FORMATS,
  parseCrawlRequest,
  type CrawlContentFormat,
} from '../../request/crawl-request.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { apiErrorOf, JSON_RESULT_CONTENT_TYPE, jsonBytes, sendApiError } from '../errors.js';
import { answerObject, errorResponses, jsonResponse } from '../openapi.js';

/** The Crawler API (docs/compat.md §9), as both official SDKs call it. */

const URL_STATUSES = ['visited', 'pending', 'failed', 'skipped'] as const;
const CONTENTS_LIMITS = { defaultLimit: 10, maxLimit: 50 } as const;
const URLS_LIMITS = { defaultPerPage: 100, maxPerPage: 1_000 } as const;
/** A crawl's configuration (url_list of 10,000 URLs included) fits well within this. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const keyQuery = z.object({ key: z.string().optional().describe('Project API key (LIVE or TEST)') });
const uuidParams = z.object({ uuid: z.string().describe('The crawler_uuid POST /crawl answered') });

const COUNTS = [
  'urls_visited',
  'urls_extracted',
  'urls_failed',
  'urls_skipped',
  'urls_to_crawl',
  'api_credit_used',
  'duration',
];
const TIMES = ['start_time', 'stop_time'];
/** crawl-service.ts statusOf()'s state: every field always sent; the times are null until set. */
const STATE_SCHEMA = {
  type: 'object',
  required: [...COUNTS, ...TIMES, 'stop_reason'],
  properties: {
    ...Object.fromEntries(COUNTS.map((name) => [name, { type: 'number' }])),
    ...Object.fromEntries(
      TIMES.map((name) => [name, { type: ['number', 'null'], description: 'Unix seconds' }]),
    ),
    stop_reason: { type: ['string', 'null'] },
  },
};
const STATUS_SCHEMA = answerObject({
  crawler_uuid: { type: 'string' },
  status: { type: 'string', enum: ['PENDING', 'RUNNING', 'DONE', 'CANCELLED'] },
  is_finished: { type: 'boolean' },
  is_success: { type: ['boolean', 'null'] },
  state: STATE_SCHEMA,
});

const crawlerError = (error: ApiError) =>
  error.code === 'ERR::SCRAPE::CONFIG_ERROR'
    ? new ApiError('ERR::CRAWLER::CONFIG_ERROR', error.reason)
    : error;

const text = (value: unknown): string | undefined => {
  if (Array.isArray(value))
    throw new ApiError('ERR::CRAWLER::CONFIG_ERROR', 'A parameter was given twice; give it once');
  return typeof value === 'string' && value !== '' ? value : undefined;
};

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  const given = text(value);
  if (given === undefined) return fallback;
  const number = Number(given);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ApiError(
      'ERR::CRAWLER::CONFIG_ERROR',
      `${name} must be an integer from ${min} to ${max}, not "${given}"`,
    );
  }
  return number;
}

/** At most this many URLs in one POST /crawl/{uuid}/contents/batch (both SDKs check it too). */
const BATCH_MAX_URLS = 100;

function formatsOf(value: string | undefined): CrawlContentFormat[] {
  const names = (value ?? 'html')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(CRAWL_CONTENT_FORMATS as readonly string[]).includes(name)) {
      throw new ApiError(
        'ERR::CRAWLER::CONFIG_ERROR',
        `formats: "${name}" is not a content format; use ${CRAWL_CONTENT_FORMATS.join(', ')}`,
      );
    }
  }
  return [...new Set(names)] as CrawlContentFormat[];
}

function formatOf(query: Record<string, unknown>): CrawlContentFormat {
  // The TypeScript SDK sends `formats`, the Python SDK `format`: both are read.
  const given = text(query.formats) ?? text(query.format) ?? 'html';
  if (!(CRAWL_CONTENT_FORMATS as readonly string[]).includes(given)) {
    throw new ApiError(
      'ERR::CRAWLER::CONFIG_ERROR',
      `formats=${given} is not a content format; use one of ${CRAWL_CONTENT_FORMATS.join(', ')} (one per request)`,
    );
  }
  return given as CrawlContentFormat;
}

/** POST /crawl's body: JSON, or the TypeScript SDK's multipart form (a `config` JSON part, a `urls` part). */
async function crawlBodyOf(request: FastifyRequest): Promise<unknown> {
  const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const type = request.headers['content-type'] ?? '';
  const invalid = (why: string) =>
    new ApiError(
      'ERR::CRAWLER::CONFIG_ERROR',
      `${why}; send the configuration as a JSON object (Content-Type: application/json)`,
    );
  if (/^multipart\/form-data/i.test(type)) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': type } }).formData();
    } catch {
      throw invalid('The multipart body could not be read');
    }
    const config = form.get('config');
    const urls = form.get('urls');
    const parsed = parseJson(
      typeof config === 'string' ? config : config ? await config.text() : '{}',
      invalid,
    );
    if (urls !== null && typeof parsed === 'object' && parsed !== null) {
      const list = (typeof urls === 'string' ? urls : await urls.text())
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '');
      (parsed as Record<string, unknown>).url_list = list;
    }
    return parsed;
  }
  if (bytes.length === 0) throw invalid('The body is empty');
  return parseJson(bytes.toString('utf8'), invalid);
}

function parseJson(source: string, invalid: (why: string) => ApiError): unknown {
  try {
    return JSON.parse(source) as unknown;
  } catch {
    throw invalid('The body is not valid JSON');
  }
}

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const { crawls } = services;
  const tags = ['crawler'];
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => {
    done(null, body);
  });
  app.setErrorHandler((error, request, reply) =>
    sendApiError(reply, crawlerError(apiErrorOf(error, request))),
  );
  const json = (reply: FastifyReply, value: unknown) =>
    reply.header('content-type', JSON_RESULT_CONTENT_TYPE).send(jsonBytes(value));

  app.post(
    '/crawl',
    {
      config: { auth: 'key' },
      bodyLimit: MAX_BODY_BYTES,
      schema: {
        summary: 'Start a crawl',
        description:
          'The crawler configuration as a JSON body (url, page_limit, max_depth, max_duration, exclude_paths or include_only_paths, content_formats, ...; docs/compat.md §9), or multipart with a `config` JSON part and a `urls` part (url_list, one URL a line). Answers {crawler_uuid, status: PENDING}.',
        tags,
        querystring: keyQuery.loose(),
        openapi: {
          rawBody: {
            contentTypes: ['application/json', 'multipart/form-data'],
            description:
              'The crawler configuration (docs/compat.md §9): webhook_name + webhook_events, extraction_rules, rendering_delay / render_js included',
          },
          responses: {
            200: jsonResponse('The crawl, queued', {
              type: 'object',
              properties: { crawler_uuid: { type: 'string' }, status: { type: 'string', enum: ['PENDING'] } },
            }),
            ...errorResponses(400, 404, 429),
          },
        },
      },
    },
    async (request, reply) => {
      const parsed = parseCrawlRequest(await crawlBodyOf(request));
      return json(reply, await crawls.start(callerOf(request), parsed));
    },
  );

  app.get(
    '/crawl/:uuid/status',
    {
      config: { auth: 'key' },
      schema: {
        summary: "A crawl's status and counts",
        tags,
        params: uuidParams,
        querystring: keyQuery.loose(),
        openapi: { responses: { 200: jsonResponse('The status', STATUS_SCHEMA), ...errorResponses(404) } },
      },
    },
    async (request, reply) => json(reply, await crawls.status(callerOf(request), request.params.uuid)),
  );

  app.get(
    '/crawl/:uuid/urls',
    {
      config: { auth: 'key' },
      schema: {
        summary: "A crawl's URLs by status (text/plain, one a line; `url,reason` for failed and skipped)",
        tags,
        params: uuidParams,
        querystring: keyQuery.loose(),
        openapi: {
          querystring: keyQuery.extend({
            status: z.enum(URL_STATUSES).default('visited').optional(),
            page: z.int().min(1).default(1).optional(),
            per_page: z
              .int()
              .min(1)
              .max(URLS_LIMITS.maxPerPage)
              .default(URLS_LIMITS.defaultPerPage)
              .optional(),
          }),
          responses: {
            200: { description: 'One URL a line', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...errorResponses(400, 404),
          },
        },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const status = text(query.status) ?? 'visited';
      if (!(URL_STATUSES as readonly string[]).includes(status)) {
        throw new ApiError(
          'ERR::CRAWLER::CONFIG_ERROR',
          `status must be one of ${URL_STATUSES.join(', ')}, not "${status}"`,
        );
      }
      const body = await crawls.urls(callerOf(request), request.params.uuid, {
        status: status as (typeof URL_STATUSES)[number],
        page: integer(query.page, 'page', 1, 1, 1_000_000),
        perPage: integer(query.per_page, 'per_page', URLS_LIMITS.defaultPerPage, 1, URLS_LIMITS.maxPerPage),
      });
      return reply.header('content-type', 'text/plain; charset=utf-8').send(body);
    },
  );

  app.get(
    '/crawl/:uuid/contents',
    {
      config: { auth: 'key' },
      schema: {
        summary: "A crawl's page contents in one format",
        description:
          'JSON mode: {contents: {url: {format: content}}, links: {crawled_urls, next, prev}}, paged by limit and offset. plain=true with url: that page in that format, as is (404 ERR::CRAWLER::CONTENT_NOT_FOUND when the page was not visited).',
        tags,
        params: uuidParams,
        querystring: keyQuery.loose(),
        openapi: {
          querystring: keyQuery.extend({
            formats: z.enum(CRAWL_CONTENT_FORMATS).optional().describe('The format (the TypeScript SDK)'),
            format: z.enum(CRAWL_CONTENT_FORMATS).optional().describe('The format (the Python SDK)'),
            url: z.string().optional(),
            plain: z.boolean().optional(),
            limit: z
              .int()
              .min(1)
              .max(CONTENTS_LIMITS.maxLimit)
              .default(CONTENTS_LIMITS.defaultLimit)
              .optional(),
            offset: z.int().min(0).default(0).optional(),
          }),
          responses: { 200: jsonResponse('The contents'), ...errorResponses(400, 404) },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { uuid } = request.params;
      const query = request.query as Record<string, unknown>;
      const format = formatOf(query);
      const url = text(query.url);
      const plain = text(query.plain) === 'true';
      if (plain) {
        if (!url) throw new ApiError('ERR::CRAWLER::CONFIG_ERROR', 'plain=true needs the url of one page');
        const content = await crawls.content(caller, uuid, url, format);
        return reply.header('content-type', FORMAT_CONTENT_TYPES[format]).send(content);
      }
      const links = (offset: number | null, limit: number) =>
        offset === null
          ? null
          : `${services.settings.publicUrl}/crawl/${uuid}/contents?formats=${format}&offset=${offset}&limit=${limit}`;
      const crawledUrls = `${services.settings.publicUrl}/crawl/${uuid}/urls`;
      if (url) {
        const content = await crawls.content(caller, uuid, url, format);
        return json(reply, {
          contents: { [url]: { [format]: content } },
          links: { crawled_urls: crawledUrls, next: null, prev: null },
        });
      }
      const limit = integer(query.limit, 'limit', CONTENTS_LIMITS.defaultLimit, 1, CONTENTS_LIMITS.maxLimit);
      const offset = integer(query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const page = await crawls.contents(caller, uuid, format, offset, limit);
      return json(reply, {
        contents: page.contents,
        links: {
          crawled_urls: crawledUrls,
          next: links(page.more ? offset + limit : null, limit),
          prev: links(offset > 0 ? Math.max(0, offset - limit) : null, limit),
        },
      });
    },
  );

  app.post(
    '/crawl/:uuid/contents/batch',
    {
      config: { auth: 'key' },
      bodyLimit: MAX_BODY_BYTES,
      schema: {
        summary: 'Several pages of a crawl in one answer (multipart/related)',
        description: `The body lists the URLs, one a line (at most ${BATCH_MAX_URLS}); formats is a comma list. One part per page and format found, with Content-Location (the URL) and Content-Type (the format's); pages not visited are left out.`,
        tags,
        params: uuidParams,
        querystring: keyQuery.loose(),
        openapi: {
          querystring: keyQuery.extend({ formats: z.string().describe('Comma list, e.g. markdown,text') }),
          rawBody: { contentTypes: ['text/plain'], description: 'URLs, one a line' },
          responses: {
            200: {
              description: 'One part per page and format',
              content: { 'multipart/related': { schema: { type: 'string' } } },
            },
            ...errorResponses(400, 404),
          },
        },
      },
    },
    async (request, reply) => {
      // Whose crawl first: another project's or environment's is a 404 whatever the body says.
      await crawls.crawlOf(callerOf(request), request.params.uuid);
      const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
      const urls = body
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean);
      if (urls.length === 0 || urls.length > BATCH_MAX_URLS) {
        throw new ApiError(
          'ERR::CRAWLER::CONFIG_ERROR',
          `Send 1 to ${BATCH_MAX_URLS} URLs in the body, one a line; got ${urls.length}`,
        );
      }
      const formats = formatsOf(text((request.query as Record<string, unknown>).formats));
      const parts = await crawls.contentsBatch(callerOf(request), request.params.uuid, urls, formats);
      const boundary = `snapwire-${randomUUID()}`;
      const chunks: Buffer[] = [];
      for (const part of parts) {
        chunks.push(
          Buffer.from(
            `--${boundary}\r\nContent-Type: ${FORMAT_CONTENT_TYPES[part.format]}\r\nContent-Location: ${part.url}\r\n\r\n`,
          ),
          Buffer.from(part.content, 'utf8'),
          Buffer.from('\r\n'),
        );
      }
      chunks.push(Buffer.from(`--${boundary}--\r\n`));
      return reply
        .header('content-type', `multipart/related; boundary=${boundary}`)
        .send(Buffer.concat(chunks));
    },
  );

  app.get(
    '/crawl/:uuid/artifact',
    {
      config: { auth: 'key' },
      schema: {
        summary: "A crawl's WARC file (gzip WARC 1.1, request and response records) or HAR 1.2 file",
        tags,
        params: uuidParams,
        querystring: keyQuery.loose(),
        openapi: {
          querystring: keyQuery.extend({
            type: z
              .enum(['warc', 'har'])
              .default('warc')
              .optional()
              .describe('warc (gzip WARC 1.1) or har (HAR 1.2 JSON)'),
          }),
          responses: {
            200: {
              description: 'The WARC file (one gzip member per record), or the HAR file',
              content: {
                'application/gzip': { schema: { type: 'string', format: 'binary' } },
                'application/json': { schema: { type: 'object' } },
              },
            },
            ...errorResponses(400, 404),
          },
        },
      },
    },
    async (request, reply) => {
      const type = text((request.query as Record<string, unknown>).type) ?? 'warc';
      if (type === 'har') {
        const entries = await crawls.har(callerOf(request), request.params.uuid);
        return reply
          .header('content-type', 'application/json')
          .header('content-disposition', `attachment; filename="${request.params.uuid}.har"`)
          .send(Readable.from(entries));
      }
      if (type !== 'warc')
        throw new ApiError('ERR::CRAWLER::CONFIG_ERROR', `type must be warc or har, not "${type}"`);
      const records = await crawls.warc(callerOf(request), request.params.uuid);
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="${request.params.uuid}.warc.gz"`)
        .send(Readable.from(records));
    },
  );

  const cancel = async (request: FastifyRequest<{ Params: { uuid: string } }>, reply: FastifyReply) => {
    await crawls.cancel(callerOf(request), request.params.uuid);
    return json(reply, { crawler_uuid: request.params.uuid, status: 'CANCELLED' });
  };
  const cancelDoc = (summary: string) => ({
    config: { auth: 'key' as const },
    schema: {
      summary,
      tags,
      params: uuidParams,
      querystring: keyQuery.loose(),
      openapi: {
        responses: {
          200: jsonResponse('Cancelled (or already ended: cancel is idempotent)'),
          ...errorResponses(404),
        },
      },
    },
  });
  app.post('/crawl/:uuid/cancel', cancelDoc('Cancel a crawl (the TypeScript SDK)'), cancel);
  app.delete('/crawl/:uuid', cancelDoc('Cancel a crawl (the Python SDK)'), cancel);
};

export default route;
