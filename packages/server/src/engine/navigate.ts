import { ApiError } from '../errors.js';
import { EGRESS_ERROR_HEADER, EGRESS_REASON_HEADER } from '../egress/verdicts.js';
import type { CaptureSpec } from './capture-spec.js';
import type { CdpSession } from './cdp.js';
import type { AttemptScope } from './deadline.js';

/** The main document's answer (the last hop of its redirects), header names lower-case. */
export interface DocumentResponse {
  status: number;
  url: string;
  headers: Record<string, string>;
}

/** How a failed or refused load is explained: the egress proxy's records and its own answers. */
export interface EgressReadings {
  /** Explains a failed load of `hostname` (the proxy saw why); undefined when it saw nothing. */
  egressFailure?: (hostname: string) => { kind: string; reason: string } | undefined;
  /**
   * Whether a response is the egress proxy's own answer (it carries the listener's secret). Only then
   * are its x-snapwire-egress-* headers a verdict; a page's own such headers are ignored. Left out (engine
   * tests without the service), every answer is taken at its word.
   */
  isEgressAnswer?: (headers: Record<string, unknown>) => boolean;
}

/**
 * Loads the request's url in the main frame and waits for its load event. A refused, failed, non-text or
 * downloaded document ends the wait at once with the catalogue error that says why.
 */
export async function navigate(
  session: CdpSession,
  mainFrameId: string,
  request: CaptureSpec,
  scope: AttemptScope,
  settings: EgressReadings,
): Promise<DocumentResponse> {
  let document: DocumentResponse | undefined;
  let rejectEarly: (error: unknown) => void = () => {};
  const early = new Promise<never>((_, reject) => {
    rejectEarly = reject;
  });
  early.catch(() => {});
  const onResponse = (event: {
    type: string;
    frameId?: string;
    response: { status: number; url: string; headers: Record<string, string> };
  }) => {
    if (event.type !== 'Document' || event.frameId !== mainFrameId) return;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.response.headers))
      headers[name.toLowerCase()] = String(value);
    document = { status: event.response.status, url: event.response.url, headers };
    try {
      checkDocument(document, settings);
    } catch (error) {
      rejectEarly(error);
    }
  };
  // The host of the last hop the main frame asked for (a redirect may lead elsewhere): a refused CONNECT
  // tunnel leaves no response, and the proxy's record for that host is what explains the failure.
  let lastHost = request.hostname;
  const onRequest = (event: { type?: string; frameId?: string; request: { url: string } }) => {
    if (event.type !== 'Document' || event.frameId !== mainFrameId) return;
    try {
      lastHost = new URL(event.request.url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      // keep the previous one
    }
  };
  session.on('Network.responseReceived', onResponse);
  session.on('Network.requestWillBeSent', onRequest);
  const loaded = session.waitFor('Page.loadEventFired');
  loaded.catch(() => {});
  try {
    const result = await scope.run(
      Promise.race([
        session.send<{ errorText?: string; isDownload?: boolean }>('Page.navigate', { url: request.url }),
        early,
      ]),
    );
    if (result.errorText) {
      if (document) checkDocument(document, settings);
      throw navigationError(result.errorText, request, settings, lastHost);
    }
    if (result.isDownload) {
      if (document) checkDocument(document, settings);
      throw new ApiError(
        'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
        'The url answered with a file to download, not a document; only text/* documents (HTML pages) can be captured',
      );
    }
    await scope.run(Promise.race([loaded, early]));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'ERR::SCRAPE::OPERATION_TIMEOUT' && !document) {
      throw new ApiError(
        'ERR::SCRAPE::OPERATION_TIMEOUT',
        `The page did not answer within timeout=${request.timeoutMs} ms; raise the timeout parameter or check that the site is up`,
        { retryAfterSeconds: 1 },
      );
    }
    if (error instanceof ApiError && error.code === 'ERR::SCRAPE::OPERATION_TIMEOUT') {
      throw new ApiError(
        'ERR::SCRAPE::OPERATION_TIMEOUT',
        `The page did not finish loading within timeout=${request.timeoutMs} ms (its load event never fired); raise the timeout parameter`,
        { retryAfterSeconds: 1 },
      );
    }
    throw error;
  } finally {
    session.off('Network.responseReceived', onResponse);
    session.off('Network.requestWillBeSent', onRequest);
  }
  if (!document) {
    throw new ApiError(
      'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
      'The page produced no document to capture',
      {
        retryAfterSeconds: 1,
      },
    );
  }
  return document;
}

function checkDocument(response: DocumentResponse, settings: EgressReadings): void {
  const trusted = settings.isEgressAnswer?.(response.headers) ?? true;
  const egressError = trusted ? response.headers[EGRESS_ERROR_HEADER] : undefined;
  if (egressError) {
    const reason = decodeURIComponent(response.headers[EGRESS_REASON_HEADER] ?? egressError);
    if (egressError === 'DOMAIN_NOT_ALLOWED')
      throw new ApiError('ERR::SCRAPE::DOMAIN_NOT_ALLOWED', `The page led to a refused address: ${reason}`);
    if (egressError === 'DNS_NAME_NOT_RESOLVED')
      throw new ApiError('ERR::SCRAPE::DNS_NAME_NOT_RESOLVED', `Loading the page failed: ${reason}`);
    if (egressError === 'BAD_PROTOCOL')
      throw new ApiError('ERR::SCRAPE::BAD_PROTOCOL', `Loading the page failed: ${reason}`);
    throw new ApiError('ERR::SCRAPE::NETWORK_ERROR', `Loading the page failed: ${reason}`, {
      retryAfterSeconds: 1,
    });
  }
  const contentType = response.headers['content-type'];
  if (contentType && !/^\s*text\//i.test(contentType)) {
    throw new ApiError(
      'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
      `The url answered with content type "${contentType}"; only text/* documents (HTML pages) can be captured`,
    );
  }
}

function navigationError(
  errorText: string,
  request: CaptureSpec,
  settings: EgressReadings,
  lastHost: string,
): ApiError {
  const failure =
    settings.egressFailure?.(lastHost) ??
    (lastHost !== request.hostname ? settings.egressFailure?.(request.hostname) : undefined);
  if (failure?.kind === 'DOMAIN_NOT_ALLOWED')
    return new ApiError('ERR::SCRAPE::DOMAIN_NOT_ALLOWED', failure.reason);
  if (failure?.kind === 'DNS_NAME_NOT_RESOLVED')
    return new ApiError('ERR::SCRAPE::DNS_NAME_NOT_RESOLVED', failure.reason);
  if (failure?.kind === 'BAD_PROTOCOL') return new ApiError('ERR::SCRAPE::BAD_PROTOCOL', failure.reason);
  if (/ERR_CERT|ERR_SSL/i.test(errorText)) {
    return new ApiError('ERR::SCRAPE::SSL_ERROR', `The TLS connection to ${lastHost} failed (${errorText})`);
  }
  if (/ERR_ABORTED|ERR_BLOCKED_BY_RESPONSE|ERR_INVALID_RESPONSE/i.test(errorText) && !failure) {
    return new ApiError(
      'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT',
      `Loading ${request.url} was aborted (${errorText}); the answer may not be a document that can be shown`,
      { retryAfterSeconds: 1 },
    );
  }
  return new ApiError(
    'ERR::SCRAPE::NETWORK_ERROR',
    `Loading ${request.url} failed: ${failure?.reason ?? errorText}`,
    { retryAfterSeconds: 1 },
  );
}
