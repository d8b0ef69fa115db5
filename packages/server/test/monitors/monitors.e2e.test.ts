import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '@snapwire/sdk';
import { SCREENSHOT_COST } from '../../src/accounts/plans.js';
import type { Clock } from '../../src/clock.js';
import { MonitorRunner } from '../../src/monitors/runner.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { decode } from '../helpers/images.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, TEST_KEY, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const MINUTE = 60_000;
/** Runs of the masked page that must give no change event (each run is one real capture). */
const STABLE_RUNS = Number(process.env.SNAPWIRE_MONITOR_STABLE_RUNS ?? 30);

/** A page of 800x600 whose one 80x60 box (1 % of the pixels) the test recolours, and whose text it sets. */
const page = { box: '#d62828', price: '10', extra: '' };
const watched = () => `<!doctype html><html><head><style>
  html, body { margin: 0; background: #fff; font: 16px sans-serif; }
  #box { position: absolute; left: 100px; top: 200px; width: 80px; height: 60px; background: ${page.box}; }
  p { position: absolute; left: 400px; top: 40px; margin: 0; }
</style></head><body><div id="box"></div><p>Price ${page.price} EUR per month${page.extra}</p></body></html>`;

/** A page that never looks the same twice: a clock to the millisecond and a rotating element. */
const LIVE = `<!doctype html><html><head><style>
  html, body { margin: 0; background: #fff; font: 24px monospace; }
  .clock { position: absolute; left: 20px; top: 20px; }
  .spinner { position: absolute; left: 300px; top: 200px; width: 120px; height: 40px; background: #1d3557;
    animation: spin 0.7s linear infinite; }
  @keyframes spin { to { transform: rotate(360deg); } }
  h1 { position: absolute; left: 20px; top: 400px; margin: 0; }
</style></head><body><div class="clock"></div><div class="spinner"></div><h1>Status: all good</h1>
<script>
  const tick = () => { document.querySelector('.clock').textContent = new Date().toISOString() + ' ' + performance.now().toFixed(3); };
  tick(); setInterval(tick, 7);
</script></body></html>`;

const html = (body: () => string) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body());
};

interface RunAnswer {
  id: string;
  status: string;
  changed: boolean | null;
  score: number | null;
  regions: Array<{ x: number; y: number; width: number; height: number }>;
  text_diff: { added: string[]; removed: string[]; changedWords: number } | null;
  became_baseline: boolean;
  approval: string | null;
  note: string | null;
  event_job_id: string | null;
  cost: number;
  images: { before: string | null; after: string | null; diff: string | null };
  error: { code: string; reason: string } | null;
}

/**
 * Visual change monitors end to end: a running service with real Chromium capturing pages served on
 * loopback whose content the test changes between runs, a real webhook receiver checking signatures, and
 * an injected clock for the recurrence.
 */
describe('monitors', () => {
  const clock: Clock & { time: number } = { time: Date.now(), now: () => clock.time };
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let secret: string;
  let target: string;

  const api = async (method: string, path: string, body?: unknown, key = LIVE_KEY) => {
    const response = await fetch(`${service.baseUrl}${path}${path.includes('?') ? '&' : '?'}key=${key}`, {
      method,
      ...(body !== undefined
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
        : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const create = async (input: Record<string, unknown>) => {
    const created = await api('POST', '/monitors', {
      // No wait after load (the default is 1 s): the pages are whole at load, and each run is one capture.
      screenshot_config: { resolution: '800x600', rendering_wait: 0 },
      change_threshold: 0.001,
      webhook_name: 'changes',
      ...input,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id as string;
  };
  const runNow = async (id: string): Promise<RunAnswer> => {
    const run = await api('POST', `/monitors/${id}/run`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    return run.body as unknown as RunAnswer;
  };
  /** Deliveries of monitor events received so far, for one monitor. */
  const eventsOf = (id: string) => receiver.received.filter((r) => r.headers['x-snapwire-monitor-id'] === id);

  before(async () => {
    fixtures = await startFixtureServer({
      host: '127.0.0.2',
      routes: { '/watched': html(watched), '/live': html(() => LIVE) },
    });
    receiver = await startReceiver('127.0.0.2');
    service = await startService(
      {
        SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32',
        SNAPWIRE_QUEUE_POLL: '50ms',
        SNAPWIRE_SCHEDULER_POLL: '50ms',
      },
      {},
      { clock },
    );
    target = `${fixtures.origin}/watched`;
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'changes', url: receiver.url }),
    });
    assert.equal(created.status, 201);
    secret = ((await created.json()) as { secret: string }).secret;
    await receiver.waitFor(1); // the ping
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('reports a 1 % change with its box, and delivers a signed screenshot.changed', async () => {
    page.box = '#d62828';
    const id = await create({ url: target });
    const first = await runNow(id);
    assert.equal(first.status, 'baseline');
    assert.equal(first.became_baseline, true);
    assert.equal(first.cost, SCREENSHOT_COST, 'a run costs what its capture costs');

    const unchanged = await runNow(id);
    assert.equal(unchanged.status, 'compared');
    assert.equal(unchanged.changed, false);
    assert.equal(unchanged.score, 0);

    page.box = '#1d3557';
    const changed = await runNow(id);
    assert.equal(changed.changed, true, JSON.stringify(changed));
    assert.ok(Math.abs((changed.score ?? 0) - 0.01) < 0.0005, `score ${changed.score} is about 1 %`);
    assert.deepEqual(changed.regions, [{ x: 100, y: 200, width: 80, height: 60 }]);
    assert.ok(changed.event_job_id);

    const [delivery] = await waitUntil(() => (eventsOf(id).length === 1 ? eventsOf(id) : undefined), {
      what: 'the screenshot.changed delivery',
    });
    assert.equal(delivery!.headers['x-snapwire-event'], 'screenshot.changed');
    assert.ok(
      verifySignature({
        body: delivery!.body,
        signature: String(delivery!.headers['x-scrapfly-webhook-signature']),
        secrets: secret,
      }),
      'the delivery is signed with the webhook secret',
    );
    const event = JSON.parse(delivery!.body.toString('utf8')) as Record<string, unknown> & {
      images: Record<string, string>;
    };
    assert.equal(event.type, 'screenshot.changed');
    assert.equal(event.monitor_id, id);
    assert.equal(event.run_id, changed.id);
    assert.equal(event.url, target);
    assert.equal(event.height_change, 0);
    assert.deepEqual(event.regions, [{ x: 100, y: 200, width: 80, height: 60 }]);

    // The images are served to the project's key only.
    for (const which of ['before', 'after', 'diff'] as const) {
      // The event names the service's public address; this test reaches it on its own port.
      const path = new URL(event.images[which]!).pathname;
      assert.equal(path, `/monitors/${id}/runs/${changed.id}/image/${which}`);
      const denied = await fetch(`${service.baseUrl}${path}`);
      assert.equal(denied.status, 401);
      const other = await fetch(`${service.baseUrl}${path}?key=${TEST_KEY}`);
      assert.equal(other.status, 404, 'the TEST environment does not see LIVE monitors');
      const image = await fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`);
      assert.equal(image.status, 200);
      assert.equal(image.headers.get('content-type'), 'image/png');
      const decoded = await decode(await image.arrayBuffer());
      assert.equal(decoded.width, 800);
      assert.equal(decoded.height, 600);
    }
    // The baseline moved: the same page again is no change, and no second event.
    const again = await runNow(id);
    assert.equal(again.changed, false);
    assert.equal(eventsOf(id).length, 1);
  });

  it('says what is wrong with bad input, with the catalogue', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /url/],
      [{ url: target, change_threshold: 5 }, /change_threshold/],
      [{ url: target, confirm_runs: 0 }, /confirm_runs/],
      [{ url: target, ignore: [{ x: 0, y: 0, width: 0, height: 5 }] }, /ignore\[0\]/],
      [{ url: target, screenshot_config: { format: 'pdf' } }, /pdf/],
      [{ url: target, screenshot_config: { nonsense: '1' } }, /unknown parameter "nonsense"/],
      [{ url: target, recurrence: { interval: 1, unit: 'fortnight' } }, /unit/],
    ];
    for (const [body, reason] of cases) {
      const answer = await api('POST', '/monitors', body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.code, 'ERR::MONITOR::INVALID_REQUEST', JSON.stringify(answer.body));
      assert.match(String(answer.body.message), reason);
    }
    const noWebhook = await api('POST', '/monitors', { url: target, webhook_name: 'nope' });
    assert.equal(noWebhook.status, 400, JSON.stringify(noWebhook.body));
    assert.equal(noWebhook.body.code, 'ERR::WEBHOOK::NOT_FOUND');
    const missing = await api('GET', '/monitors/no-such-id');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'ERR::MONITOR::NOT_FOUND');
  });

  it(`gives no change event over ${STABLE_RUNS} runs of a live page masked by hide_selectors, and reports it unmasked`, async () => {
    const url = `${fixtures.origin}/live`;
    // A low threshold (0.01 %, 48 pixels) on both: the masked page must still be exactly the same.
    const masked = await create({ url, hide_selectors: ['.clock', '.spinner'], change_threshold: 0.0001 });
    const baseline = await runNow(masked);
    assert.equal(baseline.status, 'baseline');
    const scores: number[] = [];
    for (let i = 0; i < STABLE_RUNS; i += 1) {
      const run = await runNow(masked);
      assert.equal(run.status, 'compared', JSON.stringify(run));
      scores.push(run.score ?? -1);
      assert.equal(run.changed, false, `run ${i + 1}: ${JSON.stringify(run)}`);
    }
    assert.deepEqual(new Set(scores), new Set([0]));
    assert.equal(eventsOf(masked).length, 0);

    const unmasked = await create({ url, change_threshold: 0.0001 });
    await runNow(unmasked);
    let changes = 0;
    for (let i = 0; i < 3; i += 1) if ((await runNow(unmasked)).changed) changes += 1;
    assert.equal(changes, 3, 'a clock and a spinner change every capture');
    await waitUntil(() => eventsOf(unmasked).length === 3, { what: 'three change events' });
  });

  it('warns on the run, without failing it, when a mask selector matches nothing', async () => {
    const id = await create({
      url: `${fixtures.origin}/live`,
      hide_selectors: ['.clock', '.no-such-banner'],
    });
    const baseline = await runNow(id);
    assert.equal(baseline.status, 'baseline');
    assert.match(baseline.note ?? '', /hide_selectors matched nothing: \.no-such-banner$/);
    const compared = await runNow(id);
    assert.equal(compared.status, 'compared', JSON.stringify(compared));
    assert.match(compared.note ?? '', /hide_selectors matched nothing: \.no-such-banner/);
    assert.doesNotMatch(compared.note ?? '', /\.clock/, 'a selector that matched is not named');
  });

  it('names the changed words with compare_text', async () => {
    page.box = '#2a9d8f';
    page.price = '10';
    const id = await create({ url: target, compare_text: true, change_threshold: 0.5 });
    await runNow(id);
    page.price = '12';
    const run = await runNow(id);
    assert.equal(run.changed, true, 'a text change is a change even under the pixel threshold');
    assert.deepEqual(run.text_diff?.removed, ['10']);
    assert.deepEqual(run.text_diff?.added, ['12']);
    const delivered = await waitUntil(() => eventsOf(id)[0]);
    const event = JSON.parse(delivered.body.toString('utf8')) as { text_diff: Record<string, unknown> };
    assert.deepEqual(event.text_diff.added, ['12']);
    assert.deepEqual(event.text_diff.removed, ['10']);
  });

  it('holds the baseline until a change is approved, and keeps it when one is rejected', async () => {
    page.box = '#e9c46a';
    page.price = '10';
    const id = await create({ url: target, require_approval: true });
    await runNow(id);
    page.box = '#264653';
    const pending = await runNow(id);
    assert.equal(pending.changed, true);
    assert.equal(pending.approval, 'pending');
    assert.equal(pending.became_baseline, false);
    const first = await waitUntil(() => eventsOf(id)[0]);
    assert.equal(
      (JSON.parse(first.body.toString('utf8')) as { awaiting_approval: boolean }).awaiting_approval,
      true,
    );

    // While it waits: still compared with the old baseline, no second event.
    const waiting = await runNow(id);
    assert.equal(waiting.changed, true);
    assert.equal(waiting.approval, null);
    assert.match(String(waiting.note), /awaits approval/);
    const notPending = await api('POST', `/monitors/${id}/runs/${waiting.id}/approve`);
    assert.equal(notPending.status, 409);
    assert.equal(notPending.body.code, 'ERR::MONITOR::INVALID_STATE');

    const approved = await api('POST', `/monitors/${id}/runs/${pending.id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.approval, 'approved');
    assert.equal((await runNow(id)).changed, false, 'the approved capture is the baseline');

    page.box = '#f4a261';
    const second = await runNow(id);
    assert.equal(second.approval, 'pending');
    const rejected = await api('POST', `/monitors/${id}/runs/${second.id}/reject`);
    assert.equal(rejected.body.approval, 'rejected');
    const monitor = await api('GET', `/monitors/${id}`);
    assert.equal(monitor.body.baseline_run_id, approved.body.id);
    assert.equal(monitor.body.pending_run_id, null);
    const after = await runNow(id);
    assert.equal(after.changed, true, 'the baseline stayed: the page still differs from it');
    assert.equal(after.approval, 'pending');
    await waitUntil(() => eventsOf(id).length === 3, { what: 'an event per confirmed change' });
  });

  it('with confirm_runs=2 absorbs a one-run flake and reports a change seen twice', async () => {
    page.box = '#8ecae6';
    const id = await create({ url: target, confirm_runs: 2 });
    await runNow(id);
    page.box = '#023047';
    const flake = await runNow(id);
    assert.equal(flake.changed, true);
    assert.equal(flake.event_job_id, null);
    assert.match(String(flake.note), /1 of the 2 runs/);
    page.box = '#8ecae6';
    assert.equal((await runNow(id)).changed, false);
    assert.equal((await api('GET', `/monitors/${id}`)).body.unconfirmed_changes, 0);

    page.box = '#ffb703';
    assert.equal((await runNow(id)).event_job_id, null);
    const confirmed = await runNow(id);
    assert.ok(confirmed.event_job_id, JSON.stringify(confirmed));
    assert.equal(confirmed.became_baseline, true);
    await waitUntil(() => eventsOf(id).length === 1);
    assert.equal(eventsOf(id).length, 1);
  });

  it('records a failed capture without comparing, and starts a new baseline when the old one is gone', async () => {
    const id = await create({ url: 'http://nowhere.test/' });
    const failed = await runNow(id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED');
    assert.equal(failed.changed, null);
    assert.equal(failed.event_job_id, null);

    page.box = '#6a4c93';
    const kept = await create({ url: target });
    await runNow(kept);
    // The baseline's blob gone (a lost bucket, an operator's clean-up): its key names nothing stored.
    await service.snapwire.store.db
      .updateTable('monitors')
      .set({ baseline_blob: 'f'.repeat(64) })
      .where('id', '=', kept)
      .execute();
    const fresh = await runNow(kept);
    assert.equal(fresh.status, 'baseline');
    assert.match(String(fresh.note), /no longer in the blob store/);
  });

  it('runs on its recurrence with the injected clock, once however many runners look', async () => {
    page.box = '#3a86ff';
    const id = await create({ url: target, recurrence: { interval: 1, unit: 'minute' } });
    const monitor = await api('GET', `/monitors/${id}`);
    assert.ok(monitor.body.next_run_at);
    // A second runner on the same store, as a second node would run.
    const { services } = service.snapwire;
    const other = new MonitorRunner(
      {
        db: service.snapwire.store.db,
        dialect: service.snapwire.store.dialect,
        screenshots: services.screenshots,
        projects: services.projects,
        blobs: services.blobs,
        webhooks: services.webhooks,
        queue: services.queue,
        clock,
        logger: services.logger,
        wakeDeliveries: () => services.worker.wake(),
      },
      { pollMs: 50, maxTimeoutMs: services.settings.maxTimeoutMs, publicUrl: services.settings.publicUrl },
    );
    clock.time += MINUTE + 1_000;
    await Promise.all([other.tick(), other.tick(), services.monitorRunner.tick()]);
    const runs = await waitUntil(async () => {
      const answer = await api('GET', `/monitors/${id}/runs`);
      const list = answer.body as unknown as RunAnswer[];
      return list.length >= 1 && list.every((r) => r.status === 'baseline' || r.status === 'compared')
        ? list
        : undefined;
    });
    assert.equal(runs.length, 1, 'one instant, one run');
    await api('POST', `/monitors/${id}/pause`);
    clock.time += 5 * MINUTE;
    await services.monitorRunner.tick();
    assert.equal(((await api('GET', `/monitors/${id}/runs`)).body as unknown as RunAnswer[]).length, 1);
    const deleted = await api('DELETE', `/monitors/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await api('GET', `/monitors/${id}`)).status, 404);
  });
});
