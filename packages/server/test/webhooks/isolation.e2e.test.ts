import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { signIn } from '../dashboard/support.js';

// Regression tests for issue 12: each replays an attack a security review made as one tenant against
// another (or against the service), on a real service over loopback.

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

/**
 * One origin on 127.0.0.1: /slow answers 200 and then drips its body one byte every 500 ms, for ever;
 * any other path answers 200 at once.
 */
async function startDripReceiver() {
  const sockets = new Set<import('node:net').Socket>();
  let requests = 0;
  let fast = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/slow') {
      fast += 1;
      req.resume();
      res.end('ok');
      return;
    }
    requests += 1;
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('.'), 500);
    res.on('close', () => clearInterval(timer));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    get requests() {
      return requests;
    },
    get fast() {
      return fast;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('isolation between tenants (issue 12)', () => {
  let service: TestService;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver('127.0.0.1');
    service = await startService({ SNAPWIRE_QUEUE_POLL: '50ms' });
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
  });

  it("a webhook whose receiver drips its answer never delays another webhook's deliveries to the same origin", async () => {
    const drip = await startDripReceiver();
    try {
      // Both webhooks point at the same origin: the dripping one on /slow, the healthy one on /fast. The
      // same server answers both paths (one origin), dripping every answer; only the pool keeps them apart.
      const slow = await api(service, 'POST', '/webhooks', {
        name: 'dripping',
        url: `http://127.0.0.1:${drip.port}/slow`,
        timeout_ms: 30_000,
      });
      assert.equal(slow.status, 201);
      await waitUntil(() => drip.requests >= 1, { what: 'the dripping receiver got its ping' });
      // Another project's webhook on the same origin answers at once; before per-webhook pools its ping
      // queued behind the dripping answer on the one shared connection.
      const other = await service.snapwire.services.projects.create('tenant-b', 'PRO');
      const created = await api(
        service,
        'POST',
        '/webhooks',
        { name: 'healthy', url: `http://127.0.0.1:${drip.port}/fast` },
        other.keys.LIVE,
      );
      assert.equal(created.status, 201);
      await waitUntil(() => drip.fast >= 1, { timeoutMs: 5_000, what: 'the healthy webhook got its ping' });
      const db = service.snapwire.store.db;
      await waitUntil(
        async () =>
          (
            await db
              .selectFrom('webhook_attempts')
              .select('id')
              .where('webhook_uuid', '=', created.body.webhook_uuid)
              .execute()
          ).length === 1,
        { timeoutMs: 5_000, what: "the healthy webhook's attempt is recorded" },
      );
      const attempts = await service.snapwire.store.db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('webhook_uuid', '=', created.body.webhook_uuid)
        .execute();
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]?.success, 1, 'no UND_ERR_DESTROYED or timeout for the healthy webhook');
    } finally {
      await drip.close();
    }
  });

  it('pings obey the queue limit and a rate limit (20 pings on queue_limit 1: one accepted, the rest 429)', async () => {
    const hang = await startReceiver('127.0.0.1', { kind: 'hang' });
    try {
      const created = await api(service, 'POST', '/webhooks', {
        name: 'pinged',
        url: hang.url,
        queue_limit: 1,
        timeout_ms: 30_000,
      });
      assert.equal(created.status, 201);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => api(service, 'POST', '/webhooks/pinged/ping')),
      );
      const accepted = answers.filter((answer) => answer.status === 202).length;
      assert.equal(accepted, 0, 'the creation ping already fills a queue limit of 1');
      for (const answer of answers) {
        assert.equal(answer.status, 429);
        assert.equal(answer.body.code, 'ERR::WEBHOOK::QUEUE_FULL');
        assert.ok(answer.headers.get('retry-after'));
      }
      // The rate limit holds even with room in the queue.
      await api(service, 'PATCH', '/webhooks/pinged', { queue_limit: 1000 });
      const burst = [];
      for (let i = 0; i < 12; i += 1) burst.push(await api(service, 'POST', '/webhooks/pinged/ping'));
      assert.equal(
        burst.filter((answer) => answer.status === 202).length,
        9,
        '10 pings a minute, creation included',
      );
      assert.equal(burst.at(-1)?.body.code, 'ERR::THROTTLE::MAX_REQUEST_RATE_EXCEEDED');
    } finally {
      await api(service, 'DELETE', '/webhooks/pinged');
      await hang.close();
    }
  });

  it("one project's backlog to a hanging receiver does not hold the delivery slots another project needs", async () => {
    const hang = await startReceiver('127.0.0.1', { kind: 'hang' });
    const { queue, blobs, projects, worker } = service.snapwire.services;
    const { store } = service.snapwire;
    try {
      const tenantA = await projects.create('backlog-a', 'PRO');
      const tenantC = await projects.create('waiting-c', 'PRO');
      const hookA = await api(
        service,
        'POST',
        '/webhooks',
        { name: 'a', url: hang.url, timeout_ms: 30_000 },
        tenantA.keys.LIVE,
      );
      const hookC = await api(
        service,
        'POST',
        '/webhooks',
        { name: 'c', url: receiver.url },
        tenantC.keys.LIVE,
      );
      await receiver.waitFor(1, 5_000);
      const before = receiver.received.length;
      const blob = await blobs.put(Buffer.from('{"type":"ping"}'));
      // A's 40 deliveries and C's one become due in the same instant: 16 slots, two projects.
      await store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 40; i += 1) {
          await queue.enqueue(trx, {
            id: crypto.randomUUID(),
            project_id: tenantA.project.id,
            env: 'LIVE',
            webhook_uuid: hookA.body.webhook_uuid,
            resource_type: 'ping',
            log_uuid: null,
            request: '{}',
            state: 'delivering',
            payload_blob: blob,
            payload_content_type: 'application/json',
          });
        }
        await queue.enqueue(trx, {
          id: crypto.randomUUID(),
          project_id: tenantC.project.id,
          env: 'LIVE',
          webhook_uuid: hookC.body.webhook_uuid,
          resource_type: 'ping',
          log_uuid: null,
          request: '{}',
          state: 'delivering',
          payload_blob: blob,
          payload_content_type: 'application/json',
        });
      });
      worker.wake();
      const started = Date.now();
      await receiver.waitFor(before + 1, 5_000);
      assert.ok(Date.now() - started < 5_000, "C's delivery did not wait for A's hanging ones");
      // Once C has nothing waiting, A may use every slot (the sharing is work-conserving).
      await waitUntil(() => hang.received.length > 9, { what: 'A uses the slots C no longer needs' });
    } finally {
      // Closing the receiver resets A's hanging deliveries, which frees their slots for the next tests.
      await hang.close();
    }
  });

  it('rotate-secret works without a body, like ping and enable', async () => {
    await api(service, 'POST', '/webhooks', { name: 'rotating', url: receiver.url });
    const before = await api(service, 'GET', '/webhooks/rotating?reveal_secret=true');
    const headerSets: Record<string, string>[] = [{}, { 'content-type': 'application/json' }];
    for (const headers of headerSets) {
      const response = await fetch(`${service.baseUrl}/webhooks/rotating/rotate-secret?key=${LIVE_KEY}`, {
        method: 'POST',
        headers,
      });
      assert.equal(response.status, 200, `rotate-secret with headers ${JSON.stringify(headers)}`);
      const body = (await response.json()) as { secret: string };
      assert.notEqual(body.secret, before.body.secret);
    }
  });

  it('a replay carries a new delivery id, the same job id and bytes', async () => {
    const hook = await startReceiver('127.0.0.1');
    try {
      await api(service, 'POST', '/webhooks', { name: 'replayed', url: hook.url });
      const [ping] = await hook.waitFor(1, 5_000);
      const jobId = String(ping?.headers['x-scrapfly-webhook-job-id']);
      assert.equal(ping?.headers['x-scrapfly-webhook-delivery-id'], jobId, 'first delivery: the job id');
      await waitUntil(
        async () => (await api(service, 'GET', `/webhooks/jobs/${jobId}`)).body.state === 'done',
        {
          what: 'the ping is done',
        },
      );
      assert.equal((await api(service, 'POST', `/webhooks/jobs/${jobId}/replay`)).status, 202);
      const [, replay] = await hook.waitFor(2, 5_000);
      assert.equal(replay?.headers['x-scrapfly-webhook-job-id'], jobId);
      assert.notEqual(replay?.headers['x-scrapfly-webhook-delivery-id'], jobId);
      assert.deepEqual(replay?.body, ping?.body);
    } finally {
      await hook.close();
    }
  });

  it("a TEST key never reads its project's LIVE screenshots", async () => {
    const { logs, blobs, projects } = service.snapwire.services;
    const project = (await projects.list()).find((p) => p.name === 'default');
    assert.ok(project);
    const blob = await blobs.put(Buffer.from('live image bytes'));
    await logs.record({
      log_uuid: '01JLIVEONLY0000000000000000',
      project_id: project.id,
      env: 'LIVE',
      url: 'https://example.com/',
      params: '{}',
      http_status: 200,
      error_code: null,
      error_reason: null,
      upstream_status: 200,
      final_url: 'https://example.com/',
      cost: 60,
      duration_ms: 1,
      blob_key: blob,
      content_type: 'image/jpeg',
      created_at: Date.now(),
      job_uuid: null,
    } as never);
    const live = await fetch(
      `${service.baseUrl}/screenshot/result/01JLIVEONLY0000000000000000?key=${LIVE_KEY}`,
    );
    assert.equal(live.status, 200);
    const test = await fetch(
      `${service.baseUrl}/screenshot/result/01JLIVEONLY0000000000000000?key=${TEST_KEY}`,
    );
    assert.equal(test.status, 404);
    assert.equal(((await test.json()) as { code: string }).code, 'ERR::API::NOT_FOUND');
  });

  it('refuses __proto__ by name and answers an oversized query with a catalogue error', async () => {
    const proto = await fetch(
      `${service.baseUrl}/screenshot?key=${LIVE_KEY}&url=https%3A%2F%2Fexample.com&__proto__=x`,
    );
    assert.equal(proto.status, 400);
    const body = (await proto.json()) as { code: string; reason: string };
    assert.equal(body.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(body.reason, /Unknown parameter "__proto__"/);
    const huge = await fetch(`${service.baseUrl}/screenshot?key=${LIVE_KEY}&js=${'a'.repeat(70_000)}`);
    assert.equal(huge.status, 431);
    assert.equal(huge.headers.get('content-type'), 'application/json');
    const hugeBody = (await huge.json()) as { code: string; reason: string };
    assert.equal(hugeBody.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(hugeBody.reason, /over 64 KB/);
  });

  it('keeps the data folder private to the service user', () => {
    assert.equal(fs.statSync(service.dataDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(`${service.dataDir}/snapwire.db`).mode & 0o077, 0);
  });

  it('refuses a webhook URL with a malformed percent-escape in its userinfo at creation', async () => {
    const answer = await api(service, 'POST', '/webhooks', {
      name: 'bad-userinfo',
      url: `http://us%zzer:pw@127.0.0.1:${new URL(receiver.url).port}/hook`,
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(answer.body.reason, /percent-escape/);
  });

  it('deleting a webhook while its deliveries are in flight settles them without a foreign-key error', async () => {
    const hang = await startReceiver('127.0.0.1', { kind: 'hang' });
    try {
      const created = await api(service, 'POST', '/webhooks', {
        name: 'deleted-in-flight',
        url: hang.url,
        timeout_ms: 1_000,
      });
      assert.equal(created.status, 201);
      await hang.waitFor(1, 5_000);
      assert.equal((await api(service, 'DELETE', '/webhooks/deleted-in-flight')).status, 204);
      // The attempt in flight times out after the deletion: nothing recorded, no error logged.
      const db = service.snapwire.store.db;
      await waitUntil(
        async () => {
          const jobs = await db
            .selectFrom('jobs')
            .selectAll()
            .where('webhook_uuid', '=', created.body.webhook_uuid)
            .execute();
          return jobs.length === 0;
        },
        { what: 'the deleted webhook has no jobs' },
      );
      const attempts = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('webhook_uuid', '=', created.body.webhook_uuid)
        .execute();
      assert.equal(attempts.length, 0);
    } finally {
      await hang.close();
    }
  });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`dashboard sign-in under attack (${dialect})`, () => {
    let service: TestService;
    before(async () => {
      service = await startService(
        { SNAPWIRE_ADMIN_PASSWORD: 'correct-horse-battery-staple' },
        {},
        {
          postgres: dialect === 'postgres',
        },
      );
    });
    after(async () => service?.close());

    it('answers CR/LF in next with a redirect home, never a 500', async () => {
      const form = await fetch(`${service.baseUrl}/dashboard/login`);
      const loginCookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const token = /name="_login" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
      const response = await fetch(`${service.baseUrl}/dashboard/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
        body: new URLSearchParams({
          _login: token,
          username: 'admin',
          password: 'correct-horse-battery-staple',
          next: '/dashboard\r\nSet-Cookie: evil=1',
        }).toString(),
      });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get('location'), '/dashboard');
    });

    it('counts parallel wrong passwords atomically: the right one is refused after ten', async () => {
      const burst = await Promise.all(
        Array.from({ length: 30 }, () => signIn(service.baseUrl, 'wrong-password')),
      );
      const statuses = burst.map((attempt) => attempt.response.status);
      assert.ok(
        statuses.filter((status) => status === 401).length <= 10,
        `at most ten were checked: ${statuses}`,
      );
      assert.ok(statuses.filter((status) => status === 429).length >= 20);
      const right = await signIn(service.baseUrl);
      assert.equal(right.response.status, 429, 'the right password waits out the window too');
    });
  });
}
