import { z } from 'zod';

/**
 * A boolean query parameter. The Python SDK writes `True`/`False`, others `true`/`false`: every boolean
 * parameter of every route takes either value in any letter case (and 1/0) (docs/compat.md §1).
 */
export const queryBoolean = (description: string) =>
  z
    .string()
    .regex(/^(true|false|1|0)$/i, 'must be true or false')
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
