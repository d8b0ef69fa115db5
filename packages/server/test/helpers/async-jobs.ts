import assert from 'node:assert/strict';
import type { Received, Receiver } from './receiver.js';
import { LIVE_KEY } from './service.js';
import { waitUntil } from './wait-until.js';

/** Creates a webhook through the API (LIVE key); answers its signing secret. */
export async function createWebhook(baseUrl: string, name: string, url: string): Promise<string> {
  const created = await fetch(`${baseUrl}/webhooks?key=${LIVE_KEY}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, url }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  return ((await created.json()) as { secret: string }).secret;
}

/** The first delivery of one job, once it has arrived. */
export async function deliveryOf(receiver: Receiver, jobUuid: string): Promise<Received> {
  return waitUntil(() => receiver.received.find((r) => r.headers['x-scrapfly-webhook-job-id'] === jobUuid), {
    timeoutMs: 20_000,
    intervalMs: 50,
    what: `the delivery of job ${jobUuid}`,
  });
}
