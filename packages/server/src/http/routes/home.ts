import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../services.js';

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** A small landing page so that opening the service in a browser says what it is and where to go. */
const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get('/', { schema: { hide: true }, config: { auth: 'none' } }, async (_request, reply) => {
    const base = escape(services.settings.publicUrl);
    return reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Snapwire</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:.1rem .3rem}</style></head>
<body><h1>Snapwire</h1><p>A self-hosted Screenshot API speaking Scrapfly's wire format.</p>
<ul><li><a href="/docs">API reference</a> (OpenAPI: <a href="/openapi.json">/openapi.json</a>)</li><li><a href="/healthz">Health</a></li></ul>
<p>Take a screenshot:</p><pre><code>curl -o shot.jpg "${base}/screenshot?key=YOUR_KEY&amp;url=https%3A%2F%2Fexample.com"</code></pre>
</body></html>`);
  });
};

export default route;
