import type { CdpSession } from './cdp.js';

/**
 * What a rendered page did besides its DOM, for a scrape's `browser_data` (the SDKs' `xhr_call`,
 * `local_storage_data` and `session_storage_data`): the XHR and fetch() calls it made, with their answers,
 * and its Web Storage at the end. Bounded so that a chatty page cannot grow an answer without limit.
 */

/** Calls kept per page; later ones are dropped (the log says how many). */
export const MAX_XHR_CALLS = 100;
/** Bytes of one call's response body kept; a longer body is cut. */
export const MAX_XHR_BODY_BYTES = 256 * 1024;
/** Keys kept per storage area. */
const MAX_STORAGE_KEYS = 1_000;

/** One call as the SDKs read it (TypeScript `ResultData.browser_data.xhr_call`). */
export interface XhrCall {
  url: string;
  method: string;
  /** `xhr` or `fetch`. */
  type: string;
  headers: Record<string, string>;
  body?: string;
  response: {
    status: number;
    headers: Record<string, string>;
    /** The body as text, or base64 when `format` is `binary`; cut to MAX_XHR_BODY_BYTES. */
    body: string;
    format: 'text' | 'binary';
    /** Seconds from the request to the end of the response, like the result's `duration`. */
    duration: number;
  };
}

interface PendingCall {
  call: Omit<XhrCall, 'response'>;
  startedAt: number;
  response?: { status: number; headers: Record<string, string>; mimeType: string };
  finishedAt?: number;
}

const asStrings = (headers: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));

const TEXTUAL = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|[\w.+-]+\+(json|xml)))/i;

/**
 * Starts recording the page's XHR and fetch() calls (Network domain events; the session's Network domain
 * must keep response bodies: `Network.enable` with buffers, done by the caller). `collect()` reads the
 * bodies of the calls that finished and returns them in the order they were made.
 */
export function recordXhrCalls(session: CdpSession): { collect(): Promise<XhrCall[]> } {
  const calls = new Map<string, PendingCall>();
  session.on(
    'Network.requestWillBeSent',
    (event: {
      requestId: string;
      type?: string;
      timestamp: number;
      request: { url: string; method: string; headers: Record<string, unknown>; postData?: string };
    }) => {
      if (event.type !== 'XHR' && event.type !== 'Fetch') return;
      if (calls.size >= MAX_XHR_CALLS || calls.has(event.requestId)) return;
      calls.set(event.requestId, {
        call: {
          url: event.request.url,
          method: event.request.method,
          type: event.type.toLowerCase(),
          headers: asStrings(event.request.headers),
          ...(event.request.postData !== undefined ? { body: event.request.postData } : {}),
        },
        startedAt: event.timestamp,
      });
    },
  );
  session.on(
    'Network.responseReceived',
    (event: {
      requestId: string;
      response: { status: number; headers: Record<string, unknown>; mimeType: string };
    }) => {
      const pending = calls.get(event.requestId);
      if (!pending) return;
      pending.response = {
        status: event.response.status,
        headers: asStrings(event.response.headers),
        mimeType: event.response.mimeType,
      };
    },
  );
  session.on('Network.loadingFinished', (event: { requestId: string; timestamp: number }) => {
    const pending = calls.get(event.requestId);
    if (pending) pending.finishedAt = event.timestamp;
  });

  return {
    async collect(): Promise<XhrCall[]> {
      const out: XhrCall[] = [];
      for (const [requestId, pending] of calls) {
        if (!pending.response || pending.finishedAt === undefined) continue;
        const { body, format } = await responseBody(session, requestId, pending.response.mimeType);
        out.push({
          ...pending.call,
          response: {
            status: pending.response.status,
            headers: pending.response.headers,
            body,
            format,
            duration: Math.max(0, Math.round((pending.finishedAt - pending.startedAt) * 1000) / 1000),
          },
        });
      }
      return out;
    },
  };
}

async function responseBody(
  session: CdpSession,
  requestId: string,
  mimeType: string,
): Promise<{ body: string; format: 'text' | 'binary' }> {
  try {
    const answer = await session.send<{ body: string; base64Encoded: boolean }>('Network.getResponseBody', {
      requestId,
    });
    const bytes = Buffer.from(answer.body, answer.base64Encoded ? 'base64' : 'utf8');
    const kept = bytes.subarray(0, MAX_XHR_BODY_BYTES);
    return TEXTUAL.test(mimeType) || (!answer.base64Encoded && mimeType === '')
      ? { body: kept.toString('utf8'), format: 'text' }
      : { body: kept.toString('base64'), format: 'binary' };
  } catch {
    // The body was evicted from Chromium's buffer or never kept (a redirect, an aborted call).
    return { body: '', format: 'text' };
  }
}

/** Runs in the page: its localStorage and sessionStorage as plain objects (empty for an opaque origin). */
export const READ_WEB_STORAGE = `(() => {
  const read = (name) => {
    try {
      const storage = window[name];
      const out = {};
      for (let i = 0; i < storage.length && i < ${MAX_STORAGE_KEYS}; i++) {
        const key = storage.key(i);
        out[key] = storage.getItem(key);
      }
      return out;
    } catch {
      return {};
    }
  };
  return { local: read('localStorage'), session: read('sessionStorage') };
})()`;

export interface WebStorage {
  local: Record<string, string>;
  session: Record<string, string>;
}

/**
 * Runs in every new document before its own scripts: puts back a session's localStorage items of the
 * document's origin. An item the page already has is left alone, so a page's own change made earlier in
 * the same render (before a navigation) is not undone.
 */
export function restoreLocalStorageScript(
  saved: Readonly<Record<string, Readonly<Record<string, string>>>>,
): string {
  return `(() => {
  const saved = ${JSON.stringify(saved)};
  const items = saved[location.origin];
  if (!items) return;
  try {
    for (const [key, value] of Object.entries(items)) {
      if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
    }
  } catch {}
})()`;
}
