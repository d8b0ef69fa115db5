// Stand-in for the comparison engine of branch `compare` (same API); replaced when that branch is merged.
export interface TextComparison {
  changed: boolean;
  added: string[];
  removed: string[];
  changedWords: number;
}

const MAX_WORDS = 5_000;

export function compareText(before: string, after: string): TextComparison {
  const a = before.split(/\s+/).filter(Boolean).slice(0, MAX_WORDS);
  const b = after.split(/\s+/).filter(Boolean).slice(0, MAX_WORDS);
  // Longest common subsequence of the words; what is outside it was removed or added.
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i]![j] =
        a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i += 1;
      j += 1;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) removed.push(a[i++]!);
    else added.push(b[j++]!);
  }
  while (i < a.length) removed.push(a[i++]!);
  while (j < b.length) added.push(b[j++]!);
  return {
    changed: added.length + removed.length > 0,
    added,
    removed,
    changedWords: added.length + removed.length,
  };
}
