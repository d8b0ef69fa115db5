// `snapwire mcp`: the server over stdio, for MCP clients that start it as a subprocess. stdout carries the
// protocol only; anything for a person goes to stderr.

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { SnapwireClient } from '@snapwire/sdk';
import { createSnapwireMcpServer, type SnapwireMcpOptions } from './server.js';

/** Serves until stdin closes; resolves once connected. */
export async function runStdioServer(
  client: SnapwireClient,
  options: SnapwireMcpOptions = {},
): Promise<void> {
  const server = createSnapwireMcpServer(client, options);
  const transport = new StdioServerTransport();
  await server.connect(transport);
}
