import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Services } from '../services.js';
import { installAuthGate, withRouteAuth } from './auth.js';
import { handleError, sendApiError } from './errors.js';
import { notFoundAnswer } from './not-found.js';
import { answerClientError, parseQueryString } from './query-string.js';
import dashboardRoute from '../dashboard/plugin.js';
import { API_TAGS, docsPage } from './docs-page.js';
import { finishDocument, openapiRouteTransform, SCREENSHOT_HEADERS } from './openapi.js';
import { SCRAPE_ENVELOPE_COMPONENT, SCRAPE_ENVELOPE_SCHEMA } from './scrape-openapi.js';
import errorReferenceRoute from './routes/error-reference.js';
import accountRoute from './routes/account.js';
import devicesRoute from './routes/devices.js';
import healthRoute from './routes/health.js';
import metricsRoute from './routes/metrics.js';
import monitoringRoute from './routes/monitoring.js';
import homeRoute from './routes/home.js';
import logsRoute from './routes/logs.js';
import mcpRoute from './routes/mcp.js';
import schedulesRoute from './routes/schedules.js';
import monitorsRoute from './routes/monitors.js';
import screenshotRoute from './routes/screenshot.js';
import scrapeRoute from './routes/scrape.js';
import scrapeFilesRoute from './routes/scrape-files.js';
import screenshotCompareRoute from './routes/screenshot-compare.js';
import crawlRoute from './routes/crawl.js';
import extractionRoute from './routes/extraction.js';
import extractionTemplatesRoute from './routes/extraction-templates.js';
import webhooksRoute from './routes/webhooks.js';
import { startStopwatch } from '../clock.js';

const MAX_HEADER_BYTES = 64 * 1024;

/** Builds the HTTP app over the services. The OpenAPI document is generated from the route schemas. */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { settings } = services;
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    trustProxy: services.settings.trustProxy,
    // The key travels in the query string (Scrapfly's wire format): keep it out of request logs.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // Everything travels in the query string, and js alone may be 16 KB of script (about 22 KB once
    // base64url-encoded): Node's default 16 KB header limit would refuse it with a bare 431.
    // Slow clients (README "Configuration"): Node closes a connection whose headers, or whole request, do
    // not arrive in time (checked every quarter of the headers timeout, at most every 5 s; Node's 30 s
    // would let a short timeout run long); the response itself may take as long as the capture does.
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: settings.httpHeadersTimeoutMs,
      requestTimeout: settings.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.min(
        5_000,
        Math.max(25, Math.floor(settings.httpHeadersTimeoutMs / 4)),
      ),
    },
    requestTimeout: settings.httpRequestTimeoutMs,
    keepAliveTimeout: settings.httpKeepAliveTimeoutMs,
    connectionTimeout: settings.httpIdleTimeoutMs,
    routerOptions: { querystringParser: parseQueryString },
    clientErrorHandler: (error, socket) =>
      answerClientError(error, socket, {
        maxHeaderBytes: MAX_HEADER_BYTES,
        publicUrl: settings.publicUrl,
        headersTimeoutMs: settings.httpHeadersTimeoutMs,
        requestTimeoutMs: settings.httpRequestTimeoutMs,
      }),
  });
  // Beyond the cap a new connection is closed at once, so open connections cannot exhaust the process's
  // file descriptors (the browsers' egress proxy needs them too).
  app.server.maxConnections = settings.httpMaxConnections;
  let sinceDropWarning: (() => number) | undefined;
  app.server.on('drop', () => {
    if (sinceDropWarning && sinceDropWarning() < 60_000) return;
    sinceDropWarning = startStopwatch();
    services.logger.warn(
      { maxConnections: settings.httpMaxConnections },
      'HTTP connections refused: SNAPWIRE_HTTP_MAX_CONNECTIONS are open (logged at most once a minute)',
    );
  });
  // A POST without a body (rotate-secret, ping, enable) is fine even when the client labels it JSON.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });
  // Every route declares who may call it (http/auth.ts); one that does not stops the start here.
  installAuthGate(app, { projects: services.projects, operatorToken: services.settings.metricsToken });
  // Error bodies link to this service's own error reference (http/errors.ts reads it).
  app.decorate('publicUrl', services.settings.publicUrl);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const { error, extraBody } = notFoundAnswer(request.method, request.url.split('?')[0] ?? '/');
    return sendApiError(reply, error, {}, extraBody);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  // A worker node runs browsers and queue lanes only: it answers /healthz and /metrics, nothing else.
  if (services.settings.role === 'worker') {
    await app.register(healthRoute(services));
    await app.register(metricsRoute(services));
    return app;
  }
  // Browsers may call the API from any page (a key in the query is the only credential; cookies are never
  // honoured cross-origin), and they may read Scrapfly's headers: browsers hide non-standard headers from
  // scripts unless the answer lists them in Access-Control-Expose-Headers.
  const corsForApi = {
    origin: '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: [
      ...Object.keys(SCREENSHOT_HEADERS),
      'X-Scrapfly-Log-Url',
      'X-Scrapfly-Reject-Code',
      'X-Scrapfly-Reject-Description',
      'X-Scrapfly-Reject-Doc',
      'X-Scrapfly-Reject-Http-Code',
      'X-Scrapfly-Reject-Retryable',
      'X-Scrapfly-Reject-Id',
      'Retry-After',
    ],
  };
  // The dashboard (cookie sessions) stays same-origin only: no CORS headers at all there. The plugin's
  // preflight route (OPTIONS *) carries no credentials and answers no data.
  await withRouteAuth(app, 'none', () =>
    app.register(cors, {
      delegator: (request, callback) =>
        callback(null, request.url.startsWith('/dashboard') ? { origin: false } : corsForApi),
    }),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Snapwire API',
        description:
          "Self-hosted Screenshot, Web Scraping and Extraction APIs speaking Scrapfly's wire format. Errors: [/docs/errors](/docs/errors).",
        version: '0.1.0',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: "Try it out" calls the address the page was opened at, whatever SNAPWIRE_PUBLIC_URL says.
      servers: [{ url: '/', description: 'This service (the address /docs was opened at)' }],
      tags: API_TAGS,
      // A plain JSON schema (as every route's answers are); the swagger typings want their own object type.
      components: { schemas: { [SCRAPE_ENVELOPE_COMPONENT]: SCRAPE_ENVELOPE_SCHEMA as never } },
    },
    transform: openapiRouteTransform,
    transformObject: (documentObject) =>
      finishDocument(
        ('openapiObject' in documentObject
          ? documentObject.openapiObject
          : documentObject.swaggerObject) as Record<string, unknown>,
      ) as never,
  });
  // The API reference is public; its page's routes take no config, so they are declared here.
  await withRouteAuth(app, 'none', () => app.register(docsPage));
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'none' } }, async () => app.swagger());
  await app.register(errorReferenceRoute);

  await app.register(homeRoute(services));
  await app.register(healthRoute(services));
  await app.register(metricsRoute(services));
  await app.register(screenshotRoute(services));
  await app.register(scrapeRoute(services));
  await app.register(scrapeFilesRoute(services));
  await app.register(screenshotCompareRoute(services));
  await app.register(crawlRoute(services));
  await app.register(extractionRoute(services));
  await app.register(extractionTemplatesRoute(services));
  await app.register(devicesRoute());
  await app.register(accountRoute(services));
  await app.register(webhooksRoute(services));
  await app.register(schedulesRoute(services));
  await app.register(monitorsRoute(services));
  await app.register(dashboardRoute(services));
  await app.register(monitoringRoute(services));
  await app.register(logsRoute(services));
  await app.register(mcpRoute(services));
  return app;
}
