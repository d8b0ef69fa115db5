// `snapwire monitors list|create|get|runs|approve|reject|pause|resume|delete`: visual change monitors
// (docs/monitors.md), through @snapwire/sdk.
import type { Command } from 'commander';
import { SnapwireClient, type Monitor, type MonitorRun } from '@snapwire/sdk';
import {
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from '../connection.js';
import { fail, print } from '../output.js';

interface Connection extends ConnectionOptions {
  json?: boolean;
}

const UNIT_OF: Record<string, 'minute' | 'hour' | 'day' | 'week' | 'month'> = {
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
};

function parseEvery(value: string): { interval: number; unit: 'minute' | 'hour' | 'day' | 'week' | 'month' } {
  const match = /^(\d+)(mo|m|h|d|w)$/.exec(value.trim());
  if (!match) fail(`--every takes a number and a unit: 15m, 2h, 1d, 1w or 1mo; got "${value}"`);
  return { interval: Number(match[1]), unit: UNIT_OF[match[2]!]! };
}

const monitorLine = (m: Monitor) =>
  `${m.id}  ${m.status.padEnd(6)}  next ${m.next_run_at ?? '-'}  threshold ${m.change_threshold}  ${m.pending_run_id ? 'PENDING APPROVAL  ' : ''}${m.url}`;

const runLine = (r: MonitorRun) => {
  const outcome =
    r.status === 'failed'
      ? `failed ${r.error?.code ?? ''}`
      : r.status === 'baseline'
        ? 'baseline'
        : r.changed
          ? `CHANGED score ${(r.score ?? 0).toFixed(4)} regions ${r.regions.length}`
          : `unchanged score ${(r.score ?? 0).toFixed(4)}`;
  const words = r.text_diff?.changedWords
    ? `  words +${r.text_diff.added.length} -${r.text_diff.removed.length}`
    : '';
  return `${r.id}  ${r.finished_at ?? r.due_at ?? '-'}  ${outcome}${words}${r.approval ? `  approval ${r.approval}` : ''}${r.note ? `  (${r.note})` : ''}`;
};

export function registerMonitorCommands(program: Command): void {
  const monitors = addConnectionOptions(
    program
      .command('monitors')
      .description('visual change monitors: a page captured on a recurrence and compared with its baseline'),
  ).option('--json', 'print JSON');
  const connection = (): Connection => monitors.opts<Connection>();
  const run = async <T>(call: (client: SnapwireClient) => Promise<T>): Promise<T> => {
    const { host, key } = resolveConnection(connection());
    try {
      return await call(new SnapwireClient({ host, key }));
    } catch (error) {
      explainCallFailure(error, host);
    }
  };

  monitors
    .command('list')
    .description("the key's monitors")
    .action(async () => {
      const list = await run((client) => client.listMonitors());
      print(connection().json, list, () =>
        list.length === 0 ? 'no monitors' : list.map(monitorLine).join('\n'),
      );
    });

  monitors
    .command('create <url>')
    .description('watch <url>: --every 1h or --cron "0 9 * * *" (neither: only `snapwire monitors run`)')
    .option('--every <interval>', 'interval: 15m, 2h, 1d, 1w, 1mo')
    .option('--cron <expression>', 'cron expression (wins over --every)')
    .option('--timezone <zone>', 'IANA time zone of --cron (default UTC)')
    .option('--webhook <name>', 'webhook that receives screenshot.changed')
    .option('--threshold <share>', 'share of the pixels that must change, 0 to 1 (default 0.001)')
    .option('--hide <selector...>', 'CSS selectors hidden before each capture (clocks, carousels)')
    .option('--ignore <x,y,w,h...>', 'rectangles in pixels left out of the comparison')
    .option('--text', "also compare the page's visible text, word by word")
    .option('--confirm-runs <n>', 'runs in a row that must see a change (default 1)')
    .option('--require-approval', 'a change waits for approve before it becomes the baseline')
    .option('--resolution <WxH>', 'viewport size, e.g. 1280x800')
    .option('--capture <area>', 'viewport, fullpage, a CSS selector or an XPath')
    .action(
      async (
        url: string,
        options: {
          every?: string;
          cron?: string;
          timezone?: string;
          webhook?: string;
          threshold?: string;
          hide?: string[];
          ignore?: string[];
          text?: boolean;
          confirmRuns?: string;
          requireApproval?: boolean;
          resolution?: string;
          capture?: string;
        },
      ) => {
        const ignore = options.ignore?.map((rect) => {
          const parts = rect.split(',').map(Number);
          if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n))) {
            fail(`--ignore takes x,y,width,height in whole pixels; got "${rect}"`);
          }
          const [x, y, width, height] = parts as [number, number, number, number];
          return { x, y, width, height };
        });
        const recurrence = options.cron
          ? { cron: options.cron, ...(options.timezone ? { timezone: options.timezone } : {}) }
          : options.every
            ? parseEvery(options.every)
            : undefined;
        const created = await run((client) =>
          client.createMonitor({
            url,
            ...(recurrence ? { recurrence } : {}),
            ...(options.webhook ? { webhook_name: options.webhook } : {}),
            ...(options.threshold !== undefined ? { change_threshold: Number(options.threshold) } : {}),
            ...(options.hide ? { hide_selectors: options.hide } : {}),
            ...(ignore ? { ignore } : {}),
            ...(options.text ? { compare_text: true } : {}),
            ...(options.confirmRuns !== undefined ? { confirm_runs: Number(options.confirmRuns) } : {}),
            ...(options.requireApproval ? { require_approval: true } : {}),
            screenshot_config: {
              ...(options.resolution ? { resolution: options.resolution } : {}),
              ...(options.capture ? { capture: options.capture } : {}),
            },
          }),
        );
        print(connection().json, created, () => `created ${monitorLine(created)}`);
      },
    );

  monitors
    .command('get <id>')
    .description('one monitor')
    .action(async (id: string) => {
      const monitor = await run((client) => client.getMonitor(id));
      print(connection().json, monitor, () => JSON.stringify(monitor, null, 2));
    });

  monitors
    .command('run <id>')
    .description('run it now: capture, compare, report')
    .action(async (id: string) => {
      const result = await run((client) => client.runMonitor(id));
      print(connection().json, result, () => runLine(result));
    });

  monitors
    .command('runs <id>')
    .description('its runs, newest first')
    .option('--limit <n>', 'at most this many (default 100)')
    .action(async (id: string, options: { limit?: string }) => {
      const runs = await run((client) =>
        client.monitorRuns(id, options.limit ? { limit: Number(options.limit) } : {}),
      );
      print(connection().json, runs, () =>
        runs.length === 0 ? 'no runs yet' : runs.map(runLine).join('\n'),
      );
    });

  for (const decision of ['approve', 'reject'] as const) {
    monitors
      .command(`${decision} <id> <run>`)
      .description(
        decision === 'approve'
          ? 'the pending change becomes the baseline'
          : 'dismiss the pending change; the baseline stays',
      )
      .action(async (id: string, runId: string) => {
        const decided = await run((client) =>
          decision === 'approve' ? client.approveMonitorRun(id, runId) : client.rejectMonitorRun(id, runId),
        );
        print(connection().json, decided, () => `${decision}d ${runLine(decided)}`);
      });
  }

  for (const action of ['pause', 'resume'] as const) {
    monitors
      .command(`${action} <id>`)
      .description(action === 'pause' ? 'stop the recurrence' : 'restart the recurrence')
      .action(async (id: string) => {
        const monitor = await run((client) =>
          action === 'pause' ? client.pauseMonitor(id) : client.resumeMonitor(id),
        );
        print(connection().json, monitor, () => monitorLine(monitor));
      });
  }

  monitors
    .command('delete <id>')
    .description('delete the monitor and its runs')
    .action(async (id: string) => {
      await run((client) => client.deleteMonitor(id));
      print(connection().json, { deleted: id }, () => `deleted ${id}`);
    });
}
