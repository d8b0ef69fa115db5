import type { Command } from 'commander';
import { addConnectionOptions, resolveConnection, type ConnectionOptions } from '../connection.js';
import { fail, print } from '../output.js';

interface Connection extends ConnectionOptions {
  json?: boolean;
}

interface Schedule {
  id: string;
  status: string;
  next_scheduled_date: string | null;
  webhook_name: string;
  recurrence?: { cron?: string; timezone?: string; interval?: number; unit?: string };
  /** One of the two, by kind (a scrape schedule has scrape_config). */
  screenshot_config?: Record<string, string>;
  scrape_config?: Record<string, string>;
  notes: string | null;
}

interface Run {
  id: string;
  trigger: string;
  attempt: number;
  status: string;
  due_at: string;
  log_url: string | null;
  error: { code: string; reason: string } | null;
}

const UNIT_OF: Record<string, string> = { m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month' };

/** Calls the service's schedule API (the same one Scrapfly's SDK calls); a refusal becomes the CLI's message. */
async function call<T>(connection: Connection, method: string, path: string, body?: unknown): Promise<T> {
  const { host, key } = resolveConnection(connection);
  const url = `${host}${path}${path.includes('?') ? '&' : '?'}key=${encodeURIComponent(key)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    fail(`cannot reach ${host}: ${(error as Error).message}`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) {
    fail(
      `${String(parsed.code ?? `HTTP ${response.status}`)}: ${String(parsed.reason ?? parsed.message ?? text)}`,
    );
  }
  return parsed as T;
}

function describeRecurrence(schedule: Schedule): string {
  const r = schedule.recurrence;
  if (!r) return 'once';
  if (r.cron) return `cron "${r.cron}" ${r.timezone ?? 'UTC'}`;
  return `every ${r.interval} ${r.unit}${r.interval === 1 ? '' : 's'}`;
}

const line = (s: Schedule) =>
  `${s.id}  ${s.status.padEnd(9)}  next ${s.next_scheduled_date ?? '-'}  ${describeRecurrence(s)}  -> ${s.webhook_name}  ${(s.screenshot_config ?? s.scrape_config)?.url ?? ''}`;

/** `--every 15m` -> {interval: 15, unit: 'minute'} (m, h, d, w, mo). */
function parseEvery(value: string): { interval: number; unit: string } {
  const match = /^(\d+)(mo|m|h|d|w)$/.exec(value.trim());
  if (!match) fail(`--every takes a number and a unit: 15m, 2h, 1d, 1w or 1mo; got "${value}"`);
  return { interval: Number(match[1]), unit: UNIT_OF[match[2]!]! };
}

export function registerScheduleCommands(program: Command): void {
  const schedules = addConnectionOptions(
    program
      .command('schedules')
      .description('recurring screenshots delivered to a webhook (talks to the service over HTTP)'),
  ).option('--json', 'print JSON');
  const connection = (): Connection => schedules.opts<Connection>();

  schedules
    .command('list')
    .description("list the key's schedules")
    .option('--status <status>', 'ACTIVE, PAUSED, CANCELLED or COMPLETED')
    .action(async (options: { status?: string }) => {
      const query = options.status ? `?status=${encodeURIComponent(options.status)}` : '';
      const shown = await call<Schedule[]>(connection(), 'GET', `/schedules${query}`);
      print(connection().json, shown, () =>
        shown.length === 0 ? 'no schedules' : shown.map(line).join('\n'),
      );
    });

  schedules
    .command('create <url>')
    .description(
      'schedule a screenshot of <url>: --every 1h or --cron "0 9 * * *"; each run goes to --webhook',
    )
    .requiredOption('--webhook <name>', 'webhook of the project that receives each screenshot')
    .option('--every <interval>', 'interval: 15m, 2h, 1d, 1w, 1mo')
    .option('--cron <expression>', 'cron expression (wins over --every)')
    .option('--timezone <zone>', 'IANA time zone of --cron (default UTC)')
    .option('--at <date>', 'first run (ISO 8601); alone, the only run')
    .option('--count <n>', 'stop after this many runs')
    .option('--until <date>', 'no run after this date (ISO 8601)')
    .option('--format <format>', 'jpg, png, webp or gif')
    .option('--capture <area>', 'viewport, fullpage, a CSS selector or an XPath')
    .option('--resolution <WxH>', 'viewport size, e.g. 1280x800')
    .option('--allow-concurrency', 'fire even while the previous run is still capturing')
    .option('--retries <n>', 'retry a failed capture up to n times')
    .option('--notes <text>', 'a note kept with the schedule')
    .action(
      async (
        url: string,
        options: {
          webhook: string;
          every?: string;
          cron?: string;
          timezone?: string;
          at?: string;
          count?: string;
          until?: string;
          format?: string;
          capture?: string;
          resolution?: string;
          allowConcurrency?: boolean;
          retries?: string;
          notes?: string;
        },
      ) => {
        if (!options.every && !options.cron && !options.at) fail('give --every, --cron or --at');
        if (options.count && options.until) fail('give --count or --until, not both');
        const retries = options.retries === undefined ? undefined : Number(options.retries);
        const recurrence =
          options.cron || options.every
            ? {
                ...(options.cron
                  ? { cron: options.cron, ...(options.timezone ? { timezone: options.timezone } : {}) }
                  : parseEvery(options.every!)),
                ...(options.count ? { ends: { type: 'count', count: Number(options.count) } } : {}),
                ...(options.until ? { ends: { type: 'date', date: options.until } } : {}),
              }
            : undefined;
        const created = await call<Schedule>(connection(), 'POST', '/screenshot/schedules', {
          screenshot_config: {
            url,
            ...(options.format ? { format: options.format } : {}),
            ...(options.capture ? { capture: options.capture } : {}),
            ...(options.resolution ? { resolution: options.resolution } : {}),
          },
          webhook_name: options.webhook,
          ...(recurrence ? { recurrence } : {}),
          ...(options.at ? { scheduled_date: options.at } : {}),
          allow_concurrency: options.allowConcurrency ?? false,
          retry_on_failure: retries !== undefined && retries > 0,
          ...(retries !== undefined ? { max_retries: retries } : {}),
          ...(options.notes ? { notes: options.notes } : {}),
        });
        print(connection().json, created, () => `created ${line(created)}`);
      },
    );

  for (const [name, verb, description] of [
    ['pause', 'pause', 'stop firing (instants while paused are skipped)'],
    ['resume', 'resume', 'fire again from the next instant'],
    ['run', 'execute', 'run it now, whatever its next instant'],
  ] as const) {
    schedules
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string) => {
        const schedule = await call<Schedule>(
          connection(),
          'POST',
          `/schedules/${encodeURIComponent(id)}/${verb}`,
        );
        print(connection().json, schedule, () =>
          name === 'run' ? `run queued for ${line(schedule)}` : `${name}d ${line(schedule)}`,
        );
      });
  }

  schedules
    .command('cancel <id>')
    .description('cancel it for good')
    .action(async (id: string) => {
      await call(connection(), 'DELETE', `/schedules/${encodeURIComponent(id)}`);
      print(connection().json, { id, status: 'CANCELLED' }, () => `cancelled ${id}`);
    });

  schedules
    .command('runs <id>')
    .description('run history, newest first')
    .action(async (id: string) => {
      const { runs } = await call<{ runs: Run[] }>(
        connection(),
        'GET',
        `/schedules/${encodeURIComponent(id)}/runs`,
      );
      print(connection().json, runs, () =>
        runs.length === 0
          ? 'no runs yet'
          : runs
              .map(
                (run) =>
                  `${run.due_at}  ${run.status.padEnd(9)}  ${run.trigger} #${run.attempt}  ${run.error ? `${run.error.code}: ${run.error.reason}` : (run.log_url ?? '')}`,
              )
              .join('\n'),
      );
    });
}
