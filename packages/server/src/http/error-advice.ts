import type { ErrorCode } from '../errors.js';

/**
 * What to do about each catalogue code, shown on /docs/errors next to its meaning. A code without an entry
 * gets a line from its retryable flag, so a new code is never missing from the page.
 */
export const ERROR_ADVICE: Partial<Record<ErrorCode, string>> = {
  'ERR::SCRAPE::CONFIG_ERROR':
    'Read `reason`: it names the parameter and the allowed values. Fix the request; sending it again unchanged fails again.',
  'ERR::SCRAPE::BAD_PROTOCOL': 'Give an http:// or https:// URL (url-encoded in the url parameter).',
  'ERR::SCRAPE::DOMAIN_NOT_ALLOWED':
    'The URL, or a redirect, points at a loopback, private, link-local or denied address. Capture a public address; operators can allow networks with SNAPWIRE_ALLOWED_NETWORKS.',
  'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED':
    'Check the host name for typos; it has no DNS record the service can see.',
  'ERR::SCRAPE::NETWORK_ERROR':
    'The site refused or reset the connection. Check that it is up; retrying later may work.',
  'ERR::SCRAPE::SSL_ERROR': 'The site’s TLS certificate or handshake is broken; fix the site or use http://.',
  'ERR::SCRAPE::OPERATION_TIMEOUT':
    'The page took longer than `timeout`. Raise timeout (up to the operator’s SNAPWIRE_MAX_TIMEOUT_MS), lower rendering_wait, or drop wait_for_selector.',
  'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND':
    'No element matched capture / wait_for_selector in time. Check the selector against the page (it may load later: raise rendering_wait).',
  'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE':
    'The element exists but has no visible box (hidden, zero size). Capture a visible ancestor.',
  'ERR::SCRAPE::DOM_SELECTOR_INVALID':
    'The selector is neither valid CSS nor XPath. XPath starts with / or ( or the prefix xpath=.',
  'ERR::SCRAPE::JAVASCRIPT_EXECUTION':
    'Your js script threw; `reason` holds its error message. Test the script in a browser console first.',
  'ERR::SCRAPE::DRIVER_CRASHED':
    'The browser crashed on this page (often memory). Retry; a page that crashes every time cannot be captured.',
  'ERR::SCRAPE::DRIVER_TIMEOUT': 'The browser stopped answering; retry after Retry-After seconds.',
  'ERR::SCRAPE::NO_BROWSER_AVAILABLE':
    'No browser is ready yet (starting or replaced); retry after Retry-After seconds.',
  'ERR::SCRAPE::QUOTA_LIMIT_REACHED':
    'The project used its monthly credits. Wait for next month or raise the limit: snapwire projects set NAME --plan … / --limit monthlyCredits=N.',
  'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE':
    'The target answered 4xx or 5xx; `result.status_code` and `result.content` hold what it said. Check the URL, method, headers and body you sent it.',
  'ERR::SCRAPE::UPSTREAM_RESPONSE_TOO_LARGE':
    'The target answered more bytes than SNAPWIRE_SCRAPE_MAX_BODY_BYTES allows. Scrape a smaller resource, or ask the operator to raise the limit.',
  'ERR::SCRAPE::TOO_MANY_REDIRECTS':
    'The target kept redirecting (SNAPWIRE_SCRAPE_MAX_REDIRECTS). Scrape the final URL, or check for a redirect loop.',
  'ERR::SCRAPE::FORMAT_NOT_SUPPORTED':
    'markdown, text and clean_html need an HTML or text answer, json a JSON one. Use format=raw (binary answers come base64-encoded).',
  'ERR::SCRAPE::SCENARIO_EXECUTION':
    '`reason` names the js_scenario step (its index in the list) and why it failed: a selector that matched nothing, a wait that ran out, a script that threw. Check the step against the page.',
  'ERR::SESSION::CONCURRENT_ACCESS':
    'A session holds one scrape at a time. Wait for the other scrape with this session name to end (retry after Retry-After seconds), or use another name.',
  'ERR::SCRAPE::FEATURE_NOT_SERVED':
    'This Snapwire version does not serve that scrape parameter yet (docs/compat.md, Web Scraping API). Drop it from the request.',
  'ERR::PROXY::POOL_NOT_FOUND':
    'This host has no such proxy pool: drop proxy_pool, or use public_datacenter_pool (the direct egress).',
  'ERR::SCREENSHOT::INVALID_CONTENT_TYPE':
    'The URL answers an image, JSON, PDF … not a text/* document. Capture an HTML page that shows it instead.',
  'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT':
    'The image could not be made; retry. `reason` says what failed.',
  'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED':
    'Too many captures at once for the project or the browser pool. Wait Retry-After seconds, or lower your concurrency.',
  'ERR::THROTTLE::MAX_REQUEST_RATE_EXCEEDED': 'Slow down; retry after Retry-After seconds.',
  'ERR::THROTTLE::MAX_API_CREDIT_BUDGET_EXCEEDED':
    'The credit budget is exceeded; retry after Retry-After seconds.',
  'ERR::WEBHOOK::NOT_FOUND':
    'No webhook by that webhook_name in this key’s project and environment. List them: GET /webhooks?key=….',
  'ERR::WEBHOOK::DISABLED':
    'The webhook was disabled (by you or after failed deliveries); enable it again with PATCH /webhooks/NAME.',
  'ERR::WEBHOOK::ENDPOINT_UNREACHABLE':
    'The webhook URL did not answer; check your receiver. Deliveries are retried.',
  'ERR::WEBHOOK::QUEUE_FULL':
    'Too many deliveries waiting for this webhook; retry later or raise the project’s webhookQueueLimit.',
  'ERR::WEBHOOK::QUEUE_LIMIT_ZERO':
    'Retrying never helps: the webhook’s queue limit is 0 (its queue_limit, else its project plan’s webhookQueueLimit; FREE has none). Raise the webhook’s queue_limit (PATCH /webhooks/NAME), or the project’s: snapwire projects set NAME --plan unlimited, or --limit webhookQueueLimit=N.',
  'ERR::WEBHOOK::MAX_RETRY':
    'Every delivery attempt failed; fix the receiver, then replay the delivery from the dashboard or the API.',
  'ERR::SCHEDULE::DISABLED': 'The schedule is disabled; enable it again.',
  'ERR::API::NOT_FOUND':
    'No such route or resource in this project; check the path (see /docs) and the key’s project.',
  'ERR::API::NOT_SERVED':
    'The path belongs to a Scrapfly product Snapwire does not serve: the Web Scraping, Extraction and Crawler APIs (not yet), the Cloud Browser API and the Classify API. Snapwire serves the Screenshot API (/screenshot, schedules, webhooks, logs, monitoring, /account); the README’s section “What Snapwire does not do” lists the rest (Proxy Saver, anti-bot bypass, residential proxies …).',
  'ERR::API::CONFLICT': 'A resource with that name exists; choose another name or change the existing one.',
  'ERR::API::INTERNAL_ERROR':
    'A bug in the service; it is logged with error_id. Report it with the error_id.',
};

export function adviceFor(code: ErrorCode, retryable: boolean): string {
  return (
    ERROR_ADVICE[code] ??
    (retryable
      ? 'Retry after the Retry-After seconds.'
      : 'Read `reason` and change the request; it will not succeed as is.')
  );
}
