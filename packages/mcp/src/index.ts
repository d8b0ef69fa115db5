// @snapwire/mcp: an MCP server (stdio and streamable HTTP) whose tools take screenshots through
// @snapwire/sdk.

export { createSnapwireMcpServer, DEFAULT_MAX_WIDTH, type SnapwireMcpOptions } from './server.js';
export { handleMcpHttpRequest, METHOD_NOT_ALLOWED_BODY } from './http.js';
export { runStdioServer } from './stdio.js';
export { DEFAULT_SCRAPE_MAX_CHARS, scrapeShape } from './scrape-tool.js';
export { extractShape } from './extract-tool.js';
export { downscale, type Downscaled } from './downscale.js';
