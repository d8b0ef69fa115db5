// The stdio transport of `snapwire mcp`: newline-delimited JSON-RPC, as the MCP SDK's StdioServerTransport
// reads it, except that a bad line is answered instead of ending the session. The SDK's transport closes
// itself when its buffer passes 10 MB (the process then exits without a word) and drops lines that are not
// JSON-RPC silently; here an oversized line gets an error and is skipped without being held in memory, a
// line that is not JSON gets -32700 and one that is JSON but not a JSON-RPC message -32600 (JSON-RPC 2.0
// §5.1), and the session goes on.

import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The SDK's limit for one message, kept: a screenshot request is a few kilobytes. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

const NEWLINE = 0x0a;

export interface LineStdioTransportOptions {
  stdin?: Readable;
  stdout?: Writable;
  maxLineBytes?: number;
}

export class LineStdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #stdin: Readable;
  readonly #stdout: Writable;
  readonly #maxLineBytes: number;
  /** The start of the current line, in pieces as they arrived. */
  #pieces: Buffer[] = [];
  #pieceBytes = 0;
  /** The current line passed the limit: the rest of it is dropped up to its newline. */
  #skipping = false;
  #started = false;

  constructor(options: LineStdioTransportOptions = {}) {
    this.#stdin = options.stdin ?? process.stdin;
    this.#stdout = options.stdout ?? process.stdout;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('LineStdioServerTransport already started');
    this.#started = true;
    this.#stdin.on('data', this.#onData);
    this.#stdin.on('error', this.#onError);
  }

  async close(): Promise<void> {
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('error', this.#onError);
    if (this.#stdin.listenerCount('data') === 0) this.#stdin.pause();
    this.#pieces = [];
    this.#pieceBytes = 0;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.#write(message);
  }

  #write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.#stdout.once('drain', resolve);
    });
  }

  /** An error answer to a line that could not be taken as a request (`id` null when it is not known). */
  #answerError(id: string | number | null, code: number, message: string): void {
    void this.#write({ jsonrpc: '2.0', id, error: { code, message } });
  }

  readonly #onError = (error: Error) => this.onerror?.(error);

  readonly #onData = (chunk: Buffer | string) => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (;;) {
      const newline = data.indexOf(NEWLINE);
      const piece = newline === -1 ? data : data.subarray(0, newline);
      if (!this.#skipping) {
        if (this.#pieceBytes + piece.length > this.#maxLineBytes) {
          // Answered at once, before the line ends: the client learns why nothing else will come of it.
          this.#skipping = true;
          this.#pieces = [];
          this.#pieceBytes = 0;
          this.#answerError(
            null,
            ErrorCode.InvalidRequest,
            `Invalid Request: a message is at most ${this.#maxLineBytes / 1024 / 1024} MB (one line of JSON); this line was longer and is skipped`,
          );
        } else if (piece.length > 0) {
          this.#pieces.push(piece);
          this.#pieceBytes += piece.length;
        }
      }
      if (newline === -1) return;
      data = data.subarray(newline + 1);
      if (this.#skipping) this.#skipping = false;
      else this.#takeLine();
    }
  };

  #takeLine(): void {
    const line = Buffer.concat(this.#pieces, this.#pieceBytes).toString('utf8').replace(/\r$/, '');
    this.#pieces = [];
    this.#pieceBytes = 0;
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      this.#answerError(
        null,
        ErrorCode.ParseError,
        `Parse error: the line is not JSON (${(error as Error).message})`,
      );
      return;
    }
    const message = JSONRPCMessageSchema.safeParse(parsed);
    if (!message.success) {
      const id = (parsed as { id?: unknown } | null)?.id;
      this.#answerError(
        typeof id === 'string' || typeof id === 'number' ? id : null,
        ErrorCode.InvalidRequest,
        'Invalid Request: not a JSON-RPC 2.0 message (an object with "jsonrpc": "2.0", a "method" string and, for a request, an "id")',
      );
      return;
    }
    this.onmessage?.(message.data);
  }
}
