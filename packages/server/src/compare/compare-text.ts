import { diffWords } from 'diff';

export interface TextComparison {
  changed: boolean;
  /** Words only the after-text has, in order (at most MAX_LISTED_WORDS). */
  added: string[];
  /** Words only the before-text has, in order (at most MAX_LISTED_WORDS). */
  removed: string[];
  /** Added plus removed words, all of them (a replaced word counts twice: once removed, once added). */
  changedWords: number;
}

/** Long lists help nobody reading a change report; the count stays exact. */
export const MAX_LISTED_WORDS = 500;
/** diffWords is O(N x D): past this the texts are diffed by word counts instead (see wordCountDiff). */
const DIFF_TIMEOUT_MS = 2000;

/**
 * A word-level diff of two texts (the `diff` package's diffWords): which words were added and which
 * removed. Whitespace-only changes are not changes.
 */
export function compareText(before: string, after: string): TextComparison {
  const added: string[] = [];
  const removed: string[] = [];
  const parts = diffWords(before, after, { timeout: DIFF_TIMEOUT_MS });
  if (parts === undefined) return wordCountDiff(before, after);
  let addedCount = 0;
  let removedCount = 0;
  for (const part of parts) {
    if (!part.added && !part.removed) continue;
    const words = wordsOf(part.value);
    if (part.added) {
      addedCount += words.length;
      added.push(...words.slice(0, MAX_LISTED_WORDS - added.length));
    } else {
      removedCount += words.length;
      removed.push(...words.slice(0, MAX_LISTED_WORDS - removed.length));
    }
  }
  return summary(added, removed, addedCount + removedCount);
}

/**
 * When the diff takes too long (two long, very different texts): words compared as multisets, without
 * their order. Still names what appeared and what went.
 */
function wordCountDiff(before: string, after: string): TextComparison {
  const counts = new Map<string, number>();
  for (const word of wordsOf(before)) counts.set(word, (counts.get(word) ?? 0) + 1);
  const added: string[] = [];
  let addedCount = 0;
  for (const word of wordsOf(after)) {
    const left = counts.get(word) ?? 0;
    if (left > 0) {
      counts.set(word, left - 1);
      continue;
    }
    addedCount++;
    if (added.length < MAX_LISTED_WORDS) added.push(word);
  }
  const removed: string[] = [];
  let removedCount = 0;
  for (const [word, count] of counts) {
    removedCount += count;
    for (let i = 0; i < count && removed.length < MAX_LISTED_WORDS; i++) removed.push(word);
  }
  return summary(added, removed, addedCount + removedCount);
}

function summary(added: string[], removed: string[], changedWords: number): TextComparison {
  return { changed: changedWords > 0, added, removed, changedWords };
}

function wordsOf(text: string): string[] {
  return text.split(/\s+/u).filter((word) => word.length > 0);
}
