import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { handleError, sendApiError } from './errors.js';
import { answerClientError, parseQueryString } from './query-string.js';
import dashboardRoute from '../dashboard/routes.js';
import accountRoute from './routes/account.js';
import healthRoute from './routes/health.js';
import metricsRoute from './routes/metrics.js';
import monitoringRoute from './routes/monitoring.js';
import homeRoute from './routes/home.js';
import screenshotRoute from './routes/screenshot.js';
import webhooksRoute from './routes/webhooks.js';

const MAX_HEADER_BYTES = 64 * 1024;

/** Builds the HTTP app over the services. The OpenAPI document is generated from the route schemas. */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    trustProxy: services.settings.trustProxy,
    // The key travels in the query string (Scrapfly's wire format): keep it out of request logs.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // Everything travels in the query string, and js alone may be 16 KB of script (about 22 KB once
    // base64url-encoded): Node's default 16 KB header limit would refuse it with a bare 431.
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    routerOptions: { querystringParser: parseQueryString },
    clientErrorHandler: (error, socket) => answerClientError(error, socket, MAX_HEADER_BYTES),
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
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendApiError(
      reply,
      new ApiError(
        'ERR::API::NOT_FOUND',
        `No route ${request.method} ${request.url.split('?')[0]}; see /docs for the API reference`,
      ),
    ),
  );
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

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Snapwire Screenshot API',
        description: "Self-hosted Screenshot API speaking Scrapfly's wire format.",
        version: '0.1.0',
      },
      servers: [{ url: services.settings.publicUrl }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(homeRoute(services));
  await app.register(healthRoute(services));
  await app.register(metricsRoute(services));
  await app.register(screenshotRoute(services));
  await app.register(accountRoute(services));
  await app.register(webhooksRoute(services));
  await app.register(dashboardRoute(services));
  await app.register(monitoringRoute(services));
  return app;
}
