import fs from 'node:fs/promises';
import type { ExtractionTemplate } from '@snapwire/sdk';
import { fail } from '../output.js';

/** A rules template from a JSON file; the service checks its rules, this only that it is a JSON object. */
export async function readTemplateFile(file: string): Promise<ExtractionTemplate> {
  const text = await fs
    .readFile(file, 'utf8')
    .catch((error: NodeJS.ErrnoException) => fail(`cannot read ${file} (${error.code ?? error.message})`));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(`${file} is not JSON (${(error as Error).message}); a template is {"selectors": [...]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${file} must hold a JSON object: {"selectors": [{"name": ..., "type": "css", "query": ...}]}`);
  }
  return value as ExtractionTemplate;
}
