import { ulid } from 'ulid';
import { fillRandom, randomFraction } from './random-pool.js';

let lastMs = 0;
let sequence = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, in the usual UUID text
 * form. Rows keyed by it are inserted at the end of their index instead of at a random place, so that a
 * commit writes a few index pages instead of one per row (measured in the delivery benchmark,
 * docs/benchmarks.md). Ids made within one millisecond keep their order (a 12-bit sequence in rand_a).
 */
export function timeOrderedId(now: number): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
  }
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  fillRandom(bytes, 8, 8);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A log's id: a ULID (Scrapfly's log ids have its shape), its randomness drawn from the shared pool. */
export function newLogUuid(): string {
  return ulid(undefined, randomFraction);
}
