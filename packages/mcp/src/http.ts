// Streamable HTTP, stateless: every POST gets a fresh server and transport bound to the caller's client
// (its key), answered as plain JSON. Nothing is kept between requests, so any instance behind a load
// balancer can answer, and one caller's key never serves another's request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { SnapwireClient } from '@snapwire/sdk';
import { createSnapwireMcpServer, type SnapwireMcpOptions } from './server.js';

/** Answers one MCP request (`body` is the parsed JSON-RPC body when a framework already read it). */
export async function handleMcpHttpRequest(
  client: SnapwireClient,
  req: IncomingMessage,
  res: ServerResponse,
  body?: unknown,
  options: SnapwireMcpOptions = {},
): Promise<void> {
  const server = createSnapwireMcpServer(client, options);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

/** The JSON-RPC answer to a GET or DELETE: a stateless server has no stream to open nor session to end. */
export const METHOD_NOT_ALLOWED_BODY = JSON.stringify({
  jsonrpc: '2.0',
  error: {
    code: -32000,
    message: 'Method not allowed: this MCP endpoint is stateless; POST JSON-RPC to it.',
  },
  id: null,
});
