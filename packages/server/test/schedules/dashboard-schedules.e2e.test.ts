import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, postForm, signIn } from '../dashboard/support.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

/** The dashboard's Schedules page: list, history, pause/resume and run now, behind sign-in and CSRF. */
describe('dashboard: schedules page', () => {
  let service: TestService;
  let receiver: Receiver;
  let scheduleId: string;

  before(async () => {
    receiver = await startReceiver('127.0.0.2');
    service = await startService({
      SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32',
      SNAPWIRE_SCHEDULER_POLL: '50ms',
    });
    const api = (path: string, body: unknown) =>
      fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await api('/webhooks', { name: 'hook', url: receiver.url })).status, 201);
    const created = await api('/screenshot/schedules', {
      // An unreachable target: the run's capture fails, which the history must show.
      screenshot_config: { url: 'http://no-such-host.test/', format: 'png' },
      webhook_name: 'hook',
      recurrence: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' },
      notes: 'weekday mornings',
    });
    assert.equal(created.status, 201);
    scheduleId = (await created.json()).id;
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
  });

  const get = (path: string, cookie?: string) =>
    fetch(`${service.baseUrl}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  it('documents the schedule routes in the OpenAPI reference', async () => {
    const document = await (await fetch(`${service.baseUrl}/openapi.json`)).json();
    for (const path of [
      '/screenshot/schedules',
      '/schedules',
      '/schedules/{id}',
      '/schedules/{id}/execute',
    ]) {
      assert.ok(document.paths[path], `${path} is documented`);
    }
    assert.match(document.paths['/screenshot/schedules'].post.summary, /schedule/i);
  });

  it('needs a session', async () => {
    const response = await get('/dashboard/schedules');
    assert.equal(response.status, 303);
    assert.match(response.headers.get('location') ?? '', /^\/dashboard\/login/);
  });

  it('lists schedules, pauses and resumes with CSRF, runs now and shows the run history', async () => {
    const { cookie, csrf } = await signIn(service.baseUrl);
    const list = await (await get('/dashboard/schedules', cookie)).text();
    assert.match(list, /weekday mornings/);
    assert.match(list, /cron 0 9 \* \* 1-5 \(Europe\/Paris\)/);
    assert.match(list, /href="\/dashboard\/schedules"[^>]*>Schedules|>Schedules</);

    const refused = await postForm(service.baseUrl, `/dashboard/schedules/${scheduleId}/pause`, {}, cookie);
    assert.equal(refused.status, 403, 'no CSRF token, no change');

    const paused = await postForm(
      service.baseUrl,
      `/dashboard/schedules/${scheduleId}/pause`,
      { _csrf: csrf },
      cookie,
    );
    assert.equal(paused.status, 303);
    const status = async () =>
      (await (await fetch(`${service.baseUrl}/schedules/${scheduleId}?key=${LIVE_KEY}`)).json()).status;
    assert.equal(await status(), 'PAUSED');
    assert.match(
      await (await get(`/dashboard/schedules/${scheduleId}`, cookie)).text(),
      /PAUSED[\s\S]*Resume/,
    );

    await postForm(service.baseUrl, `/dashboard/schedules/${scheduleId}/resume`, { _csrf: csrf }, cookie);
    assert.equal(await status(), 'ACTIVE');

    const ran = await postForm(
      service.baseUrl,
      `/dashboard/schedules/${scheduleId}/run`,
      { _csrf: csrf },
      cookie,
    );
    assert.equal(ran.status, 303);
    const history = await waitUntil(
      async () => {
        const page = await (await get(`/dashboard/schedules/${scheduleId}`, cookie)).text();
        return /failed/.test(page) ? page : undefined;
      },
      { timeoutMs: 30_000, what: 'the failed run in the history' },
    );
    assert.match(history, /manual/);
    assert.match(history, /ERR::SCRAPE::DNS_NAME_NOT_RESOLVED/);
    assert.match(history, /href="\/dashboard\/monitoring\/log\/[0-9A-Z]{26}"/);
  });
});
