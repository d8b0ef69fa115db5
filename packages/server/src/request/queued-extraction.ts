import { z } from 'zod';
import { parseTemplateJson } from '../extraction/template.js';
import type { ExtractionRequest } from './extraction-request.js';
import { EXTRACTION_MODELS } from './extraction-request.js';
import { readQueued, storedBody, type StoredBody } from './stored-body.js';

/**
 * An asynchronous extraction as the queue keeps it: the parsed request, the document as it was sent
 * (still compressed when it came so; it is decoded when the job runs) and its Content-Encoding.
 */
const queuedExtraction = z.object({
  request: z
    .object({
      contentType: z.string().min(1),
      documentKind: z.enum(['html', 'json', 'text']),
      charset: z.string().optional(),
      url: z.string().optional(),
      method: z.discriminatedUnion('kind', [
        z.object({
          kind: z.literal('template'),
          template: z.discriminatedUnion('kind', [
            z.object({ kind: z.literal('ephemeral'), template: z.unknown() }),
            z.object({ kind: z.literal('saved'), name: z.string() }),
          ]),
        }),
        z.object({ kind: z.literal('prompt'), prompt: z.string() }),
        z.object({ kind: z.literal('model'), model: z.enum(EXTRACTION_MODELS) }),
      ]),
      timeoutMs: z.number().int().positive(),
      webhookName: z.string().optional(),
    })
    .loose(),
  document: storedBody,
  contentEncoding: z.string().optional(),
});

export interface QueuedExtraction {
  request: ExtractionRequest;
  document: StoredBody;
  contentEncoding: string | undefined;
}

export function queuedExtractionJson(
  request: ExtractionRequest,
  document: StoredBody,
  contentEncoding: string | undefined,
): string {
  return JSON.stringify({ request, document, contentEncoding });
}

/** The stored extraction of a queued job, checked (its template compiled again); throws a catalogue error. */
export function readQueuedExtraction(stored: string): QueuedExtraction {
  const queued = readQueued(stored, queuedExtraction, 'extraction');
  const { method } = queued.request;
  const request = {
    ...queued.request,
    method:
      method.kind === 'template' && method.template.kind === 'ephemeral'
        ? {
            kind: 'template' as const,
            template: {
              kind: 'ephemeral' as const,
              template: parseTemplateJson(JSON.stringify(method.template.template)),
            },
          }
        : method,
  } as ExtractionRequest;
  return { request, document: queued.document, contentEncoding: queued.contentEncoding };
}
