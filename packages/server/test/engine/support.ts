import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import sharp from 'sharp';
import { listProcesses, type ProcessInfo } from '../../src/engine/chromium-process.js';
import type { BrowserPool } from '../../src/engine/browser-pool.js';
import type { Handler } from '../helpers/fixture-server.js';
import { decode, type Decoded } from '../helpers/images.js';
import { screenshot, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

export type RGB = [number, number, number];

export const RED: RGB = [255, 0, 0];
export const GREEN: RGB = [0, 192, 0];
export const BLUE: RGB = [0, 0, 255];
export const GREY: RGB = [136, 136, 136];
export const WHITE: RGB = [255, 255, 255];

export async function png(color: RGB, width = 400, height = 300): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: color[0], g: color[1], b: color[2] } },
  })
    .png()
    .toBuffer();
}

/** A monospace TrueType font of the machine whose advance is 0.6 em (Liberation Mono, DejaVu Sans Mono). */
export function monospaceFontFile(): string {
  for (const candidate of [
    '/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf',
    '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  ]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return execFileSync('fc-match', ['-f', '%{file}', 'monospace'], { encoding: 'utf8' }).trim();
}

/** The dynamic routes the engine fixtures use (images, a slow image, a slow web font). */
export async function engineRoutes(): Promise<Record<string, Handler>> {
  const red = await png(RED);
  const blue = await png(BLUE);
  const green = await png(GREEN);
  const font = fs.readFileSync(monospaceFontFile());
  const later =
    (ms: number, send: (res: http.ServerResponse) => void): Handler =>
    (_req, res) => {
      const timer = setTimeout(() => send(res), ms);
      res.on('close', () => clearTimeout(timer));
    };
  return {
    '/engine/red.png': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(red),
    '/engine/blue.png': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(blue),
    '/engine/slow.png': later(1_500, (res) => res.writeHead(200, { 'content-type': 'image/png' }).end(green)),
    '/engine/fixture-mono.ttf': later(300, (res) =>
      res.writeHead(200, { 'content-type': 'font/ttf' }).end(font),
    ),
  };
}

export interface Shot {
  response: Response;
  bytes: Buffer;
  image: Decoded | undefined;
  json: Record<string, unknown> | undefined;
}

/** GET /screenshot and decode the answer (image or error JSON). */
export async function shoot(service: TestService, params: Record<string, string>): Promise<Shot> {
  const response = await screenshot(service.baseUrl, { rendering_wait: '0', ...params });
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  return {
    response,
    bytes,
    image: type.startsWith('image/') ? await decode(bytes) : undefined,
    json:
      type === 'application/json'
        ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>)
        : undefined,
  };
}

export function expectImage(shot: Shot): Decoded {
  assert.equal(shot.response.status, 200, shot.bytes.toString('utf8').slice(0, 400));
  assert.ok(shot.image, 'an image');
  return shot.image;
}

export function near(actual: RGB, expected: RGB, tolerance = 40): boolean {
  return actual.every((value, index) => Math.abs(value - (expected[index] ?? 0)) <= tolerance);
}

export function assertColor(
  image: Decoded,
  x: number,
  y: number,
  expected: RGB,
  what: string,
  tolerance = 40,
): void {
  const actual = image.pixel(x, y);
  assert.ok(
    near(actual, expected, tolerance),
    `${what}: pixel ${x},${y} is ${actual.join(',')}, expected ${expected.join(',')}`,
  );
}

/** Length of the run of `color` pixels on row `y` starting at x0. */
export function runLength(image: Decoded, y: number, x0: number, color: RGB, tolerance = 40): number {
  let x = x0;
  while (x < image.width && near(image.pixel(x, y), color, tolerance)) x += 1;
  return x - x0;
}

// --- processes --------------------------------------------------------------------------------------

const key = (info: ProcessInfo) => `${info.pid}:${info.start}`;

/**
 * Every process a pool has started, remembered by (pid, start time) so that a zombie (which keeps both)
 * or a survivor is found later even if the pool has forgotten it. `record()` is called at moments when
 * the browsers are busy (renderers alive), `assertAllGone()` after the service closed.
 */
export class ProcessLedger {
  private readonly seen = new Map<string, ProcessInfo>();

  record(pool: BrowserPool): number {
    for (const info of pool.processes()) this.seen.set(key(info), info);
    return this.seen.size;
  }

  get count(): number {
    return this.seen.size;
  }

  /** Processes seen that still exist, alive or zombie. */
  survivors(): ProcessInfo[] {
    const now = new Map(listProcesses().map((info) => [key(info), info]));
    return [...this.seen.keys()]
      .map((k) => now.get(k))
      .filter((info): info is ProcessInfo => info !== undefined);
  }

  async assertAllGone(timeoutMs = 5_000): Promise<void> {
    await waitUntil(() => this.survivors().length === 0, { timeoutMs, intervalMs: 100 }).catch(
      () => undefined, // the assertion below lists the survivors
    );
    assert.deepEqual(
      this.survivors().map((info) => `${info.pid} ${info.name} state=${info.state} ppid=${info.ppid}`),
      [],
      'every browser process (helpers, renderers, crashpad) is gone and reaped: no survivor, no zombie',
    );
  }
}

/** Zombies that descend from this test process, or that were ever one of ours (by pid + start). */
export function zombiesAmong(ledger: ProcessLedger): ProcessInfo[] {
  return ledger.survivors().filter((info) => info.state === 'Z');
}

/** Chromium processes under this test process right now (a reaper and its tree). */
export function chromiumDescendants(): ProcessInfo[] {
  const all = listProcesses();
  const children = new Map<number, ProcessInfo[]>();
  for (const info of all) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info]);
  const result: ProcessInfo[] = [];
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as ProcessInfo;
    if (/chrom|perl|crashpad/i.test(next.name)) result.push(next);
    stack.push(...(children.get(next.pid) ?? []));
  }
  return result;
}

export async function metricsText(service: TestService): Promise<string> {
  const response = await fetch(`${service.baseUrl}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/** The value of one sample in Prometheus text format, 0 when absent. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{([^}]*)\})?\s+([-+0-9.eE]+|NaN)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[3] ?? '').split(',').filter(Boolean);
    if (wanted.every((label) => present.includes(label))) return Number(match[4]);
  }
  return 0;
}
