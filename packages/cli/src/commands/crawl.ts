// `snapwire crawl URL`: a whole site through the Crawler API (/crawl); progress on stderr, one file a page.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  CRAWL_CONTENT_FORMATS,
  SnapwireClient,
  type CrawlConfig,
  type CrawlContentFormat,
  type CrawlStatus,
} from '@snapwire/sdk';
import {
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from '../connection.js';
import { fail } from '../output.js';
import { wholeNumber } from '../option-values.js';

const paths = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean)];

interface CrawlOptions extends ConnectionOptions {
  limit?: number;
  depth?: number;
  format: CrawlContentFormat;
  out?: string;
  exclude?: string[];
  include?: string[];
  concurrency?: number;
  sitemaps?: boolean;
  robots: boolean;
  warc: boolean;
  resume?: string;
}

const EXTENSIONS: Record<CrawlContentFormat, string> = {
  html: 'html',
  clean_html: 'html',
  markdown: 'md',
  text: 'txt',
  json: 'json',
  page_metadata: 'json',
};

/** Where a page is written under --out: HOST/PATH, `index` for a folder, the query folded into the name. */
export function fileOf(dir: string, url: string, format: CrawlContentFormat): string {
  const parsed = new URL(url);
  const clean = (part: string) => part.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+$/, '_');
  const segments = parsed.pathname.split('/').slice(1).map(clean);
  if (segments.length === 0 || segments.at(-1) === '')
    segments[segments.length === 0 ? 0 : segments.length - 1] = 'index';
  if (parsed.search) segments[segments.length - 1] += `_${clean(parsed.search.slice(1))}`;
  return path.join(dir, clean(parsed.host), ...segments) + `.${EXTENSIONS[format]}`;
}

const progressLine = (status: CrawlStatus, startedAt: number) => {
  const { state } = status;
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  return `pages ${state.urls_visited} visited, ${state.urls_failed} failed, ${state.urls_to_crawl} queued, ${(state.urls_visited / seconds).toFixed(1)} pages/s`;
};

export function registerCrawlCommand(program: Command): void {
  const command = program
    .command('crawl <url>')
    .description(
      "crawl a site through a Snapwire host's Crawler API; one file a page under --out, and the WARC",
    )
    .option('--limit <pages>', 'page_limit: stop after this many pages', wholeNumber('--limit'))
    .option('--depth <links>', 'max_depth: links away from the start URL', wholeNumber('--depth'))
    .addOption(
      new Option('--format <format>', 'content format of the files')
        .choices(CRAWL_CONTENT_FORMATS)
        .default('markdown'),
    )
    .option(
      '-o, --out <dir>',
      'write one file a page here (HOST/PATH.ext) and crawl.warc.gz; else print the URLs',
    )
    .option('--exclude <paths>', 'exclude_paths: path rules such as /blog/* (comma list, repeatable)', paths)
    .option('--include <paths>', 'include_only_paths: only these path rules (comma list, repeatable)', paths)
    .option('--concurrency <pages>', 'max_concurrency: pages fetched at once', wholeNumber('--concurrency'))
    .option('--sitemaps', "use_sitemaps: add the pages the site's sitemaps list")
    .option('--no-robots', 'respect_robots_txt=false: ignore robots.txt')
    .option('--no-warc', 'with --out: do not save crawl.warc.gz')
    .option('--resume <uuid>', 'follow (or finish writing) a crawl started before, instead of starting one');
  addConnectionOptions(command).action(async (url: string, options: CrawlOptions) => {
    const { host, key } = resolveConnection(options);
    const client = new SnapwireClient({ host, key });
    const interactive = process.stderr.isTTY === true;
    try {
      let uuid = options.resume;
      if (!uuid) {
        const config: CrawlConfig = {
          url,
          content_formats: [options.format],
          ...(options.limit !== undefined ? { page_limit: options.limit } : {}),
          ...(options.depth !== undefined ? { max_depth: options.depth } : {}),
          ...(options.exclude ? { exclude_paths: options.exclude } : {}),
          ...(options.include ? { include_only_paths: options.include } : {}),
          ...(options.concurrency !== undefined ? { max_concurrency: options.concurrency } : {}),
          ...(options.sitemaps ? { use_sitemaps: true } : {}),
          ...(options.robots === false ? { respect_robots_txt: false } : {}),
        };
        uuid = (await client.startCrawl(config)).crawler_uuid;
        process.stderr.write(`crawl ${uuid} started (resume with --resume ${uuid})\n`);
      }
      const startedAt = Date.now();
      let status = await client.crawlStatus(uuid);
      while (!status.is_finished) {
        if (interactive) process.stderr.write(`\r${progressLine(status, startedAt)}\u001b[K`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        status = await client.crawlStatus(uuid);
      }
      process.stderr.write(`${interactive ? '\r' : ''}${progressLine(status, startedAt)}\u001b[K\n`);
      let written = 0;
      let kept = 0;
      for (let page = 1; ; page += 1) {
        const urls = await client.crawlUrls(uuid, { status: 'visited', page, perPage: 500 });
        if (urls.length === 0) break;
        for (const { url: pageUrl } of urls) {
          if (!options.out) {
            process.stdout.write(`${pageUrl}\n`);
            continue;
          }
          const file = fileOf(options.out, pageUrl, options.format);
          // Resumable: a page already written is not fetched again.
          if (
            await fs.stat(file).then(
              () => true,
              () => false,
            )
          ) {
            kept += 1;
            continue;
          }
          await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.writeFile(file, await client.crawlContent(uuid, pageUrl, options.format));
          written += 1;
        }
      }
      if (options.out) {
        const warc = options.warc ? path.join(options.out, 'crawl.warc.gz') : undefined;
        if (warc) await client.saveCrawlWarc(uuid, warc);
        process.stdout.write(
          `${written} pages written to ${options.out}${kept ? ` (${kept} already there)` : ''}${warc ? `, WARC ${warc}` : ''}; ${status.status} ${status.state.stop_reason ?? ''}, ${status.state.api_credit_used} credits\n`,
        );
      }
      if (status.status === 'DONE' && status.is_success === false) {
        fail(`the crawl ended without success: ${status.state.stop_reason ?? 'unknown reason'}`);
      }
    } catch (error) {
      explainCallFailure(error, host);
    }
  });
  command.addHelpText(
    'after',
    `\nExamples:\n  snapwire crawl https://example.com/docs/ --limit 200 --depth 5 --format markdown --out docs-md\n  snapwire crawl https://example.com/ --exclude '/blog/*' --sitemaps\n  snapwire crawl https://example.com/docs/ --out docs-md --resume UUID\n`,
  );
}
