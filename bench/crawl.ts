/**
 * The Crawler API against Crawlee, side by side in one run, on the same generated site on 127.0.0.1:
 *
 *   snapwire   POST /crawl through a whole Snapwire on SQLite (the service's crawl worker: the frontier in
 *              the store under leases, robots.txt read, every page fetched through the egress guard, its
 *              html, WARC and HAR records written to the blob store and its row to the store);
 *   cheerio    Crawlee's CheerioCrawler (in-memory request queue persisted to a temp dir, pages parsed with
 *              cheerio, links enqueued, nothing stored);
 *   snapwire-browser  the same crawl with rendering_delay 1 ms (every page rendered by the service's browser pool in
 *              Debian's chromium before it is read and its links followed), stopped after --browser-pages;
 *   playwright Crawlee's PlaywrightCrawler driving Debian's chromium (links enqueued from the rendered page).
 *
 * The browser rows are compared with each other, the plain ones with each other. Every mode runs in its own child process (its CPU and
 * memory are its own), with the same concurrency, in R interleaved rounds; the site is served by another
 * child process whose CPU is not counted.
 *
 *   npm run bench:crawl                                       # 2000 pages, concurrency 8, 2 rounds
 *   npm run bench:crawl -- --pages 2000 --concurrency 8 --rounds 3 --browser-pages 200 --no-write
 *
 * Writes bench/results/crawl.json, docs/benchmarks-crawl.png and the crawl block of docs/benchmarks.md
 * (`--chart-only` draws the chart again from bench/results/crawl.json).
 * Only loopback is contacted.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTreePssMb } from '../packages/server/src/engine/chromium-process.js';
import { processTreeCpuMs } from './process-tree.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}

const PAGES = Number(option('pages', '2000'));
const CONCURRENCY = Number(option('concurrency', '8'));
const ROUNDS = Number(option('rounds', '2'));
const BROWSER_PAGES = Number(option('browser-pages', '200'));
const CHROMIUM = option('chromium', process.env.SNAPWIRE_CHROMIUM_PATH ?? '/usr/bin/chromium');
const MODES = ['snapwire', 'cheerio', 'snapwire-browser', 'playwright'] as const;
type Mode = (typeof MODES)[number];
const LABELS: Record<Mode, string> = {
  snapwire: 'Snapwire crawler (service, SQLite, stored)',
  cheerio: 'Crawlee CheerioCrawler',
  'snapwire-browser': 'Snapwire crawler, render_js (service, chromium, stored)',
  playwright: 'Crawlee PlaywrightCrawler (chromium)',
};

// --- the site ----------------------------------------------------------------------------------------

/**
 * Page n links to its five children 5n+1..5n+5 (a tree about five levels deep), to three pages elsewhere
 * (already known or not: both crawlers must de-duplicate) and home; about 4 KB of text each.
 */
function sitePage(n: number, pages: number): string {
  const children = [1, 2, 3, 4, 5].map((k) => 5 * n + k).filter((k) => k < pages);
  const elsewhere = [(n * 7 + 3) % pages, (n * 13 + 11) % pages, Math.floor(n / 2)];
  const link = (k: number) => `<li><a href="/p/${k}">Page ${k}</a></li>`;
  const paragraph = `<p>Page ${n} of a generated site: ${'words that a crawler has to read through '.repeat(12)}</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page ${n}</title>
<meta name="description" content="Generated page ${n}"></head><body><header><a href="/p/0">Home</a></header>
<main><h1>Page ${n}</h1>${paragraph.repeat(8)}<ul>${children.map(link).join('')}</ul>
<aside><ul>${elsewhere.map(link).join('')}</ul></aside></main></body></html>`;
}

function serveSite(pages: number): void {
  const server = http.createServer((req, res) => {
    const match = /^\/p\/(\d+)$/.exec(req.url ?? '');
    const n = match ? Number(match[1]) : -1;
    if (n < 0 || n >= pages) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(sitePage(n, pages));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
}

// --- one mode in its own process ----------------------------------------------------------------------

interface ModeRun {
  pages: number;
  seconds: number;
  cpuMs: number;
  /** The part of cpuMs spent in this Node process (the service or Crawlee); the rest is Chromium. */
  nodeCpuMs: number;
  peakMemoryMb: number;
}

async function measured(work: () => Promise<number>): Promise<ModeRun> {
  let peak = processTreePssMb();
  let sampledCpu = 0;
  // Chromium's helpers may exit before the end: their CPU is sampled along the way as well.
  const sampler = setInterval(() => {
    peak = Math.max(peak, processTreePssMb());
    sampledCpu = Math.max(sampledCpu, processTreeCpuMs());
  }, 500);
  const cpuBefore = processTreeCpuMs();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const pages = await work();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const cpuMs = Math.max(sampledCpu, processTreeCpuMs()) - cpuBefore;
  const node = process.cpuUsage(nodeBefore);
  peak = Math.max(peak, processTreePssMb());
  return { pages, seconds, cpuMs, nodeCpuMs: (node.user + node.system) / 1000, peakMemoryMb: peak };
}

async function crawlWithSnapwire(origin: string, browser: boolean): Promise<ModeRun> {
  const { LIVE_KEY, startService } = await import('../packages/server/test/helpers/service.js');
  const { CrawlerConfig, ScrapflyClient } = await import('scrapfly-sdk');
  // The same concurrency as the crawlers it is compared with: the browser pool runs as many pages at once
  // as the crawl asks (the pool's default, 2, is a laptop's setting, not the crawl's).
  const service = await startService(
    { SNAPWIRE_DEFAULT_PLAN: 'ENTERPRISE', SNAPWIRE_BROWSER_CONCURRENCY: String(CONCURRENCY) },
    {},
    { browsers: browser },
  );
  const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  try {
    return await measured(async () => {
      const { crawler_uuid: uuid } = await client.crawl(
        new CrawlerConfig({
          url: `${origin}/p/0`,
          max_concurrency: CONCURRENCY,
          max_duration: 3600,
          // A browser crawl (Scrapfly's form: rendering_delay > 0, here the least, 1 ms) is stopped where
          // PlaywrightCrawler is.
          ...(browser ? { page_limit: BROWSER_PAGES, rendering_delay: 1 } : {}),
        }),
      );
      for (;;) {
        const status = await client.crawlStatus(uuid);
        if (status.is_finished) {
          if (status.state.stop_reason !== (browser ? 'page_limit' : 'no_more_urls'))
            throw new Error(`crawl ended: ${status.state.stop_reason}`);
          return status.state.urls_visited;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
  } finally {
    await service.close();
  }
}

async function crawlWithCrawlee(mode: 'cheerio' | 'playwright', origin: string): Promise<ModeRun> {
  // Crawlee's request queue and key-value store go to a temp dir; it sends no telemetry.
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'crawlee-bench-'));
  process.env.CRAWLEE_STORAGE_DIR = storage;
  const { log, LogLevel, Configuration } = await import('@crawlee/core');
  log.setLevel(process.env.CRAWLEE_BENCH_LOG ? LogLevel.INFO : LogLevel.WARNING);
  const config = new Configuration({ storageClientOptions: { localDataDirectory: storage } });
  const limits = {
    maxConcurrency: CONCURRENCY,
    minConcurrency: CONCURRENCY,
    maxRequestsPerCrawl: mode === 'playwright' ? BROWSER_PAGES : undefined,
    maxRequestRetries: 0,
  };
  try {
    if (mode === 'cheerio') {
      const { CheerioCrawler } = await import('@crawlee/cheerio');
      const crawler = new CheerioCrawler(
        {
          ...limits,
          async requestHandler({ enqueueLinks }) {
            await enqueueLinks();
          },
        },
        config,
      );
      return await measured(async () => (await crawler.run([`${origin}/p/0`])).requestsFinished);
    }
    const { PlaywrightCrawler } = await import('@crawlee/playwright');
    const { chromium } = await import('playwright');
    const crawler = new PlaywrightCrawler(
      {
        ...limits,
        headless: true,
        launchContext: { launcher: chromium, launchOptions: { executablePath: CHROMIUM } },
        async requestHandler({ enqueueLinks }) {
          await enqueueLinks();
        },
      },
      config,
    );
    return await measured(async () => (await crawler.run([`${origin}/p/0`])).requestsFinished);
  } finally {
    fs.rmSync(storage, { recursive: true, force: true });
  }
}

async function runMode(mode: Mode, origin: string): Promise<void> {
  const result =
    mode === 'snapwire' || mode === 'snapwire-browser'
      ? await crawlWithSnapwire(origin, mode === 'snapwire-browser')
      : await crawlWithCrawlee(mode, origin);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Crawlee leaves timers behind; the parent has what it needs.
  process.exit(0);
}

// --- the parent: rounds, report -----------------------------------------------------------------------

function child(args: string[]): { process: ReturnType<typeof spawn>; lines: AsyncIterable<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
  });
  const lines = (async function* read() {
    let buffered = '';
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        yield buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
      }
    }
  })();
  return { process: proc, lines };
}

async function inChild(mode: Mode, origin: string): Promise<ModeRun> {
  const { lines } = child(['--run-mode', mode, '--origin', origin, ...process.argv.slice(2)]);
  for await (const line of lines) {
    if (line.startsWith('RESULT ')) return JSON.parse(line.slice(7)) as ModeRun;
    if (line.trim()) console.log(`  [${mode}] ${line}`);
  }
  throw new Error(`${mode}: the child ended without a result`);
}

interface ModeSummary {
  mode: Mode;
  label: string;
  pagesPerSecond: number;
  rounds: number[];
  pages: number;
  cpuMsPerPage: number;
  peakMemoryMb: number;
}

/** Pages/s as printed: one decimal below 10 (a browser crawl), none above. */
const rate = (value: number) => value.toFixed(value < 10 ? 1 : 0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

function chartSvg(results: ModeSummary[], title: string): string {
  const width = 1000;
  const rowHeight = 70;
  const height = 100 + results.length * rowHeight;
  const left = 330;
  const barArea = (width - left - 40) * 0.7;
  const max = Math.max(...results.map((r) => r.pagesPerSecond)) * 1.1;
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = results
    .map((r, i) => {
      const y = 80 + i * rowHeight;
      const w = (r.pagesPerSecond / max) * barArea;
      return `
  <text x="${left - 12}" y="${y + 20}" text-anchor="end" font-size="15" fill="#222">${escape(r.label)}</text>
  <rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="28" fill="#2f6fde"/>
  <text x="${left + w + 6}" y="${y + 19}" font-size="14" fill="#2f6fde">${rate(r.pagesPerSecond)} pages/s</text>
  <text x="${left}" y="${y + 46}" font-size="12" fill="#555">${r.cpuMsPerPage.toFixed(1)} ms CPU / page · peak ${r.peakMemoryMb.toFixed(0)} MB</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
  <rect width="100%" height="100%" fill="#ffffff"/>
  <text x="24" y="36" font-size="20" font-family="sans-serif" font-weight="bold" fill="#111">${escape(title)}</text>
  <text x="24" y="58" font-size="13" font-family="sans-serif" fill="#555">pages per second, longer is better (median of the rounds)</text>
  <g font-family="sans-serif">${rows}</g>
</svg>`;
}

function table(results: ModeSummary[]): string {
  const by = (mode: Mode) => results.find((r) => r.mode === mode);
  const ratio = (r: ModeSummary, mode: Mode) => {
    const base = by(mode);
    return base ? `${(r.pagesPerSecond / base.pagesPerSecond).toFixed(2)}x` : '-';
  };
  const lines = [
    '| crawler | pages / crawl | pages/s (median) | rounds | vs Cheerio | vs Playwright | CPU ms / page | peak memory MB |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.label} | ${r.pages} | ${rate(r.pagesPerSecond)} | ${r.rounds.map(rate).join(', ')} | ${ratio(r, 'cheerio')} | ${ratio(r, 'playwright')} | ${r.cpuMsPerPage.toFixed(1)} | ${r.peakMemoryMb.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const modes = option('modes', MODES.join(','))
    .split(',')
    .filter((m): m is Mode => (MODES as readonly string[]).includes(m));
  const site = child(['--serve-site', String(PAGES)]);
  let port = '';
  for await (const line of site.lines) {
    port = line.trim();
    break;
  }
  const origin = `http://127.0.0.1:${port}`;
  const runs = new Map<Mode, ModeRun[]>(modes.map((mode) => [mode, []]));
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const mode of modes) {
        const run = await inChild(mode, origin);
        console.log(
          `round ${round} ${mode.padEnd(10)} ${run.pages} pages in ${run.seconds.toFixed(1)} s: ${rate(run.pages / run.seconds)} pages/s, ${(run.cpuMs / run.pages).toFixed(1)} ms CPU/page (${(run.nodeCpuMs / run.pages).toFixed(1)} in Node), peak ${run.peakMemoryMb.toFixed(0)} MB`,
        );
        runs.get(mode)?.push(run);
      }
    }
  } finally {
    site.process.kill();
  }
  const results: ModeSummary[] = modes.map((mode) => {
    const list = runs.get(mode) ?? [];
    return {
      mode,
      label: LABELS[mode],
      pagesPerSecond: median(list.map((r) => r.pages / r.seconds)),
      rounds: list.map((r) => r.pages / r.seconds),
      pages: median(list.map((r) => r.pages)),
      cpuMsPerPage: median(list.map((r) => r.cpuMs / r.pages)),
      peakMemoryMb: Math.max(...list.map((r) => r.peakMemoryMb)),
    };
  });
  const chromiumVersion = (() => {
    try {
      return execFileSync(CHROMIUM, ['--version'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return 'chromium';
    }
  })();
  const command = `npm run bench:crawl -- ${process.argv.slice(2).join(' ')}`.trim();
  const environment = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${chromiumVersion}, Node ${process.version}, load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')} at the end`;
  const markdown = `Command: \`${command}\` (site of ${PAGES} pages, concurrency ${CONCURRENCY} in every crawler, ${ROUNDS} interleaved rounds, PlaywrightCrawler stopped after ${BROWSER_PAGES} pages).

Machine: ${environment}. Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.

${table(results)}`;
  console.log(`\n${markdown}\n`);
  if (process.argv.includes('--no-write')) return;
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(
    path.join(ROOT, 'bench', 'results', 'crawl.json'),
    `${JSON.stringify({ command, environment, pages: PAGES, concurrency: CONCURRENCY, results }, null, 2)}\n`,
  );
  const sharp = (await import('sharp')).default;
  await sharp(Buffer.from(chartSvg(results, `Crawling ${PAGES} local pages, concurrency ${CONCURRENCY}`)))
    .png()
    .toFile(path.join(ROOT, 'docs', 'benchmarks-crawl.png'));
  const doc = path.join(ROOT, 'docs', 'benchmarks.md');
  const text = fs.readFileSync(doc, 'utf8');
  const start = '<!-- bench-crawl:start -->';
  const end = '<!-- bench-crawl:end -->';
  if (text.includes(start) && text.includes(end)) {
    fs.writeFileSync(
      doc,
      `${text.slice(0, text.indexOf(start) + start.length)}\n${markdown}\n${text.slice(text.indexOf(end))}`,
    );
    console.log('docs/benchmarks.md and docs/benchmarks-crawl.png updated');
  }
}

/** Draws docs/benchmarks-crawl.png again from bench/results/crawl.json (`--chart-only`). */
async function chartFromResults(): Promise<void> {
  const saved = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench', 'results', 'crawl.json'), 'utf8')) as {
    pages: number;
    concurrency: number;
    results: ModeSummary[];
  };
  const sharp = (await import('sharp')).default;
  await sharp(
    Buffer.from(
      chartSvg(saved.results, `Crawling ${saved.pages} local pages, concurrency ${saved.concurrency}`),
    ),
  )
    .png()
    .toFile(path.join(ROOT, 'docs', 'benchmarks-crawl.png'));
}

const childMode = option('run-mode', '');
if (process.argv.includes('--serve-site')) serveSite(Number(option('serve-site', '2000')));
else if (childMode) await runMode(childMode as Mode, option('origin', ''));
else if (process.argv.includes('--chart-only')) await chartFromResults();
else await main();
