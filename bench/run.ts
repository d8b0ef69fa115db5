/**
 * Capture throughput and latency of Snapwire's engine against two baselines, side by side in one run, on
 * the same fixture pages (served on loopback), the same Chromium, the same egress proxy and the same
 * client concurrency:
 *
 *   launch   a fresh Chromium per capture (Playwright launch -> page -> goto -> screenshot -> close),
 *            the browserless-v2 model;
 *   warm     one warm Chromium, a new Playwright context per capture made on demand;
 *   pool     Snapwire's BrowserPool + capture (pre-warmed isolated contexts over raw CDP, one per job);
 *   service  the whole Snapwire service through GET /screenshot (HTTP, accounts, log rows, blob store).
 *
 * Every capture is a 1920x1080 JPEG (quality 85) of a page after its load event, rendering_wait=0, and
 * every one runs in a fresh isolated context (or browser). Only loopback is contacted.
 *
 *   npm run bench                      # default: 60 captures per mode at concurrency 4
 *   npm run bench -- --captures 120 --concurrency 4 --modes launch,warm,pool,service
 *
 * Writes bench/results/latest.json, docs/benchmarks.png, and the results block of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import pino from 'pino';
import sharp from 'sharp';
import { loadSettings } from '../packages/server/src/config/settings.js';
import { EgressGuard } from '../packages/server/src/egress/guard.js';
import { parseNetworkList } from '../packages/server/src/egress/networks.js';
import { PinningProxy } from '../packages/server/src/egress/pinning-proxy.js';
import { EgressPolicy } from '../packages/server/src/egress/policy.js';
import { StaticResolver } from '../packages/server/src/egress/resolver.js';
import { BrowserPool } from '../packages/server/src/engine/browser-pool.js';
import { findExecutable } from '../packages/server/src/engine/chromium-flags.js';
import { capture } from '../packages/server/src/engine/capture.js';
import { withPageSession } from '../packages/server/src/engine/page-session.js';
import { processTreePssMb as treeMemoryMb } from '../packages/server/src/engine/chromium-process.js';
import { JobDeadline } from '../packages/server/src/engine/deadline.js';
import { parseScreenshotRequest } from '../packages/server/src/request/screenshot-request.js';
import { createSnapwire } from '../packages/server/src/snapwire.js';
import { processTreeCpuMs } from './process-tree.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.join(ROOT, 'bench', 'fixtures');
const PAGES = ['simple', 'article', 'images'];
const KEY = 'scp-live-bench-000000000000000000000000';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}

const CAPTURES = Number(option('captures', '60'));
const CONCURRENCY = Number(option('concurrency', '4'));
const MODES = option('modes', 'launch,warm,pool,service').split(',');
const POOL_SLOTS = Number(option('pool-slots', '2'));
const POOL_BROWSERS = Number(option('pool-browsers', '1'));
const CHROMIUM = findExecutable(option('chromium', process.env.SNAPWIRE_CHROMIUM_PATH ?? 'chromium'));
const IDLE_SAMPLES = Number(option('idle', '15'));
/** Each mode runs in this many rounds, interleaved with the other modes, so a slow minute on a shared
 * machine does not land on one mode only. */
const ROUNDS = Number(option('rounds', '3'));
const POOL_ARGS = option('pool-args', '').split(' ').filter(Boolean);

interface ModeResult {
  mode: string;
  label: string;
  captures: number;
  failures: number;
  seconds: number;
  throughput: number;
  p50: number;
  p95: number;
  idleP50?: number;
  peakMemoryMb: number;
  /** CPU time (browser processes + this Node process) per capture, ms; undefined when not measurable. */
  cpuMsPerCapture?: number;
}

/** A mode that is set up once and measured in rounds. */
interface Mode {
  mode: string;
  label: string;
  shot: (url: string) => Promise<void>;
  /** Measure idle latency (one capture at a time) for this mode. */
  idle: boolean;
  /** CPU of browsers that outlive the round can be counted (not for launch-per-capture). */
  cpu: boolean;
  close: () => Promise<void>;
}

interface Tally {
  latencies: number[];
  failures: number;
  seconds: number;
  peak: number;
  cpuMs: number;
  idle: number[];
}

// --- fixture server -------------------------------------------------------------------------------

async function startFixtures(): Promise<{ origin: string; close: () => Promise<void> }> {
  const images = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      sharp({
        create: {
          width: 400,
          height: 300,
          channels: 3,
          background: { r: (i * 40) % 256, g: 120, b: 200 - i * 20 },
        },
      })
        .png()
        .toBuffer(),
    ),
  );
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    const image = /^\/img\/(\d)\.png$/.exec(url.pathname);
    if (image) {
      res
        .writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' })
        .end(images[Number(image[1])]);
      return;
    }
    const file = path.join(FIXTURES, `${url.pathname.slice(1)}.html`);
    if (!file.startsWith(FIXTURES) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(fs.readFileSync(file));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- measurement ----------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] as number;
}

async function round(mode: Mode, origin: string, captures: number, tally: Tally): Promise<void> {
  const cpu0 = processTreeCpuMs();
  const sampler = setInterval(() => {
    tally.peak = Math.max(tally.peak, treeMemoryMb());
  }, 250);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const index = next++;
        if (index >= captures) return;
        const url = `${origin}/${PAGES[index % PAGES.length]}`;
        const begin = process.hrtime.bigint();
        try {
          await mode.shot(url);
          tally.latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
        } catch (error) {
          tally.failures += 1;
          if (tally.failures <= 3)
            console.error(`  ${mode.mode}: ${(error as Error).message.split('\n')[0]}`);
        }
      }
    }),
  );
  tally.seconds += Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  tally.cpuMs += processTreeCpuMs() - cpu0;
}

async function idleRound(mode: Mode, origin: string, samples: number, tally: Tally): Promise<void> {
  // One capture of the simple page at a time, with pauses (pre-warming has time to refill).
  for (let i = 0; i < samples; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const begin = process.hrtime.bigint();
    await mode.shot(`${origin}/simple`);
    tally.idle.push(Number(process.hrtime.bigint() - begin) / 1e6);
  }
}

function summarise(mode: Mode, tally: Tally): ModeResult {
  const latencies = [...tally.latencies].sort((a, b) => a - b);
  const idle = [...tally.idle].sort((a, b) => a - b);
  const result: ModeResult = {
    mode: mode.mode,
    label: mode.label,
    captures: latencies.length,
    failures: tally.failures,
    seconds: tally.seconds,
    throughput: latencies.length / tally.seconds,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    peakMemoryMb: tally.peak,
  };
  if (idle.length > 0) result.idleP50 = percentile(idle, 0.5);
  if (mode.cpu && latencies.length > 0) result.cpuMsPerCapture = tally.cpuMs / latencies.length;
  console.log(
    `  ${result.label}: ${result.throughput.toFixed(2)} captures/s, p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms` +
      `${result.idleP50 !== undefined ? `, idle p50 ${result.idleP50.toFixed(0)} ms` : ''}` +
      `${result.cpuMsPerCapture !== undefined ? `, ${result.cpuMsPerCapture.toFixed(0)} ms CPU/capture` : ''}` +
      `, peak ${result.peakMemoryMb.toFixed(0)} MB, ${result.failures} failed`,
  );
  return result;
}

// --- modes ----------------------------------------------------------------------------------------

/** Baselines get the flags the brief says work here plus the same egress proxy flags as Snapwire. */
function baselineArgs(proxyServer: string): string[] {
  return [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--proxy-server=${proxyServer}`,
    '--proxy-bypass-list=<-loopback>',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ];
}

async function playwrightShot(browser: Browser, url: string): Promise<void> {
  const context = await browser.newContext({
    viewport: { width: 1920, height: 1080 },
    serviceWorkers: 'block',
  });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    await page.screenshot({ type: 'jpeg', quality: 85 });
  } finally {
    await context.close();
  }
}

async function launchMode(proxyServer: string): Promise<Mode> {
  return {
    mode: 'launch',
    label: 'fresh Chromium per capture',
    idle: false,
    cpu: false,
    shot: async (url) => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: baselineArgs(proxyServer) });
      try {
        await playwrightShot(browser, url);
      } finally {
        await browser.close();
      }
    },
    close: async () => {},
  };
}

async function warmMode(proxyServer: string): Promise<Mode> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: baselineArgs(proxyServer) });
  return {
    mode: 'warm',
    label: 'warm browser, new context on demand',
    idle: false,
    cpu: true,
    shot: (url) => playwrightShot(browser, url),
    close: () => browser.close(),
  };
}

async function poolMode(
  proxy: PinningProxy,
  proxyServer: string,
  slots = POOL_SLOTS,
  args = POOL_ARGS,
  strictSiteIsolation = false,
): Promise<Mode> {
  const pool = new BrowserPool({
    chromiumPath: CHROMIUM,
    proxyServer,
    // As the service runs it: each context has its own egress proxy listener.
    openEgressSession: () => proxy.openSession(),
    concurrency: slots,
    queueLimit: 1000,
    browsers: POOL_BROWSERS,
    extraArgs: args,
    strictSiteIsolation,
    logger: pino({ level: 'warn' }),
  });
  await pool.start();
  const settings = {
    loadImages: true,
    maxFullpageHeight: 40_000,
    bannerWaitMs: 2_500,
  };
  return {
    mode: 'pool',
    label: `Snapwire pool (${POOL_BROWSERS} browser, ${slots} slots${strictSiteIsolation ? ', strict site isolation' : ''}${args.length ? `, ${args.join(' ')}` : ''})`,
    idle: true,
    cpu: true,
    shot: async (url) => {
      const request = parseScreenshotRequest(
        { url, rendering_wait: '0', timeout: '60000' },
        { maxTimeoutMs: 120_000 },
      );
      const deadline = new JobDeadline(Date.now(), request.timeoutMs);
      try {
        await withPageSession(
          pool,
          { queueKey: '', sharedEgress: proxy },
          deadline,
          request,
          settings,
          capture,
        );
      } finally {
        deadline.dispose();
      }
    },
    close: () => pool.stop(),
  };
}

async function serviceMode(): Promise<Mode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-bench-'));
  const settings = loadSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    SNAPWIRE_DATA_DIR: dataDir,
    SNAPWIRE_BOOTSTRAP_LIVE_KEY: KEY,
    SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/8',
    SNAPWIRE_LOG_LEVEL: 'warn',
    SNAPWIRE_CHROMIUM_PATH: CHROMIUM,
    SNAPWIRE_BROWSER_CONCURRENCY: String(POOL_SLOTS),
    SNAPWIRE_BROWSERS: String(POOL_BROWSERS),
    SNAPWIRE_BROWSER_QUEUE: '1000',
    SNAPWIRE_CHROMIUM_ARGS: POOL_ARGS.join(' '),
    SNAPWIRE_ADMIN_PASSWORD: 'bench-admin-password',
    PATH: process.env.PATH ?? '',
  });
  const snapwire = await createSnapwire(settings, { resolver: new StaticResolver({}) });
  await snapwire.services.projects.update('default', {
    overrides: { concurrency: 1000, monthlyCredits: 1e9 },
  });
  const base = (await snapwire.listen()).replace('[::1]', '127.0.0.1');
  return {
    mode: 'service',
    label: 'Snapwire HTTP API (whole service)',
    idle: true,
    cpu: true,
    shot: async (url) => {
      const query = new URLSearchParams({ key: KEY, url, rendering_wait: '0' });
      const response = await fetch(`${base}/screenshot?${query}`);
      const body = await response.arrayBuffer();
      if (response.status !== 200)
        throw new Error(`HTTP ${response.status}: ${Buffer.from(body).toString().slice(0, 200)}`);
    },
    close: async () => {
      await snapwire.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// --- report ---------------------------------------------------------------------------------------

function chartSvg(results: ModeResult[], title: string): string {
  const width = 1000;
  const rowHeight = 90;
  const height = 110 + results.length * rowHeight;
  const left = 300;
  // The longest bar leaves room for its label.
  const barArea = (width - left - 40) * 0.7;
  const maxThroughput = Math.max(...results.map((r) => r.throughput)) * 1.15;
  const maxLatency = Math.max(...results.map((r) => r.p95)) * 1.15;
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = results
    .map((r, i) => {
      const y = 90 + i * rowHeight;
      const tp = (r.throughput / maxThroughput) * barArea;
      const p50 = (r.p50 / maxLatency) * barArea;
      const p95 = (r.p95 / maxLatency) * barArea;
      return `
  <text x="${left - 12}" y="${y + 22}" text-anchor="end" font-size="15" fill="#222">${escape(r.label)}</text>
  <rect x="${left}" y="${y}" width="${tp.toFixed(1)}" height="26" fill="#2f6fde"/>
  <text x="${left + tp + 6}" y="${y + 19}" font-size="14" fill="#2f6fde">${r.throughput.toFixed(2)} captures/s</text>
  <rect x="${left}" y="${y + 32}" width="${p95.toFixed(1)}" height="14" fill="#f2b134"/>
  <rect x="${left}" y="${y + 32}" width="${p50.toFixed(1)}" height="14" fill="#d9534f"/>
  <text x="${left + p95 + 6}" y="${y + 44}" font-size="12" fill="#555">p50 ${r.p50.toFixed(0)} ms / p95 ${r.p95.toFixed(0)} ms</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
  <rect width="100%" height="100%" fill="#ffffff"/>
  <text x="24" y="36" font-size="20" font-family="sans-serif" font-weight="bold" fill="#111">${escape(title)}</text>
  <text x="24" y="60" font-size="13" font-family="sans-serif" fill="#555">blue: throughput (captures/s, longer is better) · red/yellow: latency p50/p95 (shorter is better)</text>
  <g font-family="sans-serif">${rows}</g>
</svg>`;
}

function table(results: ModeResult[]): string {
  const launch = results.find((r) => r.mode === 'launch');
  const warm = results.find((r) => r.mode === 'warm');
  const lines = [
    '| mode | captures/s | p50 ms | p95 ms | idle p50, simple page (ms) | CPU ms / capture | peak memory MB | vs fresh Chromium | vs warm browser | failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.label} | ${r.throughput.toFixed(2)} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.idleP50 === undefined ? '-' : r.idleP50.toFixed(0)} | ${r.cpuMsPerCapture === undefined ? '-' : r.cpuMsPerCapture.toFixed(0)} | ${r.peakMemoryMb.toFixed(0)} | ${launch ? `${(r.throughput / launch.throughput).toFixed(2)}x` : '-'} | ${warm ? `${(r.throughput / warm.throughput).toFixed(2)}x` : '-'} | ${r.failures} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const version = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim();
  console.log(
    `Snapwire capture benchmark: ${cpus} cores, ${version}, ${CAPTURES} captures per mode at concurrency ${CONCURRENCY}`,
  );
  const fixtures = await startFixtures();
  const guard = new EgressGuard(
    new EgressPolicy(parseNetworkList('127.0.0.0/8'), parseNetworkList('')),
    new StaticResolver({}),
  );
  const proxy = new PinningProxy(guard);
  const proxyServer = await proxy.start();
  const results: ModeResult[] = [];
  try {
    // Rounds interleave the modes; in each round a mode is set up (its browser started and warmed up on
    // every page, not counted), measured, and closed, so that only its own processes run while it is measured.
    const factories: Record<string, () => Promise<Mode>> = {
      launch: () => launchMode(proxyServer),
      warm: () => warmMode(proxyServer),
      pool: () => poolMode(proxy, proxyServer),
      service: () => serviceMode(),
    };
    // Variants for tuning: pool@3 (3 slots), pool+isolation (Chromium's strict site isolation on).
    for (const name of MODES) {
      const variant = /^pool(?:@(\d+))?(\+isolation)?$/.exec(name);
      if (variant && name !== 'pool') {
        const slots = variant[1] ? Number(variant[1]) : POOL_SLOTS;
        factories[name] = () => poolMode(proxy, proxyServer, slots, POOL_ARGS, Boolean(variant[2]));
      }
      if (!factories[name]) throw new Error(`unknown mode ${name}`);
    }
    const tallies = new Map<string, Tally>();
    const labels = new Map<string, Mode>();
    for (let r = 0; r < ROUNDS; r += 1) {
      const captures = Math.round(CAPTURES / ROUNDS);
      for (const name of MODES) {
        console.log(`round ${r + 1}/${ROUNDS}: ${name}`);
        const mode = await (factories[name] as () => Promise<Mode>)();
        try {
          for (const page of PAGES) await mode.shot(`${fixtures.origin}/${page}`);
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          const tally = tallies.get(name) ?? {
            latencies: [],
            failures: 0,
            seconds: 0,
            peak: 0,
            cpuMs: 0,
            idle: [],
          };
          tallies.set(name, tally);
          await round(mode, fixtures.origin, captures, tally);
          if (mode.idle) await idleRound(mode, fixtures.origin, Math.ceil(IDLE_SAMPLES / ROUNDS), tally);
        } finally {
          await mode.close();
        }
        labels.set(name, mode);
      }
    }
    for (const name of MODES) results.push(summarise(labels.get(name) as Mode, tallies.get(name) as Tally));
  } finally {
    await proxy.stop();
    await fixtures.close();
  }
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const environment = `${cpus} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ${version}, Node ${process.version}, ${os.type()} ${os.release()}`;
  const markdown = `Command: \`${command}\` (${CAPTURES} captures per mode in ${ROUNDS} interleaved rounds, client concurrency ${CONCURRENCY}, pages: ${PAGES.join(', ')}; 1920x1080 JPEG q85, rendering_wait=0).

Machine: ${environment}. Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.

${table(results)}`;
  console.log(`\n${markdown}\n`);
  if (process.argv.includes('--no-write')) return;
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(
    path.join(ROOT, 'bench', 'results', 'latest.json'),
    `${JSON.stringify({ command, environment, captures: CAPTURES, concurrency: CONCURRENCY, results }, null, 2)}\n`,
  );
  const svg = chartSvg(
    results,
    `Captures on ${cpus} cores, concurrency ${CONCURRENCY} (${CAPTURES} per mode)`,
  );
  await sharp(Buffer.from(svg))
    .png()
    .toFile(path.join(ROOT, 'docs', 'benchmarks.png'));
  const doc = path.join(ROOT, 'docs', 'benchmarks.md');
  if (fs.existsSync(doc)) {
    const text = fs.readFileSync(doc, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    if (text.includes(start) && text.includes(end)) {
      const updated = `${text.slice(0, text.indexOf(start) + start.length)}\n${markdown}\n${text.slice(text.indexOf(end))}`;
      fs.writeFileSync(doc, updated);
      console.log('docs/benchmarks.md and docs/benchmarks.png updated');
    }
  }
}

await main();
