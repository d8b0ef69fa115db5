// Tool answers: text for a model, and failures as tool errors (isError) that carry the API's catalogue
// code and reason, so the model can tell the user what to fix instead of the server crashing.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SnapwireApiError, SnapwireError } from '@snapwire/sdk';

export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

/** Pretty JSON as text: every MCP client shows text, and models read JSON well. */
export function jsonResult(value: unknown): CallToolResult {
  return textResult(JSON.stringify(value, null, 2));
}

/** Any failure as a tool error. API errors keep their `ERR::` code, reason and whether to retry. */
export function errorResult(error: unknown): CallToolResult {
  let text: string;
  if (error instanceof SnapwireApiError) {
    const retry = error.retryable
      ? ` It may succeed later${error.retryAfterSeconds !== undefined ? ` (retry after ${error.retryAfterSeconds} s)` : ''}.`
      : '';
    text = `${error.code} (HTTP ${error.httpStatus}): ${error.reason ?? error.message}.${retry}`;
  } else if (error instanceof SnapwireError) {
    text = error.message;
  } else if ((error as { name?: string } | null)?.name === 'AbortError') {
    text = 'The call was cancelled.';
  } else {
    text = `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
  }
  return { content: [{ type: 'text', text: text.replace(/\.\.$/, '.') }], isError: true };
}

/** Runs a tool body; whatever it throws becomes a tool error. */
export async function guarded(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return errorResult(error);
  }
}
