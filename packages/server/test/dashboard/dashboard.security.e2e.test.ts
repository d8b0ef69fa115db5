import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, screenshot, startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD, postForm, signIn } from './support.js';

const ALLOWED = '127.0.0.2';

const GET_ROUTES = [
  '/dashboard',
  '/dashboard/',
  '/dashboard/logs',
  '/dashboard/logs?outcome=failure',
  '/dashboard/webhooks',
  '/dashboard/webhooks/00000000-0000-0000-0000-000000000000',
  '/dashboard/projects',
  '/dashboard/crawls',
  '/dashboard/crawls/00000000-0000-0000-0000-000000000000',
  '/dashboard/monitoring/log/01JAAAAAAAAAAAAAAAAAAAAAAA',
  '/dashboard/monitoring/log/01JAAAAAAAAAAAAAAAAAAAAAAA/image',
  '/dashboard/jobs/x/payload',
  '/dashboard/audit',
  '/dashboard/audit/export?format=csv',
  '/dashboard/sessions',
  '/dashboard/two-factor',
  '/dashboard/no-such-page',
];
const POST_ROUTES = [
  '/dashboard/logout',
  '/dashboard/webhooks',
  '/dashboard/webhooks/x/enable',
  '/dashboard/webhooks/x/disable',
  '/dashboard/webhooks/x/ping',
  '/dashboard/webhooks/x/reveal',
  '/dashboard/webhooks/x/rotate',
  '/dashboard/webhooks/x/delete',
  '/dashboard/webhooks/x/edit',
  '/dashboard/jobs/x/replay',
  '/dashboard/crawls/x/cancel',
  '/dashboard/projects',
  '/dashboard/projects/default/rotate-key',
  '/dashboard/projects/default/plan',
  '/dashboard/sessions/revoke',
  '/dashboard/sessions/revoke-others',
  '/dashboard/sessions/revoke-user',
  '/dashboard/two-factor/enrol',
  '/dashboard/two-factor/confirm',
  '/dashboard/two-factor/disable',
];

describe('dashboard security: sessions, CSRF, project isolation by key', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({ host: ALLOWED });
    receiver = await startReceiver(ALLOWED);
    service = await startService({
      SNAPWIRE_ALLOWED_NETWORKS: `${ALLOWED}/32`,
      SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SNAPWIRE_QUEUE_POLL: '100ms',
    });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await receiver?.close();
  });

  it('redirects every dashboard GET route without a session to the sign-in page', async () => {
    for (const path of GET_ROUTES) {
      const response = await fetch(`${service.baseUrl}${path}`, { redirect: 'manual' });
      assert.equal(response.status, 303, `${path} answers 303 without a session`);
      assert.match(response.headers.get('location') ?? '', /^\/dashboard\/login/, `${path} goes to sign-in`);
    }
    const forged = await fetch(`${service.baseUrl}/dashboard/projects`, {
      redirect: 'manual',
      headers: { cookie: 'snapwire_session=forged-session-id' },
    });
    assert.equal(forged.status, 303, 'a made-up session id is no session');
  });

  it('redirects every dashboard POST route without a session and changes nothing', async () => {
    const before = (await service.snapwire.services.projects.list()).length;
    for (const path of POST_ROUTES) {
      const response = await postForm(service.baseUrl, path, { name: 'intruder', plan: 'PRO', env: 'LIVE' });
      assert.equal(response.status, 303, `${path} answers 303 without a session`);
      assert.match(response.headers.get('location') ?? '', /^\/dashboard\/login/, `${path} goes to sign-in`);
    }
    assert.equal((await service.snapwire.services.projects.list()).length, before, 'no project was created');
  });

  it('signs in with the admin password into an HttpOnly SameSite=Lax cookie, and refuses a wrong one', async () => {
    const wrong = await signIn(service.baseUrl, 'not-the-password');
    assert.equal(wrong.response.status, 401, 'a wrong password is refused');
    assert.equal(wrong.cookie, '', 'no session for a wrong password');
    const { response, setCookie, cookie, csrf } = await signIn(service.baseUrl);
    assert.equal(response.status, 303, 'the right password signs in');
    assert.match(setCookie, /HttpOnly/, 'the session cookie is HttpOnly');
    assert.match(setCookie, /SameSite=Lax/, 'the session cookie is SameSite=Lax');
    assert.doesNotMatch(setCookie, /Secure/, 'no Secure flag on an http public URL');
    assert.ok(csrf.length > 20, 'pages carry a CSRF token');
    const page = await fetch(`${service.baseUrl}/dashboard/projects`, { headers: { cookie } });
    assert.equal(page.status, 200, 'the session opens the dashboard');
    assert.match(await page.text(), /Projects &amp; keys/, 'the projects page renders');
  });

  it('refuses the sign-in form without its double-submit token', async () => {
    const response = await postForm(service.baseUrl, '/dashboard/login', {
      username: 'admin',
      password: ADMIN_PASSWORD,
    });
    assert.equal(response.status, 403, 'sign-in without the form token is refused');
    assert.equal(
      response.headers.getSetCookie().filter((c) => c.startsWith('snapwire_session=')).length,
      0,
      'no session cookie',
    );
  });

  it('refuses every POST without the session CSRF token or with another one', async () => {
    const { cookie, csrf } = await signIn(service.baseUrl);
    const other = await signIn(service.baseUrl);
    assert.notEqual(csrf, other.csrf, 'each session has its own CSRF token');
    const before = (await service.snapwire.services.projects.list()).length;
    for (const path of POST_ROUTES) {
      for (const fields of [
        {} as Record<string, string>,
        { _csrf: '' },
        { _csrf: other.csrf },
        { _csrf: `${csrf}x` },
      ]) {
        const response = await postForm(
          service.baseUrl,
          path,
          { name: 'csrf-victim', plan: 'PRO', ...fields },
          cookie,
        );
        assert.equal(response.status, 403, `${path} with ${JSON.stringify(Object.keys(fields))} is refused`);
      }
    }
    assert.equal((await service.snapwire.services.projects.list()).length, before, 'no project was created');
    const ok = await postForm(
      service.baseUrl,
      '/dashboard/projects',
      { name: 'with-token', plan: 'PRO', _csrf: csrf },
      cookie,
    );
    assert.equal(ok.status, 200, 'the same post with the token works');
    assert.match(await ok.text(), /shown this once/, 'the new keys are revealed once');
  });

  it('signs out: the session stops working', async () => {
    const { cookie, csrf } = await signIn(service.baseUrl);
    const out = await postForm(service.baseUrl, '/dashboard/logout', { _csrf: csrf }, cookie);
    assert.equal(out.status, 303, 'sign-out redirects');
    const after = await fetch(`${service.baseUrl}/dashboard`, { redirect: 'manual', headers: { cookie } });
    assert.equal(after.status, 303, 'the old session cookie no longer opens the dashboard');
  });

  it('keeps the dashboard out of the API reference, and lists the monitoring endpoints', async () => {
    const doc = (await (await fetch(`${service.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(doc.paths);
    assert.equal(
      paths.filter((p) => p.startsWith('/dashboard')).length,
      0,
      `no dashboard path in ${paths.join(' ')}`,
    );
    assert.ok(paths.includes('/screenshot/monitoring/metrics'), 'the metrics endpoint is documented');
    assert.ok(paths.includes('/screenshot/monitoring/metrics/target'), 'the target endpoint is documented');
  });

  // Before the sign-in throttle test below, which uses up this address's sign-ins.
  it('the new-project form defaults to the plan `snapwire projects create` gives (SNAPWIRE_DEFAULT_PLAN)', async () => {
    const { cookie } = await signIn(service.baseUrl);
    const page = await (await fetch(`${service.baseUrl}/dashboard/projects`, { headers: { cookie } })).text();
    const form = page.slice(page.indexOf('id="new-project"'));
    const chosen = /<option value="([A-Z]+)"\s+selected/.exec(form.slice(0, form.indexOf('</form>')))?.[1];
    assert.equal(chosen, service.snapwire.services.settings.defaultPlan);
    assert.equal(chosen, 'UNLIMITED');
  });

  it('slows password guessing: 429 after ten wrong passwords', async () => {
    let last = 0;
    for (let attempt = 0; attempt < 11; attempt += 1) {
      last = (await signIn(service.baseUrl, `guess-${attempt}`)).response.status;
    }
    assert.equal(last, 429, 'the eleventh guess is refused before checking');
    const right = await signIn(service.baseUrl);
    assert.equal(right.response.status, 429, 'even the right password waits out the window');
  });

  it("refuses reading another project's logs, images, webhooks and jobs by key", async () => {
    const { keys } = await service.snapwire.services.projects.create('other', 'PRO');
    const otherKey = keys.LIVE;
    const shot = await screenshot(service.baseUrl, {
      key: otherKey,
      url: `${fixtures.origin}/solid`,
      format: 'png',
      resolution: '320x240',
      rendering_wait: '0',
    });
    assert.equal(shot.status, 200, 'the other project takes a screenshot');
    const logUuid = shot.headers.get('x-scrapfly-log-uuid') ?? '';
    assert.ok(logUuid, 'it has a log uuid');
    const own = await fetch(`${service.baseUrl}/screenshot/result/${logUuid}?key=${otherKey}`);
    assert.equal(own.status, 200, 'its own key reads its image');

    const created = await fetch(`${service.baseUrl}/webhooks?key=${otherKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'theirs', url: receiver.url }),
    });
    assert.equal(created.status, 201, 'the other project creates a webhook');
    const webhook = (await created.json()) as { webhook_uuid: string };
    await receiver.waitFor(1);
    const async = await screenshot(service.baseUrl, {
      key: otherKey,
      url: `${fixtures.origin}/solid`,
      format: 'png',
      resolution: '320x240',
      rendering_wait: '0',
      webhook_name: 'theirs',
    });
    assert.equal(async.status, 201, 'an asynchronous job of the other project');
    const { job_uuid: jobUuid } = (await async.json()) as { job_uuid: string };

    const reads: Array<[string, string]> = [
      ['GET', `/screenshot/result/${logUuid}`],
      ['GET', `/webhooks/${webhook.webhook_uuid}`],
      ['GET', `/webhooks/theirs`],
      ['GET', `/webhooks/theirs/deliveries`],
      ['GET', `/webhooks/jobs/${jobUuid}`],
      ['POST', `/webhooks/jobs/${jobUuid}/replay`],
      ['POST', `/webhooks/theirs/ping`],
      ['POST', `/webhooks/theirs/rotate-secret`],
      ['PATCH', `/webhooks/theirs`],
      ['DELETE', `/webhooks/theirs`],
    ];
    for (const [method, path] of reads) {
      const response = await fetch(
        `${service.baseUrl}${path}${path.includes('?') ? '&' : '?'}key=${LIVE_KEY}`,
        {
          method,
          ...(method === 'PATCH' || method === 'POST'
            ? { headers: { 'content-type': 'application/json' }, body: '{}' }
            : {}),
        },
      );
      const text = await response.text();
      assert.equal(
        response.status,
        404,
        `${method} ${path} by the default project's key is not found: ${text}`,
      );
      assert.doesNotMatch(text, /"secret"/, `${method} ${path} leaks no secret`);
    }
    const list = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`);
    assert.doesNotMatch(
      await list.text(),
      /theirs/,
      "the default project's list does not show the other's webhook",
    );
    const still = await fetch(`${service.baseUrl}/webhooks/theirs?key=${otherKey}`);
    assert.equal(still.status, 200, 'the webhook is still there for its owner');
  });
});

describe('dashboard admin account', () => {
  it('generates a password at the first start only, hashes it with scrypt, and applies SNAPWIRE_ADMIN_PASSWORD', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { openStore, migrateToLatest } = await import('../../src/store/database.js');
    const { DashboardAuth } = await import('../../src/dashboard/auth.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-dash-'));
    const store = await openStore({ dataDir: dir });
    try {
      await migrateToLatest(store);
      const db = store.db;
      const auth = new DashboardAuth(db, { now: () => Date.now() }, 60_000);
      const generated = await auth.ensureAdmin(undefined);
      assert.ok(generated && generated.length >= 20, 'a generated password is returned to be printed');
      assert.equal(await auth.ensureAdmin(undefined), undefined, 'not again at the next start');
      const row = await db.selectFrom('dashboard_users').selectAll().executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$/, 'stored as an scrypt hash');
      assert.ok(!row.password_hash.includes(generated), 'never in clear');
      const session = await auth.signIn('admin', generated);
      assert.ok(session, 'the generated password signs in');
      await auth.ensureAdmin('a-new-configured-password');
      assert.equal(await auth.session(session.id), undefined, 'changing the password ends open sessions');
      assert.equal(await auth.signIn('admin', generated), undefined, 'the old password stops working');
      assert.ok(await auth.signIn('admin', 'a-new-configured-password'), 'the configured one works');
      const stored = await db.selectFrom('dashboard_sessions').select('id_hash').execute();
      assert.ok(
        stored.every((s) => /^[0-9a-f]{64}$/.test(s.id_hash)),
        'only session id hashes are stored',
      );
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
