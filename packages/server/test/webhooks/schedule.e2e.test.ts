import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const SECOND = 1000;
const DEFAULT_SCHEDULE = [
  30 * SECOND,
  60 * SECOND,
  300 * SECOND,
  1800 * SECOND,
  3600 * SECOND,
  86_400 * SECOND,
];

/** The default retry schedule, up to its one-day step, run in well under a second with an injected clock. */
describe('webhook retry schedule on an injected clock', () => {
  const clock: Clock & { time: number } = { time: Date.UTC(2026, 10, 27, 12), now: () => clock.time };
  let service: TestService;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver('127.0.0.2', { kind: 'status', status: 500, body: 'down' });
    service = await startService(
      { SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32', SNAPWIRE_QUEUE_POLL: '50ms' },
      {},
      { clock },
    );
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`, {
      method,
      ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return response.json();
  };

  it('retries after 30s, 1m, 5m, 30m, 1h and 1d (±10 %), then ends with MAX_RETRY', async () => {
    await api('POST', '/webhooks', { name: 'slow', url: receiver.url });
    await receiver.waitFor(1);
    const { job_uuid: jobUuid } = await api('POST', '/webhooks/slow/ping');
    const attemptsOf = () =>
      receiver.received.filter((r) => r.headers['x-scrapfly-webhook-job-id'] === jobUuid).length;
    const waitForAttempt = (count: number) =>
      waitUntil(() => attemptsOf() >= count, { timeoutMs: 5_000, intervalMs: 10, what: `attempt ${count}` });
    await waitForAttempt(1);
    for (const [index, delay] of DEFAULT_SCHEDULE.entries()) {
      // The attempt row and the next run time commit just after the receiver answered.
      const job = await waitUntil(
        async () => {
          const shown = await api('GET', `/webhooks/jobs/${jobUuid}`);
          return shown.delivery_attempts >= index + 1 ? shown : undefined;
        },
        { timeoutMs: 5_000, what: `failed attempt ${index + 1} recorded` },
      );
      const failedAt = clock.time;
      const wait = Date.parse(job.next_attempt_at) - failedAt;
      assert.ok(
        wait >= delay * 0.9 && wait <= delay * 1.1,
        `retry ${index + 1} scheduled after ${wait} ms, expected ${delay} ±10 %`,
      );
      // Not before its time: a minute short of it, nothing is sent.
      clock.time = failedAt + wait - 60 * SECOND;
      // The queue itself says it: this job is not claimable yet (a claim uses the worker's clock). Other
      // due jobs a probe claims are released by the next clock move (a 1 s lease).
      const claimable = await service.snapwire.services.queue.claim('delivering', 'probe', 1000, 100);
      assert.ok(!claimable.some((c) => c.job.id === jobUuid), `retry ${index + 1} is not due early`);
      assert.equal(attemptsOf(), index + 1, `retry ${index + 1} is not sent early`);
      clock.time = failedAt + wait;
      service.snapwire.services.worker.wake();
      await waitForAttempt(index + 2);
    }
    let job;
    const started = Date.now();
    do {
      job = await api('GET', `/webhooks/jobs/${jobUuid}`);
      assert.ok(Date.now() - started < 5_000, 'the job ended');
    } while (job.state !== 'failed');
    assert.equal(job.attempts.length, 7);
    assert.match(
      job.last_error,
      /^ERR::WEBHOOK::MAX_RETRY: delivery failed 7 times; last attempt 7: HTTP 500/,
    );
  });
});
