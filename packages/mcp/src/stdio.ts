// `snapwire mcp`: the server over stdio, for MCP clients that start it as a subprocess. stdout carries the
// protocol only; anything for a person goes to stderr. A line that is not a JSON-RPC message is answered
// with a JSON-RPC error and the session goes on (stdio-transport.ts).

import type { SnapwireClient } from '@snapwire/sdk';
import { createSnapwireMcpServer, type SnapwireMcpOptions } from './server.js';
import { LineStdioServerTransport } from './stdio-transport.js';

/** Serves until stdin closes; resolves once connected. */
export async function runStdioServer(
  client: SnapwireClient,
  options: SnapwireMcpOptions = {},
): Promise<void> {
  const server = createSnapwireMcpServer(client, options);
  const transport = new LineStdioServerTransport();
  await server.connect(transport);
}
