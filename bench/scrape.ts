/**
 * /scrape without a browser against a bare client, side by side in one run on the same local pages:
 *
 *   bare      undici.request straight to the fixture pages (keep-alive, no guard, nothing recorded);
 *   relay     the least any HTTP scrape service does: a bare fastify route that fetches the page with
 *             undici (keep-alive) and answers it in a JSON envelope, no guard, no key, nothing recorded.
 *             A scrape is two HTTP exchanges where bare is one, so on loopback, where both are CPU-bound
 *             in this one process, relay is the ceiling for the ratio to bare (about 0.5x);
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
import Fastify from 'fastify';
import { Agent, request } from 'undici';
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
const relayAgent = new Agent({ keepAliveTimeout: 10_000 });
const relay = Fastify();
relay.get<{ Querystring: { url: string } }>('/relay', async (req) => {
  const upstream = await request(req.query.url, { dispatcher: relayAgent });
  const content = await upstream.body.text();
  return { result: { status_code: upstream.statusCode, content, format: 'raw', url: req.query.url } };
});
const relayOrigin = await relay.listen({ port: 0, host: '127.0.0.1' });
// Concurrency well above the bench's own, so the project's slots are never what limits it; no Chromium
// (these modes never use it, and its processes would take CPU from the measure).
const service = await startService({ SNAPWIRE_DEFAULT_PLAN: 'ENTERPRISE' }, {}, { browsers: false });

type Mode = 'bare' | 'relay' | 'scrape' | 'markdown';
const MODES: Mode[] = ['bare', 'relay', 'scrape', 'markdown'];

function urlFor(mode: Mode, index: number): string {
  const page = `${origin}/${NAMES[index % NAMES.length]}`;
  if (mode === 'bare') return page;
  if (mode === 'relay') return `${relayOrigin}/relay?url=${encodeURIComponent(page)}`;
  const format = mode === 'markdown' ? 'markdown' : 'raw';
  return `${service.baseUrl}/scrape?key=${LIVE_KEY}&format=${format}&url=${encodeURIComponent(page)}`;
}

// CPU time per page (this one process: client, service and fixture server) moves less than pages/s when
// other work shares the cores.
const cpuPerPage: Record<Mode, number[]> = { bare: [], relay: [], scrape: [], markdown: [] };

async function run(mode: Mode): Promise<number> {
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let index = next++; index < PAGES; index = next++) {
        const answer = await request(urlFor(mode, index));
        const text = await answer.body.text();
        if (answer.statusCode !== 200) {
          const error = /"code":"(ERR::[^"]+)"[^{}]*?"message":"([^"]*)"/.exec(text);
          throw new Error(
            `${mode}: ${answer.statusCode} ${error ? `${error[1]}: ${error[2]}` : text.slice(0, 300)}`,
          );
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  cpuPerPage[mode].push((cpu.user + cpu.system) / 1000 / PAGES);
  return PAGES / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rates: Record<Mode, number[]> = { bare: [], relay: [], scrape: [], markdown: [] };
try {
  await run('bare'); // warm-up: connections, JIT
  await run('relay');
  await run('scrape');
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const mode of MODES) rates[mode].push(await run(mode));
  }
} finally {
  await service.close();
  await relay.close();
  await relayAgent.close();
  await new Promise<void>((resolve) => fixtures.close(() => resolve()));
}
const bare = median(rates.bare);
console.log(
  `${PAGES} pages x ${ROUNDS} rounds, concurrency ${CONCURRENCY}, ${os.cpus().length} CPUs, Node ${process.version}`,
);
const relayRate = median(rates.relay);
for (const mode of MODES) {
  const rate = median(rates[mode]);
  console.log(
    `${mode.padEnd(9)} ${rate.toFixed(0).padStart(6)} pages/s (rounds: ${rates[mode].map((value) => value.toFixed(0)).join(', ')})  ${(rate / bare).toFixed(2)}x bare  ${(rate / relayRate).toFixed(2)}x relay  ${median(cpuPerPage[mode]).toFixed(3)} ms CPU/page`,
  );
}
