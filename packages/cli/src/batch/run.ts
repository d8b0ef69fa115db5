// Runs a batch: N workers take URLs in order, skip those already saved, stream each screenshot to its
// file, and keep DIR/report.json current after every URL, so an interrupted run leaves a true report
// and a second run resumes where it stopped.

import fs from 'node:fs/promises';
import path from 'node:path';
import { SnapwireApiError, type ScreenshotParams, type SnapwireClient } from '@snapwire/sdk';
import { extensionForFormat, fileStemFor } from './file-names.js';
import { Progress, type ProgressCounts } from './progress.js';

export type EntryStatus = 'ok' | 'skipped' | 'failed';

export interface ReportEntry {
  url: string;
  /** File name inside DIR (for a failure: where it would have gone). */
  file: string;
  status: EntryStatus;
  error_code: string | null;
  error: string | null;
  log_uuid: string | null;
  log_url: string | null;
  upstream_status: number | null;
  bytes: number | null;
}

export interface BatchReport {
  started_at: string;
  finished_at: string | null;
  total: number;
  ok: number;
  skipped: number;
  failed: number;
  /** URLs not attempted (the run was stopped). */
  pending: number;
  entries: ReportEntry[];
}

/** Upstream statuses counted as failures (`--fail-on-status`), with the flag's value to name them. */
export interface FailOnStatus {
  spec: string;
  matches(status: number): boolean;
}

/**
 * Reads `--fail-on-status`: a comma list of classes (`4xx`, `5xx`) and exact statuses (`404`, `410`).
 * Returns a message for the person when the list is not that.
 */
export function parseFailOnStatus(spec: string): FailOnStatus | string {
  const items = spec.split(',').map((item) => item.trim().toLowerCase());
  const classes = new Set<number>();
  const exact = new Set<number>();
  for (const item of items) {
    const range = /^([1-5])xx$/.exec(item);
    if (range) classes.add(Number(range[1]));
    else if (/^[1-5]\d\d$/.test(item)) exact.add(Number(item));
    else
      return `--fail-on-status takes a comma list of status classes and statuses, e.g. 4xx,5xx or 404,410; got "${item}"`;
  }
  return { spec, matches: (status) => exact.has(status) || classes.has(Math.floor(status / 100)) };
}

export interface BatchOptions {
  client: SnapwireClient;
  urls: string[];
  outDir: string;
  concurrency: number;
  params: Omit<ScreenshotParams, 'url' | 'webhook_name'>;
  force: boolean;
  /** Captures of a page that answered one of these statuses count as failures (and are not kept). */
  failOnStatus?: FailOnStatus | undefined;
  progress: Progress;
  signal?: AbortSignal;
}

const REPORT = 'report.json';

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (stat) => stat.isFile() && stat.size > 0,
    () => false,
  );
}

/** Entries of an earlier run's report, by URL, to keep their details for files that are skipped now. */
async function previousEntries(outDir: string): Promise<Map<string, ReportEntry>> {
  try {
    const report = JSON.parse(await fs.readFile(path.join(outDir, REPORT), 'utf8')) as BatchReport;
    return new Map((report.entries ?? []).map((entry) => [entry.url, entry]));
  } catch {
    return new Map();
  }
}

/** Temporary files a killed run left behind (downloads are written under `.part` names, then renamed). */
async function removeLeftovers(outDir: string): Promise<void> {
  for (const name of await fs.readdir(outDir)) {
    if (name.endsWith('.part')) await fs.rm(path.join(outDir, name), { force: true });
  }
}

async function writeReport(outDir: string, report: BatchReport): Promise<void> {
  const file = path.join(outDir, REPORT);
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify(report, null, 2)}\n`);
  await fs.rename(temporary, file);
}

export async function runBatch(options: BatchOptions): Promise<BatchReport> {
  const { client, urls, outDir, params, progress } = options;
  await fs.mkdir(outDir, { recursive: true });
  await removeLeftovers(outDir);
  const earlier = await previousEntries(outDir);
  const extension = extensionForFormat(params.format);
  const entries: (ReportEntry | undefined)[] = new Array(urls.length);
  const report: BatchReport = {
    started_at: new Date().toISOString(),
    finished_at: null,
    total: urls.length,
    ok: 0,
    skipped: 0,
    failed: 0,
    pending: urls.length,
    entries: [],
  };
  const counts = (): ProgressCounts => ({
    done: report.total - report.pending,
    total: report.total,
    ok: report.ok,
    failed: report.failed,
    skipped: report.skipped,
  });
  // Reports are written one at a time, in order; the last write holds everything.
  let writing = Promise.resolve();
  const save = () => {
    report.entries = entries.filter((entry): entry is ReportEntry => entry !== undefined);
    const snapshot = structuredClone(report);
    writing = writing.then(() => writeReport(outDir, snapshot));
    return writing;
  };

  const captureOne = async (index: number): Promise<void> => {
    const url = urls[index]!;
    const file = `${fileStemFor(url)}.${extension}`;
    const target = path.join(outDir, file);
    let entry: ReportEntry;
    let plain: string;
    if (!options.force && (await exists(target))) {
      const before = earlier.get(url);
      entry = {
        url,
        file,
        status: 'skipped',
        error_code: null,
        error: null,
        log_uuid: before?.log_uuid ?? null,
        log_url: before?.log_url ?? null,
        upstream_status: before?.upstream_status ?? null,
        bytes: (await fs.stat(target)).size,
      };
      plain = `skip ${url} (${file} exists)`;
    } else {
      try {
        // Not aborted by Ctrl-C: a capture in flight is paid for, so it is finished and saved. It lands under
        // a .part name and takes its own name once accepted, so a page refused by --fail-on-status leaves
        // no file behind and a second run tries it again.
        const staging = `${target}.part`;
        const saved = await client.saveScreenshot({ ...params, url }, staging);
        const upstream = saved.upstreamStatus;
        if (upstream !== undefined && options.failOnStatus?.matches(upstream)) {
          await fs.rm(staging, { force: true });
          entry = {
            url,
            file,
            status: 'failed',
            error_code: 'UPSTREAM_STATUS',
            error: `the page answered HTTP ${upstream} (--fail-on-status ${options.failOnStatus.spec})`,
            log_uuid: saved.logUuid ?? null,
            log_url: null,
            upstream_status: upstream,
            bytes: null,
          };
          plain = `FAIL ${url}: ${entry.error_code}: ${entry.error}`;
        } else {
          await fs.rename(staging, target);
          entry = {
            url,
            file,
            status: 'ok',
            error_code: null,
            error: null,
            log_uuid: saved.logUuid ?? null,
            log_url: null,
            upstream_status: upstream ?? null,
            bytes: saved.size,
          };
          plain = `ok   ${url} -> ${file} (${saved.size} bytes, upstream ${upstream ?? '-'})`;
        }
      } catch (error) {
        const api = error instanceof SnapwireApiError ? error : undefined;
        entry = {
          url,
          file,
          status: 'failed',
          error_code: api?.code ?? 'NETWORK',
          error: api?.reason ?? (error as Error).message,
          log_uuid: api?.headers['x-scrapfly-log-uuid'] ?? null,
          log_url: null,
          upstream_status: null,
          bytes: null,
        };
        plain = `FAIL ${url}: ${entry.error_code}: ${entry.error}`;
      }
      if (entry.log_uuid) {
        // The log's page, for the report (one small read; a failure here only leaves the link out).
        entry.log_url = await client.getLog(entry.log_uuid).then(
          (log) => log.log_url,
          () => null,
        );
      }
    }
    entries[index] = entry;
    report[entry.status]++;
    report.pending--;
    progress.finished(counts(), plain, entry.status !== 'skipped');
    await save();
  };

  progress.begin(counts());
  let next = 0;
  const worker = async () => {
    while (next < urls.length && !options.signal?.aborted) await captureOne(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, urls.length)) }, worker));
  report.finished_at = new Date().toISOString();
  progress.end(counts());
  await save();
  return report;
}

/** The summary printed at the end: counts, then every failure with its code. */
export function summaryTable(report: BatchReport, outDir: string): string {
  const rows: [string, string][] = [
    ['URLs', String(report.total)],
    ['saved', String(report.ok)],
    ['skipped (already there)', String(report.skipped)],
    ['failed', String(report.failed)],
    ...(report.pending > 0 ? ([['not attempted', String(report.pending)]] as [string, string][]) : []),
    ['report', path.join(outDir, REPORT)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  const failures = report.entries.filter((entry) => entry.status === 'failed');
  if (failures.length > 0) {
    lines.push('', 'failed:');
    const codeWidth = Math.max(...failures.map((entry) => (entry.error_code ?? '').length));
    for (const entry of failures) lines.push(`  ${(entry.error_code ?? '').padEnd(codeWidth)}  ${entry.url}`);
  }
  return lines.join('\n');
}
