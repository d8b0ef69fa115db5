import { ApiError } from '../errors.js';
import {
  KNOWN_PARAMETERS,
  parseScreenshotRequest,
  type ScreenshotRequest,
} from '../request/screenshot-request.js';

/** The parameters of a scheduled screenshot, as /screenshot's query string would carry them. */
export type ScreenshotParams = Record<string, string>;

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Turns a schedule's `screenshot_config` into /screenshot parameters and validates them exactly as
 * /screenshot does (docs/compat.md §6). Two spellings arrive: the API's (strings, `js` in base64url, options
 * comma-separated) and a serialised SDK ScreenshotConfig (booleans, numbers, `options` as an array, `js` as
 * plain script). Both are accepted: values become their query-string form and a `js` that is not base64url
 * is taken as the script itself and encoded. `key` and `webhook_name` belong to the schedule, not here.
 */
export function normaliseScreenshotConfig(
  config: unknown,
  settings: { maxTimeoutMs: number },
): { params: ScreenshotParams; request: ScreenshotRequest } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ApiError(
      'ERR::SCHEDULER::INVALID_REQUEST',
      'screenshot_config must be an object of screenshot parameters, e.g. {"url": "https://example.com", "format": "png"}',
    );
  }
  const params: ScreenshotParams = {};
  for (const [name, value] of Object.entries(config as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (name === 'key' || name === 'webhook_name' || name === 'webhook') {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_REQUEST',
        `screenshot_config.${name} is not allowed: the schedule's own key and webhook_name are used`,
      );
    }
    if (!(KNOWN_PARAMETERS as readonly string[]).includes(name)) {
      throw new ApiError(
        'ERR::SCHEDULER::INVALID_REQUEST',
        `screenshot_config has an unknown parameter "${name}"; known: ${KNOWN_PARAMETERS.filter((p) => p !== 'key' && p !== 'webhook_name').join(', ')}`,
      );
    }
    let text = Array.isArray(value) ? value.map(String).join(',') : String(value);
    if (name === 'js' && !BASE64URL.test(text)) text = Buffer.from(text, 'utf8').toString('base64url');
    params[name] = text;
  }
  try {
    return { params, request: parseScreenshotRequest(params, settings) };
  } catch (error) {
    if (error instanceof ApiError) {
      throw new ApiError('ERR::SCHEDULER::INVALID_REQUEST', `screenshot_config: ${error.reason}`);
    }
    throw error;
  }
}
