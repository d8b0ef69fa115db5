/**
 * /scrape without a browser against a bare client, side by side in one run on the same local pages:
 *
 *   bare      undici.request straight to the fixture pages (keep-alive, no guard, nothing recorded);
 *   scrape    GET /scrape?format=raw through a whole Snapwire on SQLite: key check, credits, a project
 *             concurrency slot, the egress guard (resolve, check, pin), the fetch, the envelope and one
 *             monitoring log row per call;
 *   markdown  the same with format=markdown (linkedom + turndown on every page).
 *
 * Each mode fetches N pages (bench/fixtures: simple, article, images in turn) at concurrency C, in R
 * interleaved rounds; the medians of pages/s are compared as ratios to bare.
 *
 *   npm run bench:scrape                                   # 1500 pages, concurrency 8, 3 rounds
 *   npm run bench:scrape -- --pages 3000 --concurrency 16 --rounds 5
 *
 * Only loopback is contacted.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { LIVE_KEY, startService } from '../packages/server/test/helpers/service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}

const PAGES = Number(option('pages', '1500'));
const CONCURRENCY = Number(option('concurrency', '8'));
const ROUNDS = Number(option('rounds', '3'));
const NAMES = ['simple', 'article', 'images'];

const bodies = new Map(
  NAMES.map((name) => [`/${name}`, fs.readFileSync(path.join(ROOT, 'bench', 'fixtures', `${name}.html`))]),
);
const fixtures = http.createServer((req, res) => {
  const body = bodies.get(req.url ?? '');
  if (!body) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
});
await new Promise<void>((resolve) => fixtures.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(fixtures.address() as AddressInfo).port}`;
// Concurrency well above the bench's own, so the project's slots are never what limits it.
const service = await startService({ SNAPWIRE_DEFAULT_PLAN: 'ENTERPRISE' });

type Mode = 'bare' | 'scrape' | 'markdown';

function urlFor(mode: Mode, index: number): string {
  const page = `${origin}/${NAMES[index % NAMES.length]}`;
  if (mode === 'bare') return page;
  const format = mode === 'markdown' ? 'markdown' : 'raw';
  return `${service.baseUrl}/scrape?key=${LIVE_KEY}&format=${format}&url=${encodeURIComponent(page)}`;
}

async function run(mode: Mode): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let index = next++; index < PAGES; index = next++) {
        const answer = await request(urlFor(mode, index));
        const text = await answer.body.text();
        if (answer.statusCode !== 200) throw new Error(`${mode}: ${answer.statusCode} ${text.slice(0, 200)}`);
      }
    }),
  );
  return PAGES / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rates: Record<Mode, number[]> = { bare: [], scrape: [], markdown: [] };
try {
  await run('bare'); // warm-up: connections, JIT
  await run('scrape');
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const mode of ['bare', 'scrape', 'markdown'] as const) rates[mode].push(await run(mode));
  }
} finally {
  await service.close();
  await new Promise<void>((resolve) => fixtures.close(() => resolve()));
}
const bare = median(rates.bare);
console.log(
  `${PAGES} pages x ${ROUNDS} rounds, concurrency ${CONCURRENCY}, ${os.cpus().length} CPUs, Node ${process.version}`,
);
for (const mode of ['bare', 'scrape', 'markdown'] as const) {
  const rate = median(rates[mode]);
  console.log(
    `${mode.padEnd(9)} ${rate.toFixed(0).padStart(6)} pages/s (rounds: ${rates[mode].map((value) => value.toFixed(0)).join(', ')})  ${(rate / bare).toFixed(2)}x bare`,
  );
}
