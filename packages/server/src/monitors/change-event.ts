import type { Transaction } from 'kysely';
import type { PixelRect } from '../compare/compare-images.js';
import type { TextComparison } from '../compare/compare-text.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { Database } from '../store/schema.js';
import { timeOrderedId } from '../store/time-ordered-id.js';
import type { Webhook } from '../webhooks/registry.js';
import type { MonitorRow, MonitorRun } from './store.js';

export type MonitorEventType = 'screenshot.changed' | 'screenshot.unchanged';

/** The authenticated address of one of a run's images (GET /monitors/{id}/runs/{run}/image/{which}). */
export function runImageUrl(publicUrl: string, monitorId: string, runId: string, which: string): string {
  return `${publicUrl}/monitors/${monitorId}/runs/${runId}/image/${which}`;
}

export interface ChangeFacts {
  score: number;
  changedPixels: number;
  regions: PixelRect[];
  heightChange: number;
  before: { width: number; height: number };
  after: { width: number; height: number };
  text: TextComparison | undefined;
  awaitingApproval: boolean;
}

/** The JSON a monitor's webhook receives (docs/monitors.md "The event"). */
export function eventBody(
  type: MonitorEventType,
  monitor: MonitorRow,
  run: Pick<MonitorRun, 'id' | 'log_uuid'>,
  facts: ChangeFacts,
  publicUrl: string,
  now: number,
): Buffer {
  const image = (which: string) => runImageUrl(publicUrl, monitor.id, run.id, which);
  return Buffer.from(
    JSON.stringify({
      type,
      monitor_id: monitor.id,
      run_id: run.id,
      url: monitor.url,
      env: monitor.env,
      changed: type === 'screenshot.changed',
      score: facts.score,
      changed_pixels: facts.changedPixels,
      change_threshold: monitor.change_threshold,
      regions: facts.regions,
      height_change: facts.heightChange,
      before_size: facts.before,
      after_size: facts.after,
      text_diff: facts.text
        ? {
            changed: facts.text.changed,
            added: facts.text.added,
            removed: facts.text.removed,
            changed_words: facts.text.changedWords,
          }
        : null,
      images: { before: image('before'), after: image('after'), diff: image('diff') },
      awaiting_approval: facts.awaitingApproval,
      log_uuid: run.log_uuid,
      detected_at: new Date(now).toISOString(),
    }),
  );
}

/**
 * Queues the event for the monitor's webhook as a job already `delivering` (like a ping): the worker's
 * delivery lane signs, sends, retries and records it as it does every screenshot delivery. Written in the
 * caller's transaction, with the run's outcome, so an event exists exactly when its run says so.
 * Undefined when the monitor has no webhook or it was deleted (looked up by the caller before the
 * transaction: on SQLite the one connection is the transaction's until it ends).
 */
export async function queueEvent(
  trx: Transaction<Database>,
  queue: JobQueue,
  webhook: Webhook | undefined,
  monitor: MonitorRow,
  type: MonitorEventType,
  payloadBlob: string,
  logUuid: string | null,
  now: number,
): Promise<string | undefined> {
  if (!webhook) return undefined;
  const id = timeOrderedId(now);
  await queue.enqueue(trx, {
    id,
    project_id: monitor.project_id,
    env: monitor.env,
    webhook_uuid: webhook.uuid,
    resource_type: 'monitor',
    log_uuid: logUuid,
    request: '{}',
    state: 'delivering',
    payload_blob: payloadBlob,
    payload_content_type: 'application/json',
    payload_headers: JSON.stringify({ 'x-snapwire-event': type, 'x-snapwire-monitor-id': monitor.id }),
  });
  return id;
}
