import { randomFillSync } from 'node:crypto';

// Random bytes from the operating system's generator, drawn 4 KiB at a time: each randomFillSync call
// costs far more than the bytes it returns, and ulid() asks for one byte per character (sixteen calls per
// log id; 3 % of a /scrape call's CPU in bench:scrape's profile). Node's randomUUID pools the same way.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** Copies `length` fresh random bytes into `target` at `start`. */
export function fillRandom(target: Buffer, start: number, length: number): void {
  if (length > POOL_BYTES) {
    randomFillSync(target, start, length);
    return;
  }
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(target, start, offset, offset + length);
  offset += length;
}

const oneByte = Buffer.alloc(1);

/** A number in [0, 1) from one random byte: the generator ulid() takes (its own default draws per call). */
export function randomFraction(): number {
  fillRandom(oneByte, 0, 1);
  return (oneByte[0] as number) / 256;
}
