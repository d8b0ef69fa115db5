// The MCP server: eight tools over a SnapwireClient. The same server runs over stdio (`snapwire mcp`) and
// over streamable HTTP (`/mcp` on the service); only the client's key and transport differ.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ScreenshotLog, ScreenshotResult, SnapwireClient } from '@snapwire/sdk';
import { z } from 'zod';
import { downscale } from './downscale.js';
import { guarded, jsonResult, textResult } from './results.js';
import { registerScrapeTool } from './scrape-tool.js';
import { registerExtractTool } from './extract-tool.js';
import { registerCrawlTools } from './crawl-tools.js';
import { registerMonitorTools } from './monitor-tools.js';
import { maxWidthShape, screenshotShape, toScreenshotParams, webhookNameShape } from './schemas.js';

export const DEFAULT_MAX_WIDTH = 1280;
const VERSION = '0.1.0';

export interface SnapwireMcpOptions {
  /** Width the screenshot tool shrinks images to when the call gives no `max_width`. */
  defaultMaxWidth?: number;
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** One line per log, for list_logs. */
function logLine(log: ScreenshotLog): string {
  const outcome =
    log.status === 'success' ? `upstream ${log.upstream_status ?? '-'}` : (log.error_code ?? log.status);
  return `${log.created_at} ${log.log_uuid} ${log.status} ${outcome} ${log.url}`;
}

/**
 * A PDF is not an image a model can look at: it comes back as an embedded resource (the bytes, for the
 * client to save or open) and a text saying where the stored copy is.
 */
function pdfResult(shot: ScreenshotResult, url: string): CallToolResult {
  const uri = shot.screenshotUrl ?? `snapwire://screenshot/${shot.logUuid ?? 'pdf'}.pdf`;
  const lines = [
    `PDF of ${shot.upstreamUrl ?? url} (${kib(shot.image.length)}), attached as a resource.`,
    `Upstream status: ${shot.upstreamStatus ?? 'unknown'}`,
    ...(shot.screenshotUrl ? [`Stored copy: ${shot.screenshotUrl} (add ?key=YOUR_KEY)`] : []),
    ...(shot.logUuid ? [`log_uuid ${shot.logUuid}`] : []),
  ];
  return {
    content: [
      { type: 'text', text: lines.join('\n') },
      {
        type: 'resource',
        resource: { uri, mimeType: 'application/pdf', blob: shot.image.toString('base64') },
      },
    ],
  };
}

export function createSnapwireMcpServer(client: SnapwireClient, options: SnapwireMcpOptions = {}): McpServer {
  const defaultMaxWidth = options.defaultMaxWidth ?? DEFAULT_MAX_WIDTH;
  const server = new McpServer(
    { name: 'snapwire', version: VERSION },
    {
      instructions:
        'Snapwire takes screenshots of web pages in a real Chromium. Use screenshot to see a page; the answer is the image plus its final URL and a link to the full-size original. Errors name an ERR:: code and say what to change.',
    },
  );

  server.registerTool(
    'screenshot',
    {
      title: 'Take a screenshot',
      description:
        'Open a URL in a real Chromium browser and return a screenshot of it as an image (with format pdf: the PDF as an embedded resource), with the final URL after redirects, the HTTP status of the page, the image size and a log URL. Use it to look at a web page, check a layout, or read content rendered by JavaScript. The image is shrunk to max_width; the full-size original stays available at the screenshot URL given in the answer.',
      inputSchema: { ...screenshotShape, ...maxWidthShape },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (input, extra): Promise<CallToolResult> =>
      guarded(async () => {
        const shot = await client.screenshot(
          { ...toScreenshotParams(input), webhook_name: undefined },
          { signal: extra.signal },
        );
        if (shot.contentType.startsWith('application/pdf')) return pdfResult(shot, input.url);
        const fitted = await downscale(shot.image, shot.contentType, input.max_width ?? defaultMaxWidth);
        let logUrl: string | undefined;
        if (shot.logUuid) {
          logUrl = await client.getLog(shot.logUuid, { signal: extra.signal }).then(
            (log) => log.log_url,
            () => undefined, // the image is the answer; a missing log link is not worth failing for
          );
        }
        const lines = [
          `Screenshot of ${shot.upstreamUrl ?? input.url}`,
          `Upstream status: ${shot.upstreamStatus ?? 'unknown'}`,
          `Image: ${shot.contentType}, ${kib(shot.image.length)}` +
            (fitted.resized
              ? `; shown shrunk to ${fitted.width}x${fitted.height} (${fitted.mimeType}, ${kib(fitted.data.length)})`
              : `, ${fitted.width}x${fitted.height}`),
          ...(shot.screenshotUrl ? [`Full-size original: ${shot.screenshotUrl} (add ?key=YOUR_KEY)`] : []),
          ...(shot.logUuid ? [`Log: ${logUrl ?? shot.logUuid} (log_uuid ${shot.logUuid})`] : []),
        ];
        return {
          content: [
            { type: 'image', data: fitted.data.toString('base64'), mimeType: fitted.mimeType },
            { type: 'text', text: lines.join('\n') },
          ],
        };
      }),
  );

  server.registerTool(
    'screenshot_async',
    {
      title: 'Queue a screenshot for a webhook',
      description:
        'Queue a screenshot that is delivered later to a named webhook (an HTTP endpoint the user registered), instead of returning the image now. Use it for many pages or slow pages when the user has a webhook; answers the job and log ids at once.',
      inputSchema: { ...screenshotShape, ...webhookNameShape },
      annotations: { openWorldHint: true },
    },
    async (input, extra) =>
      guarded(async () => {
        const queued = await client.screenshotAsync(
          { ...toScreenshotParams(input), webhook_name: input.webhook_name },
          { signal: extra.signal },
        );
        return jsonResult({
          job_uuid: queued.job_uuid,
          log_uuid: queued.log_uuid,
          log_url: queued.log_url,
          webhook_name: queued.webhook_name,
          queued_jobs_on_webhook: queued.webhook_queued_element,
          webhook_queue_limit: queued.webhook_queue_limit,
        });
      }),
  );

  server.registerTool(
    'get_log',
    {
      title: 'Get a screenshot log',
      description:
        'Read the monitoring log of one screenshot request by its log_uuid: outcome, error code and reason, final URL, upstream status, duration, cost, and the URL of the stored image.',
      inputSchema: {
        log_uuid: z.string().min(1).describe('The log_uuid from a screenshot answer or list_logs.'),
      },
      annotations: { readOnlyHint: true },
    },
    async (input, extra) =>
      guarded(async () => jsonResult(await client.getLog(input.log_uuid, { signal: extra.signal }))),
  );

  server.registerTool(
    'list_logs',
    {
      title: 'List recent screenshot logs',
      description:
        'List the most recent screenshot requests of this project, newest first, one line each (time, log_uuid, outcome, URL). Filter by outcome or URL to find failures; then use get_log for details.',
      inputSchema: {
        limit: z.number().int().min(1).max(200).optional().describe('How many (default 20).'),
        status: z.enum(['success', 'failed', 'pending']).optional().describe('Only this outcome.'),
        url: z.string().optional().describe('Only URLs containing this text (* is a wildcard).'),
        domain: z.string().optional().describe('Only this host name and its subdomains.'),
      },
      annotations: { readOnlyHint: true },
    },
    async (input, extra) =>
      guarded(async () => {
        const logs = await client.listLogs(
          {
            limit: input.limit ?? 20,
            ...(input.status ? { status: input.status } : {}),
            ...(input.url ? { url: input.url } : {}),
            ...(input.domain ? { domain: input.domain } : {}),
          },
          { signal: extra.signal },
        );
        return textResult(logs.length === 0 ? 'No logs match.' : logs.map(logLine).join('\n'));
      }),
  );

  server.registerTool(
    'list_webhooks',
    {
      title: 'List webhooks',
      description:
        'List the webhooks of this project (name, URL, enabled, queue), the names screenshot_async can deliver to.',
      annotations: { readOnlyHint: true },
    },
    async (extra) =>
      guarded(async () => {
        const webhooks = await client.listWebhooks({ signal: extra.signal });
        return jsonResult(
          webhooks.map((webhook) => ({
            name: webhook.name,
            url: webhook.url,
            enabled: webhook.enabled,
            disable_reason: webhook.disable_reason,
            queued_element: webhook.queued_element,
            queue_limit: webhook.queue_limit,
          })),
        );
      }),
  );

  server.registerTool(
    'account',
    {
      title: 'Account and usage',
      description:
        'Show the project, its plan, the credits used and remaining this month, and its concurrency limit. A screenshot costs credits; check here when a call fails with a quota error.',
      annotations: { readOnlyHint: true },
    },
    async (extra) => guarded(async () => jsonResult(await client.account({ signal: extra.signal }))),
  );

  registerScrapeTool(server, client);
  registerExtractTool(server, client);
  registerCrawlTools(server, client);
  registerMonitorTools(server, client);

  return server;
}
