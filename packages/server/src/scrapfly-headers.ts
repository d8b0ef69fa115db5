import type { ApiError } from './errors.js';
import { errorDocUrl } from './errors.js';
import type { ScreenshotOutcome } from './jobs/screenshot-service.js';

/**
 * Scrapfly's answer and reject headers, built in one place for every face that sends them: the
 * synchronous /screenshot answer, the dashboard's playground, the asynchronous delivery (jobs/worker.ts)
 * and the error mapper (http/errors.ts); see docs/compat.md.
 */
export interface AnswerContext {
  /** Time the whole request took, in ms. */
  elapsedMs: number;
}

/**
 * The headers of a successful synchronous capture (the image is the body). The account of a key is its
 * project here (plans and limits are per project), so the account and project concurrency headers give
 * the one figure the capture read while it held its slot (docs/compat.md §2): they always agree, with
 * each other and with /account's max_concurrency.
 */
export function answerHeaders(outcome: ScreenshotOutcome, context: AnswerContext): Record<string, string> {
  const { result } = outcome;
  const { usage, limit } = outcome.projectConcurrency;
  const remaining = String(Math.max(0, limit - usage));
  return {
    'content-type': result.contentType,
    'x-scrapfly-upstream-http-code': String(result.upstreamStatus),
    'x-scrapfly-upstream-url': result.finalUrl,
    'x-scrapfly-screenshot-url': outcome.screenshotUrl,
    'x-scrapfly-api-cost': String(outcome.cost),
    'x-scrapfly-remaining-api-credit': String(outcome.remainingCredits),
    'x-scrapfly-account-concurrent-usage': String(usage),
    'x-scrapfly-account-remaining-concurrent-usage': remaining,
    'x-scrapfly-project-concurrent-usage': String(usage),
    'x-scrapfly-project-remaining-concurrent-usage': remaining,
    'x-scrapfly-response-time': (context.elapsedMs / 1000).toFixed(3),
    'x-scrapfly-log-uuid': outcome.logUuid,
    ...outcome.headers,
  };
}

/** The X-Scrapfly-Reject-* headers of an error answer (and Retry-After when it is retryable). */
/** `publicUrl`: this service's address, for the link to its own error reference (/docs/errors). */
export function rejectHeaders(error: ApiError, errorId: string, publicUrl: string): Record<string, string> {
  const { httpStatus, retryable, description } = error.definition;
  const headers: Record<string, string> = {
    'x-scrapfly-reject-code': error.code,
    'x-scrapfly-reject-description': description,
    'x-scrapfly-reject-doc': errorDocUrl(error.code, publicUrl),
    'x-scrapfly-reject-http-code': String(httpStatus),
    'x-scrapfly-reject-retryable': String(retryable),
    'x-scrapfly-reject-id': errorId,
  };
  if (retryable) headers['retry-after'] = String(error.retryAfterSeconds ?? 1);
  return headers;
}

/**
 * The answer headers an asynchronous delivery carries with the image (the delivery adds its own webhook,
 * signature and log headers): the same upstream, cost and capture headers as the synchronous answer,
 * including cache status, egress country and truncation.
 */
export function deliveryAnswerHeaders(outcome: ScreenshotOutcome): Record<string, string> {
  return {
    'x-scrapfly-upstream-http-code': String(outcome.result.upstreamStatus),
    'x-scrapfly-upstream-url': outcome.result.finalUrl,
    'x-scrapfly-screenshot-url': outcome.screenshotUrl,
    'x-scrapfly-api-cost': String(outcome.cost),
    ...outcome.headers,
  };
}

/** The reject headers an asynchronous delivery of an error carries (no id or Retry-After: not an answer). */
export function deliveryRejectHeaders(error: ApiError): Record<string, string> {
  return {
    'x-scrapfly-reject-code': error.code,
    'x-scrapfly-reject-http-code': String(error.definition.httpStatus),
    'x-scrapfly-reject-retryable': String(error.definition.retryable),
  };
}

/** What a scrape answer's headers are made of (scrape/scrape-service.ts's outcome, without importing it). */
export interface ScrapeAnswer {
  logUuid: string;
  logUrl: string;
  cost: number;
  remainingCredits: number;
  projectConcurrency: { usage: number; limit: number };
  /** The target's status and final URL, when it answered. */
  upstream: { status: number; url: string } | undefined;
}

/** The X-Scrapfly-* headers of a /scrape answer (the envelope is the body). */
export function scrapeAnswerHeaders(answer: ScrapeAnswer, context: AnswerContext): Record<string, string> {
  return {
    ...(answer.upstream
      ? {
          'x-scrapfly-upstream-http-code': String(answer.upstream.status),
          'x-scrapfly-upstream-url': answer.upstream.url,
        }
      : {}),
    'x-scrapfly-api-cost': String(answer.cost),
    'x-scrapfly-remaining-api-credit': String(answer.remainingCredits),
    // One figure for both, as on /screenshot: the account of a key is its project.
    'x-scrapfly-account-concurrent-usage': String(answer.projectConcurrency.usage),
    'x-scrapfly-account-remaining-concurrent-usage': String(
      Math.max(0, answer.projectConcurrency.limit - answer.projectConcurrency.usage),
    ),
    'x-scrapfly-project-concurrent-usage': String(answer.projectConcurrency.usage),
    'x-scrapfly-project-remaining-concurrent-usage': String(
      Math.max(0, answer.projectConcurrency.limit - answer.projectConcurrency.usage),
    ),
    'x-scrapfly-response-time': (context.elapsedMs / 1000).toFixed(3),
    'x-scrapfly-log-uuid': answer.logUuid,
    'x-scrapfly-log-url': answer.logUrl,
  };
}
