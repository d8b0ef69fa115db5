// A local OpenAI-compatible chat-completions server on 127.0.0.1 (the "language model" of the tests): it
// records what Snapwire sends and answers like a model, or with garbage, a 500, a redirect, or nothing.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const PRICE_ANSWER = '{"price": 1299.99, "currency": "USD"}';

export type ModelStubMode =
  'json' | 'fenced' | 'text' | 'garbage' | 'garbage-then-json' | 'error' | 'silent' | 'redirect';

export interface ChatRequest {
  path: string;
  authorization: string | undefined;
  body: { model: string; messages: Array<{ role: string; content: string }>; temperature: number };
}

export interface ModelStub {
  mode: ModelStubMode;
  /** The answer's content in the json and fenced modes. */
  answer: string;
  /** When set, the content of each answer is computed from the request (json mode). */
  answerFor: ((request: ChatRequest) => string) | undefined;
  requests: ChatRequest[];
}

/** The text of the user message of a recorded request. */
export const userMessage = (request: ChatRequest): string =>
  request.body.messages.find((message) => message.role === 'user')!.content;

export async function startModelStub(host = '127.0.0.1') {
  const requests: ChatRequest[] = [];
  const stub: ModelStub = { mode: 'json', answer: PRICE_ANSWER, answerFor: undefined, requests };
  const sockets = new Set<Socket>();
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const recorded: ChatRequest = {
        path: request.url ?? '',
        authorization: request.headers.authorization,
        body: JSON.parse(text) as ChatRequest['body'],
      };
      requests.push(recorded);
      if (stub.mode === 'silent') return; // never answers: the service's timeout must end the call
      if (stub.mode === 'error') {
        response
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":{"message":"overloaded"}}');
        return;
      }
      if (stub.mode === 'redirect') {
        response.writeHead(307, { location: 'http://127.0.0.1:9/v1/chat/completions' }).end();
        return;
      }
      const garbage =
        stub.mode === 'garbage' || (stub.mode === 'garbage-then-json' && requests.length % 2 === 1);
      const answer = stub.answerFor ? stub.answerFor(recorded) : stub.answer;
      const content = garbage
        ? 'Sure! Here is the data you asked for: price is 1299.99'
        : stub.mode === 'fenced'
          ? `\`\`\`json\n${answer}\n\`\`\``
          : stub.mode === 'text'
            ? JSON.stringify('It costs $1,299.99.')
            : answer;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-stub',
          object: 'chat.completion',
          model: 'stub-model',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 120, completion_tokens: 12, total_tokens: 132 },
        }),
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    stub,
    port,
    baseUrl: `http://${host}:${port}/v1`,
    reset(): void {
      requests.length = 0;
      stub.mode = 'json';
      stub.answer = PRICE_ANSWER;
      stub.answerFor = undefined;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
