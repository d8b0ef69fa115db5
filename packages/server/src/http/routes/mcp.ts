import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { handleMcpHttpRequest, METHOD_NOT_ALLOWED_BODY } from '@snapwire/mcp';
import { SnapwireClient } from '@snapwire/sdk';
import type { Services } from '../../services.js';
import { keyOf } from '../auth.js';
import {
  answerObject,
  BEARER_SECURITY_SCHEME,
  ERROR_BODY_SCHEMA,
  jsonResponse,
  SECURITY_SCHEME,
  type OpenApiOperation,
} from '../openapi.js';

const JSON_RPC_ERROR_SCHEMA = answerObject(
  {
    jsonrpc: { type: 'string', enum: ['2.0'] },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'integer', example: -32000 }, message: { type: 'string' } },
    },
    id: { type: ['string', 'integer', 'null'] },
  },
  ['id'],
);
const MCP_DOC = {
  tags: ['mcp'],
  description:
    'The MCP server (streamable HTTP, stateless, JSON answers) for the key’s project: tools to take screenshots, scrape pages, crawl sites and read logs through this API. The key goes in ?key= or Authorization: Bearer KEY.',
};
const MCP_SECURITY: Array<Record<string, string[]>> = [
  { [SECURITY_SCHEME]: [] },
  { [BEARER_SECURITY_SCHEME]: [] },
];
const MCP_POST_OPENAPI: OpenApiOperation = {
  security: MCP_SECURITY,
  responses: {
    200: jsonResponse(
      'The JSON-RPC answer (a result or a JSON-RPC error)',
      answerObject(
        {
          jsonrpc: { type: 'string', enum: ['2.0'] },
          id: { type: ['string', 'integer', 'null'] },
          result: { type: 'object' },
          error: JSON_RPC_ERROR_SCHEMA.properties.error,
        },
        ['id', 'result', 'error'],
      ),
    ),
    202: { description: 'Notifications or responses only: accepted, no body' },
    400: jsonResponse('Not JSON (the error body) or not a JSON-RPC message (a JSON-RPC error)', {
      oneOf: [ERROR_BODY_SCHEMA, JSON_RPC_ERROR_SCHEMA],
    }),
    406: jsonResponse('Accept must list application/json and text/event-stream', JSON_RPC_ERROR_SCHEMA),
    415: jsonResponse('Content-Type must be application/json', JSON_RPC_ERROR_SCHEMA),
  },
};
const MCP_OTHER_OPENAPI: OpenApiOperation = {
  responses: {
    405: {
      ...jsonResponse(
        'Stateless endpoint: no stream to open nor session to end; POST instead',
        JSON_RPC_ERROR_SCHEMA,
      ),
      headers: { Allow: { type: 'string', enum: ['POST'] } },
    },
  },
};

function headerObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/**
 * A fetch that answers from this same app through fastify's inject: the MCP tools go through the public
 * API (same authentication, validation, concurrency and billing as any caller) without a socket, and
 * without knowing which address or reverse proxy the service is reached by. Inject cannot be aborted;
 * the API's own `timeout` bounds every capture.
 */
function injectFetch(app: FastifyInstance): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const response = await app.inject({
      method: (init?.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers: headerObject(new Headers(init?.headers)),
      ...(typeof init?.body === 'string' ? { payload: init.body } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [String(value)]) headers.append(name, one);
    }
    const empty = response.statusCode === 204 || response.statusCode === 304 || init?.method === 'HEAD';
    return new Response(empty ? null : new Uint8Array(response.rawPayload), {
      status: response.statusCode,
      headers,
    });
  };
}

/** POST /mcp: the MCP server over streamable HTTP (stateless, JSON answers), for the key's project. */
const route: (services: Services) => FastifyPluginAsync = () => async (app) => {
  const fetchFromApp = injectFetch(app);

  const postSchema = {
    ...MCP_DOC,
    summary: 'MCP over streamable HTTP (POST JSON-RPC)',
    openapi: MCP_POST_OPENAPI,
  };
  // The key from ?key= or Authorization: Bearer, checked by the gate (http/auth.ts) before this runs.
  const config = { auth: 'key-or-bearer' } as const;
  app.post('/mcp', { schema: postSchema, config }, async (request, reply) => {
    const key = keyOf(request, true) ?? '';
    // The API answers this client from inside the process: no retries here, the model decides.
    const client = new SnapwireClient({
      host: 'http://snapwire.internal',
      key,
      fetch: fetchFromApp,
      retry: false,
    });
    reply.hijack();
    await handleMcpHttpRequest(client, request.raw, reply.raw, request.body);
  });

  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '/mcp',
      // A 405 that reads nothing: no key needed to learn that only POST is served.
      config: { auth: 'none' },
      schema: { ...MCP_DOC, summary: `${method}: not allowed (stateless)`, openapi: MCP_OTHER_OPENAPI },
      handler: async (_request, reply) =>
        reply.code(405).header('allow', 'POST').type('application/json').send(METHOD_NOT_ALLOWED_BODY),
    });
  }
};

export default route;
