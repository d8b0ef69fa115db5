import { createHash, randomBytes } from 'node:crypto';

export type Environment = 'LIVE' | 'TEST';
export const ENVIRONMENTS: readonly Environment[] = ['LIVE', 'TEST'];

/** A new key in Scrapfly's shape (`scp-live-…`, `scp-test-…`) with 128 random bits. */
export function generateApiKey(env: Environment): string {
  return `scp-${env.toLowerCase()}-${randomBytes(16).toString('hex')}`;
}

/**
 * Keys are stored as SHA-256 digests. A slow password hash is not needed: keys carry 128 random bits,
 * so a fast digest cannot be brute-forced, and it keeps the per-request lookup a single indexed read.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyHint(key: string): string {
  return key.slice(-4);
}
