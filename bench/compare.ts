/**
 * Image comparison: Snapwire's compareImages against pixelmatch called directly and odiff, side by side in
 * one run, on the same generated page-like PNGs (text lines, headings, image blocks; the "after" image has a
 * few edits: a price, a recoloured block, a rewritten line), at 1920x1080 and 1920x20000:
 *
 *   compareImages      compareImages(before, after): decode (sharp), pixelmatch over the differing row bands
 *                      only, regions, the diff PNG;
 *   pixelmatch+png     decode both (sharp, raw RGBA) + pixelmatch over the whole image with an output
 *                      buffer + the diff PNG encoded by sharp with the same PNG settings: the same deliverable;
 *   pixelmatch         decode both + pixelmatch counting only (no diff image): the floor of that library;
 *   odiff              odiff-bin's ODiffServer (its native binary kept running, files in, diff PNG out),
 *                      antialiasing ignored, threshold 0.1 like the others.
 *
 * Each mode runs in its own child process (so that its peak memory, maxRSS, is its own; odiff's is its
 * binary's VmHWM), one round after another, modes interleaved; comparisons/s are medians over rounds.
 *
 *   npm run bench:compare                                     # 3 rounds; 12 comparisons of 1080p, 3 of 20000
 *   npm run bench:compare -- --rounds 5 --small 20 --large 5
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pixelmatch from 'pixelmatch';
import sharp from 'sharp';
import { compareImages } from '../packages/server/src/compare/compare-images.js';

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}

const MODES = ['compareImages', 'pixelmatch+png', 'pixelmatch', 'odiff'] as const;

// odiff-bin is installed for this benchmark into a folder of its own rather than kept in package.json: it
// names one native package per platform as optional dependencies, the registry this project installs from
// serves only @odiff/linux-x64, and `npm ci` refuses a lockfile that lacks the others.
const ODIFF_VERSION = '4.5.0';
const ODIFF_DIR = path.join(os.tmpdir(), `snapwire-bench-odiff-${ODIFF_VERSION}`);
interface OdiffServer {
  compare(
    before: string,
    after: string,
    diff: string,
    options: { threshold: number; antialiasing: boolean },
  ): Promise<{ match: true } | { match: false; diffCount?: number }>;
  stop(): unknown;
}

async function installOdiff(): Promise<void> {
  if (fs.existsSync(path.join(ODIFF_DIR, 'node_modules', 'odiff-bin', 'package.json'))) return;
  fs.mkdirSync(ODIFF_DIR, { recursive: true });
  fs.writeFileSync(path.join(ODIFF_DIR, 'package.json'), '{"private":true}\n');
  await promisify(execFile)('npm', [
    'install',
    '--prefix',
    ODIFF_DIR,
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    `odiff-bin@${ODIFF_VERSION}`,
  ]);
}

function loadOdiff(): new () => OdiffServer {
  const load = createRequire(path.join(ODIFF_DIR, 'package.json'));
  return (load('odiff-bin') as { ODiffServer: new () => OdiffServer }).ODiffServer;
}
type Mode = (typeof MODES)[number];
const PNG_OPTIONS = { compressionLevel: 2, adaptiveFiltering: false } as const;

interface ChildResult {
  perSecond: number;
  peakMb: number;
  changedPixels: number;
}

if (process.argv.includes('--child')) {
  const result = await child(
    option('child', '') as Mode,
    option('dir', ''),
    option('size', ''),
    Number(option('n', '1')),
  );
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

/** N comparisons of one size in one mode, after one warm-up; the files are read into memory first. */
async function child(mode: Mode, dir: string, size: string, n: number): Promise<ChildResult> {
  const beforeFile = path.join(dir, `${size}-before.png`);
  const afterFile = path.join(dir, `${size}-after.png`);
  const before = fs.readFileSync(beforeFile);
  const after = fs.readFileSync(afterFile);
  let odiffPeak = 0;
  let once: () => Promise<number>;
  let stop = () => {};
  if (mode === 'compareImages') {
    once = async () => (await compareImages(before, after)).changedPixels;
  } else if (mode === 'pixelmatch+png' || mode === 'pixelmatch') {
    const withDiff = mode === 'pixelmatch+png';
    once = async () => {
      const [a, b] = await Promise.all(
        [before, after].map((png) => sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true })),
      );
      const { width, height } = a!.info;
      const output = withDiff ? Buffer.alloc(width * height * 4) : null;
      const count = pixelmatch(a!.data, b!.data, output, width, height, { threshold: 0.1 });
      if (output)
        await sharp(output, { raw: { width, height, channels: 4 } })
          .png(PNG_OPTIONS)
          .toBuffer();
      return count;
    };
  } else {
    const ODiffServer = loadOdiff();
    const server = new ODiffServer();
    const diffFile = path.join(dir, `${size}-odiff-${process.pid}.png`);
    once = async () => {
      const result = await server.compare(beforeFile, afterFile, diffFile, {
        threshold: 0.1,
        antialiasing: true,
      });
      const pid = (server as unknown as { process?: { pid?: number } }).process?.pid;
      if (pid) odiffPeak = Math.max(odiffPeak, vmHwmMb(pid));
      return result.match ? 0 : (result.diffCount ?? -1);
    };
    stop = () => server.stop();
  }
  const changedPixels = await once();
  const started = performance.now();
  for (let i = 0; i < n; i++) await once();
  const seconds = (performance.now() - started) / 1000;
  stop();
  const ownPeak = process.resourceUsage().maxRSS / 1024;
  return { perSecond: n / seconds, peakMb: mode === 'odiff' ? ownPeak + odiffPeak : ownPeak, changedPixels };
}

function vmHwmMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** A page-like PNG: a header, headings, paragraphs of real text, image blocks, a footer per screen. */
async function pagePng(width: number, height: number, edited: boolean): Promise<Buffer> {
  const parts: string[] = [
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<rect width="${width}" height="72" fill="#1f2937"/>`,
    `<text x="40" y="46" font-family="sans-serif" font-size="26" fill="#fff">Example Shop</text>`,
  ];
  const words =
    'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(
      ' ',
    );
  let y = 120;
  let block = 0;
  while (y < height - 40) {
    parts.push(
      `<text x="80" y="${y + 28}" font-family="sans-serif" font-size="30" font-weight="bold" fill="#111">Section ${block + 1}</text>`,
    );
    y += 56;
    const price = edited && block === 1 ? '12.99' : '10.99';
    parts.push(
      `<text x="80" y="${y + 20}" font-family="sans-serif" font-size="20" fill="#b91c1c">Price: ${price} EUR</text>`,
    );
    y += 36;
    for (let line = 0; line < 8 && y < height - 40; line++) {
      const text = Array.from(
        { length: 14 },
        (_, i) => words[(block * 7 + line * 3 + i) % words.length],
      ).join(' ');
      const rewritten = edited && block === 3 && line === 2 ? text.toUpperCase() : text;
      parts.push(
        `<text x="80" y="${y + 18}" font-family="serif" font-size="18" fill="#333">${rewritten}</text>`,
      );
      y += 28;
    }
    const colour =
      edited && block === 2 ? '#f59e0b' : ['#60a5fa', '#34d399', '#a78bfa', '#f472b6'][block % 4];
    parts.push(`<rect x="1100" y="${y - 260}" width="640" height="220" rx="12" fill="${colour}"/>`);
    y += 40;
    block += 1;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  return sharp(Buffer.from(svg), { limitInputPixels: false }).png().toBuffer();
}

const SIZES = [
  { name: '1920x1080', width: 1920, height: 1080, n: Number(option('small', '12')) },
  { name: '1920x20000', width: 1920, height: 20000, n: Number(option('large', '3')) },
];
const ROUNDS = Number(option('rounds', '3'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-bench-compare-'));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rows: string[] = [];
try {
  await installOdiff();
  for (const size of SIZES) {
    for (const edited of [false, true]) {
      fs.writeFileSync(
        path.join(dir, `${size.name}-${edited ? 'after' : 'before'}.png`),
        await pagePng(size.width, size.height, edited),
      );
    }
  }
  for (const size of SIZES) {
    const rates = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
    const peaks = new Map<Mode, number>();
    const counts = new Map<Mode, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const args = [
          '--import',
          'tsx',
          SELF,
          '--child',
          mode,
          '--dir',
          dir,
          '--size',
          size.name,
          '--n',
          String(size.n),
        ];
        const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
        const result = JSON.parse(stdout) as ChildResult;
        rates.get(mode)!.push(result.perSecond);
        peaks.set(mode, Math.max(peaks.get(mode) ?? 0, result.peakMb));
        counts.set(mode, result.changedPixels);
      }
    }
    const reference = median(rates.get('pixelmatch+png')!);
    for (const mode of MODES) {
      const rate = median(rates.get(mode)!);
      rows.push(
        `| ${size.name} | ${mode} | ${rate.toFixed(2)} | ${rates
          .get(mode)!
          .map((r) => r.toFixed(2))
          .join(
            ', ',
          )} | ${(rate / reference).toFixed(2)}x | ${(rate / median(rates.get('pixelmatch')!)).toFixed(2)}x | ${(rate / median(rates.get('odiff')!)).toFixed(2)}x | ${peaks.get(mode)!.toFixed(0)} | ${counts.get(mode)} |`,
      );
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(
  `${ROUNDS} rounds; ${SIZES.map((s) => `${s.n} comparisons of ${s.name}`).join(', ')} per mode and round; ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  '| size | mode | comparisons/s (median) | rounds | vs pixelmatch+png | vs pixelmatch (count only) | vs odiff | peak memory MB | changed pixels |',
);
console.log('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
