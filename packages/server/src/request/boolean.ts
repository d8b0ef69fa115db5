import { z } from 'zod';
import { ApiError } from '../errors.js';

/**
 * The one reader of boolean parameters. The Python SDK writes `True`/`False`, others `true`/`false`: every
 * boolean parameter of every route takes either value in any letter case (and 1/0) (docs/compat.md §1).
 */
const BOOLEAN = /^(true|false|1|0)$/i;

/** A boolean query parameter in a route's zod schema (validated there, read with parseQueryBoolean). */
export const queryBoolean = (description: string) =>
  z
    .string()
    .regex(BOOLEAN, 'must be true or false')
    .optional()
    .describe(`${description} (true or false, any letter case)`);

/** Reads a boolean parameter: undefined when absent; a value queryBoolean let through otherwise. */
export function parseQueryBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  return undefined;
}

/** Reads the boolean parameter `name`: undefined when absent or empty, a CONFIG_ERROR naming it otherwise. */
export function readBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = parseQueryBoolean(value);
  if (parsed !== undefined) return parsed;
  throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', `The ${name} parameter "${value}" must be true or false`);
}
