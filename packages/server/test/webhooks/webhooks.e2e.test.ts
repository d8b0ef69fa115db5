import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifySignature as officialVerify } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { ok, startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, screenshot, startService, TEST_KEY, type TestService } from '../helpers/service.js';
import { decode, MAGIC } from '../helpers/images.js';
import { waitUntil } from '../helpers/wait-until.js';
import { PLANS } from '../../src/accounts/plans.js';

const ALLOWED = '127.0.0.2';

async function api(service: TestService, method: string, path: string, body?: unknown, key = LIVE_KEY) {
  const response = await fetch(
    `${service.baseUrl}${path}${path.includes('?') ? '&' : '?'}key=${encodeURIComponent(key)}`,
    {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    },
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

async function jobState(
  service: TestService,
  jobUuid: string,
  until: (job: { state: string }) => boolean,
  timeoutMs = 15_000,
) {
  return waitUntil(
    async () => {
      const { body } = await api(service, 'GET', `/webhooks/jobs/${jobUuid}`);
      return until(body) ? body : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `job ${jobUuid} in the expected state` },
  );
}

describe('webhooks: asynchronous screenshots delivered, signed and retried (real receivers on loopback)', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let canary: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    canary = await startReceiver('127.0.0.1');
    service = await startService({
      SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
      SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '400ms,800ms,100ms',
      SNAPWIRE_WEBHOOK_TIMEOUT: '1s',
      SNAPWIRE_QUEUE_POLL: '100ms',
      SNAPWIRE_WEBHOOK_SECRET_GRACE: '1h',
    });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await canary?.close();
    assert.equal(canary.connections, 0, 'nothing ever reached the canary on 127.0.0.1');
  });

  async function webhookTo(receiver: Receiver, name: string, extra: Record<string, unknown> = {}) {
    const created = await api(service, 'POST', '/webhooks', { name, url: receiver.url, ...extra });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await receiver.waitFor(1); // the ping
    return created.body as { webhook_uuid: string; secret: string; name: string };
  }

  it('creates a webhook (201 with uuid and secret) and sends it a signed ping', async () => {
    const receiver = await startReceiver(ALLOWED);
    const created = await api(service, 'POST', '/webhooks', { name: 'first', url: receiver.url });
    assert.equal(created.status, 201);
    assert.match(created.body.webhook_uuid, /^[0-9a-f-]{36}$/);
    assert.match(created.body.secret, /^[0-9a-f]{64}$/);
    const [ping] = await receiver.waitFor(1);
    assert.ok(ping);
    assert.equal(ping.headers['x-scrapfly-webhook-resource-type'], 'ping');
    assert.equal(ping.headers['x-scrapfly-webhook-id'], created.body.webhook_uuid);
    assert.equal(ping.headers['x-scrapfly-webhook-name'], 'first');
    assert.ok(
      officialVerify(ping.body, String(ping.headers['x-scrapfly-webhook-signature']), created.body.secret),
    );
    await receiver.close();
  });

  it('refuses a webhook URL on a refused address, naming the class and the setting', async () => {
    for (const url of [
      canary.url,
      `http://[::1]:1/hook`,
      `http://2130706433:${new URL(canary.url).port}/`,
      'file:///etc/passwd',
    ]) {
      const created = await api(service, 'POST', '/webhooks', {
        name: `bad-${Math.random().toString(36).slice(2, 6)}`,
        url,
      });
      assert.ok(created.status === 422, `${url}: ${JSON.stringify(created.body)}`);
      assert.match(created.body.code, /ERR::SCRAPE::(DOMAIN_NOT_ALLOWED|BAD_PROTOCOL)/);
    }
    const refused = await api(service, 'POST', '/webhooks', { name: 'loopback', url: canary.url });
    assert.match(refused.body.reason, /loopback/);
    assert.match(refused.body.reason, /SNAPWIRE_ALLOWED_NETWORKS/);
  });

  it('delivers an asynchronous screenshot: the same bytes, every header, a signature the official SDK accepts', async () => {
    const receiver = await startReceiver(ALLOWED);
    const webhook = await webhookTo(receiver, 'shots');
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      format: 'png',
      resolution: '640x480',
      rendering_wait: '0',
      webhook_name: 'shots',
    });
    assert.equal(response.status, 201);
    assert.equal(
      response.headers.get('content-type'),
      'application/json; charset=utf-8',
      'a result, not an error (docs/compat.md §2)',
    );
    const promise = await response.json();
    assert.equal(promise.success, true);
    assert.equal(promise.webhook_enqueued, true);
    assert.equal(promise.webhook_name, 'shots');
    assert.equal(promise.webhook_uuid, webhook.webhook_uuid);
    // The default project's plan: UNLIMITED, unless SNAPWIRE_DEFAULT_PLAN says otherwise.
    assert.equal(promise.webhook_queue_limit, PLANS.UNLIMITED.webhookQueueLimit);
    assert.equal(promise.webhook_queued_element, 1);
    assert.equal(
      promise.log_url,
      `${service.snapwire.services.settings.publicUrl}/dashboard/monitoring/log/${promise.log_uuid}`,
    );
    assert.equal(response.headers.get('x-scrapfly-log-uuid'), promise.log_uuid);
    assert.equal(response.headers.get('x-scrapfly-log-url'), promise.log_url);

    const deliveries = await receiver.waitFor(2);
    const delivery = deliveries[1]!;
    assert.equal(delivery.method, 'POST');
    assert.equal(delivery.headers['content-type'], 'image/png');
    assert.ok(MAGIC.png(delivery.body));
    const image = await decode(delivery.body);
    assert.deepEqual([image.width, image.height], [640, 480]);
    const h = delivery.headers;
    assert.equal(h['user-agent'], 'Scrapfly/Webhook');
    assert.equal(h['x-scrapfly-webhook-env'], 'LIVE');
    assert.equal(h['x-scrapfly-webhook-project'], 'default');
    assert.equal(h['x-scrapfly-webhook-name'], 'shots');
    assert.equal(h['x-scrapfly-webhook-id'], webhook.webhook_uuid);
    assert.equal(h['x-scrapfly-webhook-job-id'], promise.job_uuid);
    assert.equal(h['x-scrapfly-webhook-resource-type'], 'screenshot');
    assert.equal(h['x-scrapfly-log-uuid'], promise.log_uuid);
    assert.equal(h['x-scrapfly-log-url'], promise.log_url);
    assert.equal(h['x-scrapfly-upstream-http-code'], '200');
    const signature = String(h['x-scrapfly-webhook-signature']);
    assert.match(signature, /^[0-9A-F]{64}$/);
    assert.equal(h['x-scrapfly-webhook-signature-lowercase'], signature.toLowerCase());
    assert.ok(
      officialVerify(delivery.body, signature, webhook.secret),
      "scrapfly-sdk's verifySignature accepts it",
    );
    assert.ok(!officialVerify(Buffer.concat([delivery.body, Buffer.from('x')]), signature, webhook.secret));

    // The stored image is the delivered one, and the log row is complete.
    const stored = await fetch(
      `${service.baseUrl}${new URL(String(h['x-scrapfly-screenshot-url'])).pathname}?key=${LIVE_KEY}`,
    );
    assert.ok(Buffer.from(await stored.arrayBuffer()).equals(delivery.body));
    const job = await jobState(service, promise.job_uuid, (j) => j.state === 'done');
    assert.equal(job.attempts.length, 1);
    assert.equal(job.attempts[0].status_code, 200);
    await receiver.close();
  });

  it('delivers a failed capture as the error JSON the synchronous call would answer', async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'errors');
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      capture: '#missing',
      rendering_wait: '0',
      webhook_name: 'errors',
    });
    assert.equal(response.status, 201);
    const [, delivery] = await receiver.waitFor(2);
    assert.equal(delivery!.headers['content-type'], 'application/json');
    const body = JSON.parse(delivery!.body.toString());
    assert.equal(body.code, 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND');
    assert.equal(body.http_code, 422);
    assert.ok(body.reason);
    await receiver.close();
  });

  it("retries 500, 500 then delivers on the third attempt, at the schedule's times", async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'flaky');
    receiver.script.push(
      { kind: 'status', status: 500, body: 'boom' },
      { kind: 'status', status: 500, body: 'boom again' },
    );
    const promise = await (
      await screenshot(service.baseUrl, {
        url: `${fixtures.origin}/solid`,
        rendering_wait: '0',
        webhook_name: 'flaky',
      })
    ).json();
    const deliveries = (await receiver.waitFor(4)).slice(1);
    assert.deepEqual(
      deliveries.map((d) => d.answered),
      [500, 500, 200],
    );
    assert.ok(deliveries.every((d) => d.headers['x-scrapfly-webhook-job-id'] === promise.job_uuid));
    const first = deliveries[1]!.at - deliveries[0]!.at;
    const second = deliveries[2]!.at - deliveries[1]!.at;
    // schedule 400ms then 800ms, ±10 % jitter, plus the worker's reaction time
    assert.ok(first >= 360 && first < 400 * 1.1 + 400, `first retry after ${first} ms`);
    assert.ok(second >= 720 && second < 800 * 1.1 + 400, `second retry after ${second} ms`);
    const job = await jobState(service, promise.job_uuid, (j) => j.state === 'done');
    assert.deepEqual(
      job.attempts.map((a: { status_code: number }) => a.status_code),
      [500, 500, 200],
    );
    assert.equal(job.attempts[0].response_excerpt, 'boom');
    await receiver.close();
  });

  it('counts a hang past the timeout and a reset connection as failures, then delivers', async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'faulty');
    receiver.script.push({ kind: 'hang' }, { kind: 'reset' });
    const promise = await (
      await screenshot(service.baseUrl, {
        url: `${fixtures.origin}/solid`,
        rendering_wait: '0',
        webhook_name: 'faulty',
      })
    ).json();
    await receiver.waitFor(4);
    const job = await jobState(service, promise.job_uuid, (j) => j.state === 'done');
    assert.equal(job.attempts.length, 3);
    assert.match(job.attempts[0].error, /timeout/i);
    assert.ok(job.attempts[0].duration_ms >= 900, 'the hang was cut at the 1 s timeout');
    assert.match(job.attempts[1].error, /reset/i);
    assert.equal(job.attempts[2].success, true);
    await receiver.close();
  });

  it('follows a redirect chain on allowed addresses', async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'moved');
    receiver.script.push(
      { kind: 'redirect', status: 307, location: '/second' },
      { kind: 'redirect', status: 308, location: `${receiver.origin}/final` },
    );
    await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
      webhook_name: 'moved',
    });
    const requests = await receiver.waitFor(4);
    assert.deepEqual(
      requests.slice(1).map((r) => r.path),
      ['/hook', '/second', '/final'],
    );
    assert.ok(MAGIC.jpg(requests[3]!.body), 'the image survives the redirects');
    await receiver.close();
  });

  it('refuses a 301 to loopback: the attempt fails with a clear reason and the canary sees nothing', async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'sneaky');
    receiver.fallback = { kind: 'redirect', status: 301, location: canary.url };
    const promise = await (
      await screenshot(service.baseUrl, {
        url: `${fixtures.origin}/solid`,
        rendering_wait: '0',
        webhook_name: 'sneaky',
      })
    ).json();
    const job = await jobState(service, promise.job_uuid, (j) => j.state === 'failed', 20_000);
    assert.equal(job.attempts.length, 4, 'every attempt of the schedule');
    assert.match(job.attempts[0].error, /refused/);
    assert.match(job.attempts[0].error, /loopback/);
    assert.match(job.last_error, /ERR::WEBHOOK::MAX_RETRY/);
    assert.equal(canary.connections, 0);
    await receiver.close();
  });

  it('answers QUEUE_FULL for the 4th queued job of a webhook with a queue limit of 3', async () => {
    const receiver = await startReceiver(ALLOWED, {
      kind: 'status',
      status: 503,
      headers: { 'retry-after': '3600' },
    });
    const created = await api(service, 'POST', '/webhooks', {
      name: 'small',
      url: receiver.url,
      queue_limit: 3,
    });
    assert.equal(created.body.queue_limit, 3);
    const results = [];
    for (let i = 0; i < 4; i += 1) {
      results.push(
        await screenshot(service.baseUrl, {
          url: `${fixtures.origin}/solid`,
          rendering_wait: '0',
          webhook_name: 'small',
        }),
      );
    }
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 201, 429],
    );
    const refused = await results[3]!.json();
    assert.equal(refused.code, 'ERR::WEBHOOK::QUEUE_FULL');
    assert.match(refused.reason, /3 of its 3 queued jobs/);
    assert.equal((await results[2]!.json()).webhook_queued_element, 3);
    await receiver.close();
  });

  it("a new project on the service's default plan queues asynchronous screenshots; a queue limit of 0 is a non-retryable 400 naming the setting", async () => {
    const { projects, settings } = service.snapwire.services;
    const receiver = await startReceiver(ALLOWED);
    // What `snapwire projects create` and the dashboard's form give when no plan is chosen.
    const newcomer = await projects.create('newcomer', settings.defaultPlan);
    assert.equal(newcomer.project.plan, 'UNLIMITED');
    const hook = await api(
      service,
      'POST',
      '/webhooks',
      { name: 'shots', url: receiver.url },
      newcomer.keys.LIVE,
    );
    assert.equal(hook.status, 201);
    const accepted = await screenshot(service.baseUrl, {
      key: newcomer.keys.LIVE,
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
      webhook_name: 'shots',
    });
    assert.equal(accepted.status, 201, await accepted.clone().text());

    // Scrapfly's FREE preset has no webhook queue: no retry can ever succeed, so none is invited.
    const free = await projects.create('free-tier', 'FREE');
    const freeHook = await api(
      service,
      'POST',
      '/webhooks',
      { name: 'shots', url: receiver.url },
      free.keys.LIVE,
    );
    assert.equal(freeHook.status, 201, 'creating it still works (its ping may wait)');
    const ownZero = await api(
      service,
      'POST',
      '/webhooks',
      { name: 'zero', url: receiver.url, queue_limit: 0 },
      newcomer.keys.LIVE,
    );
    assert.equal(ownZero.status, 201);
    for (const [key, webhook, setting] of [
      [
        free.keys.LIVE,
        'shots',
        /webhookQueueLimit of 0 \(its plan FREE's\).*snapwire projects set free-tier/,
      ],
      [newcomer.keys.LIVE, 'zero', /own queue_limit is 0: raise it with PATCH \/webhooks\/zero/],
    ] as const) {
      const refused = await screenshot(service.baseUrl, {
        key,
        url: `${fixtures.origin}/solid`,
        rendering_wait: '0',
        webhook_name: webhook,
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('retry-after'), null);
      assert.equal(refused.headers.get('x-scrapfly-reject-retryable'), 'false');
      const body = await refused.json();
      assert.equal(body.code, 'ERR::WEBHOOK::QUEUE_LIMIT_ZERO');
      assert.equal(body.retryable, false);
      assert.match(body.reason, /can never queue a screenshot/);
      assert.match(body.reason, setting);
    }
    await receiver.close();
  });

  it('signs with the new secret after a rotation and with the previous one in an extra header', async () => {
    const receiver = await startReceiver(ALLOWED);
    const webhook = await webhookTo(receiver, 'rotating');
    const rotated = await api(service, 'POST', '/webhooks/rotating/rotate-secret', {});
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, webhook.secret);
    await api(service, 'POST', '/webhooks/rotating/ping');
    const [, ping] = await receiver.waitFor(2);
    assert.ok(
      officialVerify(ping!.body, String(ping!.headers['x-scrapfly-webhook-signature']), rotated.body.secret),
    );
    assert.ok(
      officialVerify(
        ping!.body,
        String(ping!.headers['x-scrapfly-webhook-signature-previous']),
        webhook.secret,
      ),
    );
    await receiver.close();
  });

  it('replays a delivered job with the same job id and bytes', async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'replayed');
    const promise = await (
      await screenshot(service.baseUrl, {
        url: `${fixtures.origin}/solid`,
        rendering_wait: '0',
        webhook_name: 'replayed',
      })
    ).json();
    await jobState(service, promise.job_uuid, (j) => j.state === 'done');
    const replay = await api(service, 'POST', `/webhooks/jobs/${promise.job_uuid}/replay`);
    assert.equal(replay.status, 202);
    const requests = await receiver.waitFor(3);
    assert.equal(requests[2]!.headers['x-scrapfly-webhook-job-id'], promise.job_uuid);
    assert.ok(requests[2]!.body.equals(requests[1]!.body));
    await jobState(service, promise.job_uuid, (j) => j.state === 'done');
    const history = await api(service, 'GET', '/webhooks/replayed/deliveries');
    assert.equal(history.body.attempts.length, 3, 'ping, delivery and replay');
    await receiver.close();
  });

  it('keeps webhooks apart per project and environment', async () => {
    const receiver = await startReceiver(ALLOWED);
    await webhookTo(receiver, 'private');
    const { keys } = await service.snapwire.services.projects.create('intruder', 'PRO');
    assert.equal((await api(service, 'GET', '/webhooks/private', undefined, keys.LIVE)).status, 404);
    assert.equal((await api(service, 'DELETE', '/webhooks/private', undefined, keys.LIVE)).status, 404);
    assert.equal(
      (await api(service, 'GET', '/webhooks/private', undefined, TEST_KEY)).status,
      404,
      'TEST does not see LIVE webhooks',
    );
    const unknown = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      webhook_name: 'private',
      key: keys.LIVE,
    });
    assert.equal(unknown.status, 400);
    assert.equal((await unknown.json()).code, 'ERR::WEBHOOK::NOT_FOUND');
    const list = await api(service, 'GET', '/webhooks', undefined, keys.LIVE);
    assert.deepEqual(list.body.webhooks, []);
    await receiver.close();
  });
});

describe('webhooks: auto-disable after 100 consecutive failures, and resume on re-enable', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let operator: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    operator = await startReceiver(ALLOWED);
    service = await startService({
      SNAPWIRE_OPERATOR_NOTIFY_URL: operator.url,
      SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
      SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: Array.from({ length: 20 }, () => '5ms').join(','),
      SNAPWIRE_QUEUE_POLL: '50ms',
    });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await operator?.close();
  });

  it('disables the webhook after attempt 101, warns on the way, refuses new jobs, and resumes waiting jobs when re-enabled', async () => {
    const receiver = await startReceiver(ALLOWED, { kind: 'status', status: 500, body: 'down' });
    // One delivery at a time, so that no attempt is already in flight when the 101st disables it.
    const created = await api(service, 'POST', '/webhooks', {
      name: 'broken',
      url: receiver.url,
      max_concurrency: 1,
      queue_limit: 20,
    });
    assert.equal(created.status, 201);
    // 1 ping + 9 more pings (the rate limit's 10 a minute) = 10 jobs x 21 attempts: far more than 101
    // attempts if nothing stopped them.
    for (let i = 0; i < 9; i += 1)
      assert.equal((await api(service, 'POST', '/webhooks/broken/ping')).status, 202);
    await waitUntil(async () => !(await api(service, 'GET', '/webhooks/broken')).body.enabled, {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the webhook disabled',
    });
    const shown = await api(service, 'GET', '/webhooks/broken');
    assert.equal(shown.body.consecutive_failed_count, 101);
    assert.match(shown.body.disable_reason, /disabled after 101 consecutive failed deliveries/);
    // Attempts in flight when it was disabled finish (their leases are released); after that the queue
    // hands out no job of a disabled webhook, so the count is final.
    const db = service.snapwire.store.db;
    await waitUntil(
      async () =>
        (
          await db
            .selectFrom('jobs')
            .select('id')
            .where('webhook_uuid', '=', shown.body.webhook_uuid)
            .where('locked_by', 'is not', null)
            .execute()
        ).length === 0,
      { what: 'no delivery of the disabled webhook in flight' },
    );
    assert.equal(receiver.received.length, 101, 'no attempt after the one that disabled it');

    const events = await service.snapwire.store.db
      .selectFrom('project_events')
      .selectAll()
      .orderBy('created_at')
      .execute();
    assert.deepEqual(
      events.map((e) => e.kind),
      ['webhook.failing', 'webhook.failing', 'webhook.failing', 'webhook.disabled'],
    );
    assert.match(events[0]!.message, /failed 50 deliveries in a row/);
    const notified = await operator.waitFor(4);
    assert.deepEqual(
      notified.map((n) => JSON.parse(n.body.toString()).kind),
      ['webhook.failing', 'webhook.failing', 'webhook.failing', 'webhook.disabled'],
      'the operator notification URL got every event',
    );
    assert.equal(JSON.parse(notified[3]!.body.toString()).webhook_name, 'broken');

    const refused = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      webhook_name: 'broken',
    });
    assert.equal(refused.status, 400);
    const body = await refused.json();
    assert.equal(body.code, 'ERR::WEBHOOK::DISABLED');
    assert.match(body.reason, /re-enable it/);

    // Jobs that had attempts left were kept; they resume when the webhook is enabled again.
    receiver.fallback = ok;
    const enabled = await api(service, 'POST', '/webhooks/broken/enable');
    assert.equal(enabled.body.enabled, true);
    assert.equal(enabled.body.consecutive_failed_count, 0);
    const waiting = await service.snapwire.store.db
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'delivering')
      .execute();
    assert.ok(waiting.length > 0, 'some jobs were waiting');
    await receiver.waitFor(101 + waiting.length, 15_000);
    const delivered = receiver.received.slice(101).map((r) => r.answered);
    assert.ok(delivered.every((status) => status === 200));
    await receiver.close();
  });
});
