/**
 * One answer out of the answers a model gave for each part of a long document (reduce.ts chunkDocument).
 * Each part was asked the same question, so an answer describes what that part says:
 * - objects are merged key by key (a key's first value that is not null or empty wins; arrays under
 *   the same key are concatenated; nested objects merged the same way), so a product's name from part 1
 *   and its reviews from parts 2 and 3 end up in one object;
 * - arrays are concatenated in document order without repeats (a list of items spread over the parts);
 * - strings (free-text answers) are joined with a blank line, without repeats;
 * - answers of different kinds: the first part's that says something wins.
 */
export function mergeAnswers(answers: unknown[]): unknown {
  const meaningful = answers.filter((answer) => !isEmpty(answer));
  if (meaningful.length === 0) return answers[0] ?? null;
  if (meaningful.length === 1) return meaningful[0];
  if (meaningful.every(Array.isArray)) return uniqueConcat(meaningful as unknown[][]);
  if (meaningful.every(isPlainObject)) return mergeObjects(meaningful as Record<string, unknown>[]);
  if (meaningful.every((answer) => typeof answer === 'string')) {
    return [...new Set((meaningful as string[]).map((text) => text.trim()))].join('\n\n');
  }
  return meaningful[0];
}

function mergeObjects(objects: Record<string, unknown>[]): Record<string, unknown> {
  const keys = [...new Set(objects.flatMap((object) => Object.keys(object)))];
  const merged: Record<string, unknown> = {};
  for (const key of keys) {
    const values = objects.filter((object) => key in object).map((object) => object[key]);
    const present = values.filter((value) => !isEmpty(value));
    if (present.length === 0) merged[key] = values[0] ?? null;
    else if (present.every(Array.isArray)) merged[key] = uniqueConcat(present as unknown[][]);
    else if (present.every(isPlainObject)) merged[key] = mergeObjects(present as Record<string, unknown>[]);
    else merged[key] = present[0];
  }
  return merged;
}

function uniqueConcat(arrays: unknown[][]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const item of arrays.flat()) {
    const identity = JSON.stringify(item);
    if (seen.has(identity)) continue;
    seen.add(identity);
    out.push(item);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isEmpty);
  return false;
}
