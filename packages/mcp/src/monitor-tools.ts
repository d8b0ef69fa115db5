// The monitor tools for agents: monitor_create and monitor_changes, over the service's monitors API
// (docs/monitors.md). A monitor runs on the service; the agent creates it and later asks what changed.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { MonitorRun, SnapwireClient } from '@snapwire/sdk';
import { z } from 'zod';
import { guarded, jsonResult } from './results.js';

/** Monitors looked at when monitor_changes is given no id. */
const MONITORS_SUMMARISED = 20;

const change = (run: MonitorRun) => ({
  run_id: run.id,
  at: run.finished_at,
  score: run.score,
  regions: run.regions,
  height_change: run.height_change,
  text_diff: run.text_diff ? { added: run.text_diff.added, removed: run.text_diff.removed } : null,
  approval: run.approval,
  images: run.images,
});

export function registerMonitorTools(server: McpServer, client: SnapwireClient): void {
  server.registerTool(
    'monitor_create',
    {
      title: 'Watch a page for visual changes',
      description:
        'Create a monitor: the service captures the page on a recurrence, compares each capture with the last accepted one (pixels, and optionally the visible text) and records changes; a webhook can be told. The first capture is taken now and becomes the baseline. Later ask monitor_changes what changed. Each capture costs what a screenshot costs.',
      inputSchema: {
        url: z.string().min(1).describe('The page to watch, e.g. https://example.com/pricing.'),
        every_minutes: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Capture every this many minutes (none: only when run by hand).'),
        change_threshold: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe('Share of the pixels that must change to count, 0 to 1 (default 0.001 = 0.1 %).'),
        hide_selectors: z
          .array(z.string())
          .optional()
          .describe(
            'CSS selectors hidden before each capture: clocks, carousels, ads that change every time.',
          ),
        compare_text: z.boolean().optional().describe("Also compare the page's visible text word by word."),
        confirm_runs: z
          .number()
          .int()
          .min(1)
          .max(10)
          .optional()
          .describe('Runs in a row that must see a change before it counts (2 absorbs one-off flakes).'),
        webhook_name: z.string().optional().describe('A webhook of the project told of each change.'),
      },
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    async (input, extra) =>
      guarded(async () => {
        const monitor = await client.createMonitor(
          {
            url: input.url,
            ...(input.every_minutes ? { recurrence: { interval: input.every_minutes, unit: 'minute' } } : {}),
            ...(input.change_threshold !== undefined ? { change_threshold: input.change_threshold } : {}),
            ...(input.hide_selectors ? { hide_selectors: input.hide_selectors } : {}),
            ...(input.compare_text ? { compare_text: true } : {}),
            ...(input.confirm_runs ? { confirm_runs: input.confirm_runs } : {}),
            ...(input.webhook_name ? { webhook_name: input.webhook_name } : {}),
          },
          { signal: extra.signal },
        );
        const first = await client.runMonitor(monitor.id, { signal: extra.signal });
        return jsonResult({
          monitor_id: monitor.id,
          url: monitor.url,
          next_run_at: monitor.next_run_at,
          first_run: { status: first.status, note: first.note, error: first.error },
        });
      }),
  );

  server.registerTool(
    'monitor_changes',
    {
      title: 'What changed on watched pages',
      description:
        "The changes monitors have seen, newest first: when, how much (score = share of the pixels), where (regions in pixels), which words were added or removed, and the before/after/diff image URLs (they need the project's key). With monitor_id: that monitor's changes; without: the latest change of each monitor. run_now captures once more first.",
      inputSchema: {
        monitor_id: z.string().optional().describe('One monitor (from monitor_create); omit for all.'),
        run_now: z
          .boolean()
          .optional()
          .describe('Capture and compare now before answering (needs monitor_id).'),
        limit: z.number().int().min(1).max(100).optional().describe('Most changes listed (default 10).'),
      },
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    async (input, extra) =>
      guarded(async () => {
        const limit = input.limit ?? 10;
        if (input.monitor_id) {
          if (input.run_now) await client.runMonitor(input.monitor_id, { signal: extra.signal });
          const monitor = await client.getMonitor(input.monitor_id, { signal: extra.signal });
          const runs = await client.monitorRuns(input.monitor_id, { limit: 200 }, { signal: extra.signal });
          const changes = runs.filter((run) => run.changed).slice(0, limit);
          return jsonResult({
            monitor_id: monitor.id,
            url: monitor.url,
            runs_looked_at: runs.length,
            last_run: runs[0]
              ? { at: runs[0].finished_at, status: runs[0].status, changed: runs[0].changed }
              : null,
            changes: changes.map(change),
          });
        }
        const monitors = (await client.listMonitors({ signal: extra.signal })).slice(0, MONITORS_SUMMARISED);
        const summary = [];
        for (const monitor of monitors) {
          const runs = await client.monitorRuns(monitor.id, { limit: 100 }, { signal: extra.signal });
          const latest = runs.find((run) => run.changed);
          summary.push({
            monitor_id: monitor.id,
            url: monitor.url,
            status: monitor.status,
            latest_change: latest ? change(latest) : null,
          });
        }
        return jsonResult(summary.slice(0, limit));
      }),
  );
}
