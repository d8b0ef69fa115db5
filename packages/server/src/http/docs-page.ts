import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { brandHeader, DOCS_LINKS, HEADER_CSS, LOGO_SVG } from '../brand.js';

/**
 * The API's tags in the order a reader needs them (the document lists them, and Swagger UI follows that
 * order): the screenshot first, operations last.
 */
export const API_TAGS = [
  { name: 'screenshot', description: 'Take a screenshot, fetch it again, list the device presets' },
  { name: 'webhooks', description: 'Where asynchronous screenshots are delivered (webhook_name)' },
  { name: 'schedules', description: 'Screenshots taken on a recurrence (Scrapfly’s schedule API)' },
  {
    name: 'monitors',
    description: 'Visual change monitors: a recurring capture compared with its baseline (docs/monitors.md)',
  },
  { name: 'scrape', description: 'Scrapfly’s Web Scraping API: a page’s content, with or without a browser' },
  { name: 'crawler', description: 'Scrapfly’s Crawler API: a whole site, within limits, page by page' },
  { name: 'extraction', description: 'Scrapfly’s Extraction API: structured data out of a document' },
  { name: 'monitoring', description: 'The monitoring log and its aggregates' },
  { name: 'account', description: 'The key’s project: plan, limits and usage' },
  { name: 'mcp', description: 'The Model Context Protocol endpoint for agents' },
  { name: 'operations', description: 'Health and metrics for operators' },
];

// Swagger UI in Snapwire's colours: the Snapwire header instead of Swagger's top bar (BaseLayout has
// none), system fonts, the accent colour on links and buttons (the method colours stay: they carry
// meaning), and a layout that fits a 390 px phone. Swagger UI has no dark mode, so this page stays light.
const THEME_CSS = `${HEADER_CSS}
:root{color-scheme:light}body{margin:0;background:#f5f6f8}
.swagger-ui,.swagger-ui .info .title,.swagger-ui .opblock-tag,.swagger-ui .opblock .opblock-summary-description,.swagger-ui .info p,.swagger-ui .info li,.swagger-ui table thead tr th,.swagger-ui .parameter__name,.swagger-ui .response-col_status,.swagger-ui label,.swagger-ui .btn,.swagger-ui select,.swagger-ui input,.swagger-ui .tab li,.swagger-ui .model-title,.swagger-ui section.models h4{font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
.swagger-ui .wrapper{max-width:1200px;padding:0 24px}
.swagger-ui .information-container.wrapper{padding-top:4px}
.swagger-ui .info{margin:20px 0 12px}.swagger-ui .info .title{color:#1d2330;font-size:28px}
.swagger-ui .info .title small{background:#5a6375}.swagger-ui .info .title small.version-stamp{background:#2d5be3}
.swagger-ui a,.swagger-ui .info a,.swagger-ui .info .link{color:#2d5be3}
.swagger-ui .scheme-container{background:transparent;box-shadow:none;padding:8px 0;margin:0}
.swagger-ui .btn.authorize{color:#2d5be3;border-color:#2d5be3;background:#fff}.swagger-ui .btn.authorize svg{fill:#2d5be3}
.swagger-ui .btn.execute{background:#2d5be3;border-color:#2d5be3}
.swagger-ui .opblock-tag{border-bottom:1px solid #dde1e8;font-size:20px}
.swagger-ui .opblock-tag small{color:#5a6375}
.swagger-ui .opblock{border-radius:6px}
@media (max-width:700px){
 .swagger-ui .wrapper{padding:0 10px}
 .swagger-ui .info .title{font-size:22px}
 .swagger-ui .opblock-tag{font-size:17px;padding:8px 4px}.swagger-ui .opblock-tag small{flex:1 1 auto;min-width:0;font-size:12px;padding:0 6px}
 .swagger-ui .opblock .opblock-summary{flex-wrap:wrap;gap:4px}
 .swagger-ui .opblock .opblock-summary-path,.swagger-ui .opblock .opblock-summary-path__deprecated{max-width:100%;flex-shrink:1;word-break:break-all;font-size:14px}
 .swagger-ui .opblock .opblock-summary-description{flex:1 1 100%;word-break:break-word}
 .swagger-ui .opblock-body,.swagger-ui .responses-inner,.swagger-ui .table-container,.swagger-ui .model-box{overflow-x:auto}
 .swagger-ui .parameters-col_description input,.swagger-ui .parameters-col_description select,.swagger-ui .parameters-col_description textarea{max-width:100%;width:100%}
 .swagger-ui table.parameters td.parameters-col_name{min-width:0;width:35%;word-break:break-word}
 .swagger-ui .renderedMarkdown,.swagger-ui .markdown{overflow-wrap:anywhere}
 .swagger-ui .servers,.swagger-ui .servers>label{display:block;max-width:100%;min-width:0}.swagger-ui .servers>label select{max-width:100%;min-width:0;width:100%}
 .swagger-ui .responses-table{table-layout:fixed}.swagger-ui .response-col_links{display:none}.swagger-ui .response-col_status{width:4.5em}
 .swagger-ui .scheme-container .schemes{flex-wrap:wrap;gap:8px}
 .swagger-ui .dialog-ux .modal-ux{width:94%;min-width:0}
}
`;

const INDEX_MARKER = '<div id="swagger-ui"></div>';

/**
 * The Swagger UI page with what its index lacks: the viewport (a phone renders it at its own width
 * instead of a zoomed-out 980 px) and Snapwire's header with the way back to the dashboard. The test
 * suite checks both are there, so a new Swagger UI index that moved the markers fails loudly.
 */
export function brandSwaggerIndex(page: string): string {
  return page
    .replace(
      /<meta charset="UTF-8">/i,
      '$&<meta name="viewport" content="width=device-width,initial-scale=1">',
    )
    .replace(
      INDEX_MARKER,
      `${brandHeader(DOCS_LINKS.map((link) => ({ ...link, on: link.href === '/docs' })))}${INDEX_MARKER}`,
    );
}

/** GET /docs: the API reference (Swagger UI over /openapi.json), themed as Snapwire. */
export async function docsPage(app: FastifyInstance): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      const html = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
      return html && typeof payload === 'string' && payload.includes(INDEX_MARKER)
        ? brandSwaggerIndex(payload)
        : payload;
    });
    await scope.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { layout: 'BaseLayout', deepLinking: true, displayRequestDuration: true },
      theme: {
        title: 'API reference · Snapwire',
        css: [{ filename: 'snapwire.css', content: THEME_CSS }],
        favicon: [
          {
            filename: 'favicon.svg',
            rel: 'icon',
            sizes: 'any',
            type: 'image/svg+xml',
            content: Buffer.from(LOGO_SVG),
          },
        ],
      },
    });
  });
}
