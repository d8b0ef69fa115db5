// One security suite over the registered route table (http/auth.ts records it): every route declares who
// may call it, and every key route is tried with no key, a wrong key, a TEST key on LIVE data and another
// project's key; every session route without a session (and its POSTs without the CSRF token). A route
// added without a case here fails the coverage test, so a new route is covered the day it is added.
// Issue 18 item 2 (a TEST key read LIVE logs through GET /screenshot/logs/{uuid} and MCP get_log) is
// replayed below. The model: unkey's shared role tests, one table of cases run the same way for each route.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type InjectOptions, type LightMyRequestResponse } from 'fastify';
import type { ProjectService } from '../../src/accounts/projects.js';
import { installAuthGate, registeredRoutes, withRouteAuth, type RouteAuth } from '../../src/http/auth.js';
import metricsRoute from '../../src/http/routes/metrics.js';
import type { Services } from '../../src/services.js';
import { ADMIN_PASSWORD, signIn } from '../dashboard/support.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

const WRONG_KEY = 'scp-live-wrong-000000000000000000000000';

/** What was made with the LIVE key before the suite runs: the data no other key may reach. */
interface LiveData {
  logUuid: string;
  /** A render_js scrape with screenshots[top]=viewport. */
  scrapeLogUuid: string;
  largeScrapeLogUuid: string;
  webhook: string;
  jobUuid: string;
  scheduleId: string;
  pageUrl: string;
  receiverUrl: string;
  /** A saved extraction template of LIVE's. */
  templateName: string;
  crawlUuid: string;
  /** A monitor of LIVE's and its first run (the baseline capture). */
  monitorId: string;
  monitorRunId: string;
}

type Who = 'TEST key' | "another project's key";

interface KeyCase {
  /** The request, addressing the LIVE data; the key is added as `?key=` (or a bearer token). */
  request(live: LiveData): { path: string; query?: Record<string, string>; body?: unknown };
  /**
   * What a key of another environment or project gets: 404 (that resource is not theirs), or a check that
   * the answer holds none of LIVE's data.
   */
  foreign: 'not found' | ((response: LightMyRequestResponse, live: LiveData, who: Who) => void);
  /** Read-only routes: what the LIVE key (the owner) gets, so that the 404s above mean something. */
  owner?: (response: LightMyRequestResponse, live: LiveData) => void;
  /** The key may also travel as Authorization: Bearer. */
  bearer?: boolean;
  /** The LIVE resource is a webhook named in the request (Scrapfly's 400 ERR::WEBHOOK::NOT_FOUND). */
  unknownWebhook?: boolean;
}

const json = (response: LightMyRequestResponse) => JSON.parse(response.body) as Record<string, unknown>;
const status = (expected: number) => (response: LightMyRequestResponse) =>
  assert.equal(response.statusCode, expected, response.body.slice(0, 300));
const hasNone = (needle: string) => (response: LightMyRequestResponse, _live: LiveData, who: Who) => {
  assert.equal(response.statusCode, 200, response.body.slice(0, 300));
  assert.ok(!response.body.includes(needle), `${who} sees ${needle}: ${response.body.slice(0, 300)}`);
};
const has = (needle: (live: LiveData) => string) => (response: LightMyRequestResponse, live: LiveData) => {
  assert.equal(response.statusCode, 200, response.body.slice(0, 300));
  assert.ok(response.body.includes(needle(live)), `the owner sees ${needle(live)}`);
};
/** A JSON-RPC call of the MCP tool get_log. */
const getLogCall = (logUuid: string) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'get_log', arguments: { log_uuid: logUuid } },
});
const toolResult = (response: LightMyRequestResponse) => {
  assert.equal(response.statusCode, 200, response.body.slice(0, 300));
  const { result } = json(response) as { result: { isError?: boolean; content: Array<{ text?: string }> } };
  return { isError: result.isError === true, text: result.content.map((c) => c.text ?? '').join('\n') };
};

/** Every key route, by `METHOD url` as registered (HEAD routes run their GET's case). */
const KEY_ROUTES: Record<string, KeyCase> = {
  'GET /screenshot': {
    // Asynchronous to the LIVE webhook: another environment has no such webhook.
    request: (live) => ({ path: '/screenshot', query: { url: live.pageUrl, webhook_name: live.webhook } }),
    foreign: 'not found',
    unknownWebhook: true,
  },
  'POST /extraction': {
    // The document is the caller's own body: nothing of LIVE's is read, whoever calls.
    request: () => ({
      path: '/extraction',
      query: {
        content_type: 'text/html',
        extraction_template: `ephemeral:${Buffer.from(JSON.stringify({ selectors: [{ name: 'h', type: 'css', query: 'h1::text' }] })).toString('base64url')}`,
      },
      body: '<h1>mine</h1>',
    }),
    foreign: (response) => {
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      assert.deepEqual(json(response).data, { h: 'mine' });
    },
    owner: (response) => assert.deepEqual(json(response).data, { h: 'mine' }),
  },
  'POST /extraction/templates': {
    // A new template of the caller's own: another key's name space is its own, LIVE's stays as it was.
    request: () => ({
      path: '/extraction/templates',
      body: { name: 'probe', template: { selectors: [{ name: 'h', type: 'css', query: 'h1' }] } },
    }),
    foreign: (response) => assert.equal(response.statusCode, 201, response.body.slice(0, 300)),
  },
  'GET /extraction/templates': {
    request: () => ({ path: '/extraction/templates' }),
    foreign: (response, live, who) => hasNone(live.templateName)(response, live, who),
    owner: has((live) => live.templateName),
  },
  'GET /extraction/templates/:name': {
    request: (live) => ({ path: `/extraction/templates/${live.templateName}` }),
    foreign: 'not found',
    owner: has((live) => live.templateName),
  },
  'PUT /extraction/templates/:name': {
    // Another key saves under its own name space (201: a new template there); LIVE's is unchanged.
    request: (live) => ({
      path: `/extraction/templates/${live.templateName}`,
      body: { template: { selectors: [{ name: 'stranger', type: 'css', query: 'p' }] } },
    }),
    foreign: (response) => assert.equal(response.statusCode, 201, response.body.slice(0, 300)),
  },
  'DELETE /extraction/templates/:name': {
    // Only the caller's own template of that name goes (the one its PUT above saved, else none: 404);
    // LIVE's stays (checked by "as their owner left them" below).
    request: (live) => ({ path: `/extraction/templates/${live.templateName}` }),
    foreign: (response) => assert.ok([204, 404].includes(response.statusCode), response.body.slice(0, 300)),
  },
  'POST /crawl': {
    // Starting is allowed: the new crawl is the caller's own, another uuid than LIVE's. Its page is on
    // another host: a crawl's pages are log rows, and the metrics checks look for fixtures.test in the
    // other keys' data.
    request: (live) => ({
      path: '/crawl',
      body: { url: live.pageUrl.replace('//fixtures.test:', '//crawl-only.test:'), page_limit: 1 },
    }),
    foreign: (response, live) => {
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      const uuid = json(response).crawler_uuid;
      assert.equal(typeof uuid, 'string');
      assert.notEqual(uuid, live.crawlUuid);
    },
  },
  'GET /crawl/:uuid/status': {
    request: (live) => ({ path: `/crawl/${live.crawlUuid}/status` }),
    foreign: 'not found',
    owner: has((live) => live.crawlUuid),
  },
  'GET /crawl/:uuid/urls': {
    request: (live) => ({ path: `/crawl/${live.crawlUuid}/urls` }),
    foreign: 'not found',
    owner: status(200),
  },
  'GET /crawl/:uuid/contents': {
    request: (live) => ({ path: `/crawl/${live.crawlUuid}/contents`, query: { formats: 'html' } }),
    foreign: 'not found',
    owner: status(200),
  },
  'POST /crawl/:uuid/contents/batch': {
    request: (live) => ({
      path: `/crawl/${live.crawlUuid}/contents/batch`,
      query: { formats: 'html' },
      body: live.pageUrl,
    }),
    foreign: 'not found',
  },
  'GET /crawl/:uuid/artifact': {
    request: (live) => ({ path: `/crawl/${live.crawlUuid}/artifact`, query: { type: 'warc' } }),
    foreign: 'not found',
    owner: status(200),
  },
  'POST /crawl/:uuid/cancel': {
    request: (live) => ({ path: `/crawl/${live.crawlUuid}/cancel` }),
    foreign: 'not found',
  },
  'DELETE /crawl/:uuid': {
    request: (live) => ({ path: `/crawl/${live.crawlUuid}` }),
    foreign: 'not found',
  },
  'GET /screenshot/result/:logUuid': {
    request: (live) => ({ path: `/screenshot/result/${live.logUuid}` }),
    foreign: 'not found',
    owner: status(200),
  },
  'GET /screenshot/compare': {
    request: (live) => ({ path: '/screenshot/compare', query: { base: live.logUuid, head: live.logUuid } }),
    foreign: 'not found',
    owner: (response) => {
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      assert.equal(json(response).changed, false);
    },
  },
  'GET /screenshot/compare/diff': {
    request: (live) => ({
      path: '/screenshot/compare/diff',
      query: { base: live.logUuid, head: live.logUuid },
    }),
    foreign: 'not found',
    owner: (response) => {
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      assert.equal(response.headers['content-type'], 'image/png');
    },
  },
  'GET /scrape/screenshot/:logUuid/:name': {
    request: (live) => ({ path: `/scrape/screenshot/${live.scrapeLogUuid}/top` }),
    foreign: 'not found',
    owner: (response) => {
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      assert.equal(response.headers['content-type'], 'image/jpeg');
    },
  },
  'GET /scrape/content/:logUuid': {
    request: (live) => ({ path: `/scrape/content/${live.largeScrapeLogUuid}` }),
    foreign: 'not found',
    owner: (response) => {
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      assert.equal(response.headers['content-type'], 'text/plain; charset=utf-8');
      assert.ok(response.body.length > 1024);
    },
  },
  'GET /screenshot/logs': {
    request: () => ({ path: '/screenshot/logs' }),
    foreign: (response, live, who) => hasNone(live.logUuid)(response, live, who),
    owner: has((live) => live.logUuid),
  },
  'GET /screenshot/logs/:logUuid': {
    request: (live) => ({ path: `/screenshot/logs/${live.logUuid}` }),
    foreign: 'not found',
    owner: has((live) => live.logUuid),
  },
  'GET /screenshot/monitoring/metrics': {
    request: () => ({ path: '/screenshot/monitoring/metrics', query: { aggregation: 'account,target' } }),
    foreign: (response, live, who) => hasNone('fixtures.test')(response, live, who),
    owner: has(() => 'fixtures.test'),
  },
  'GET /screenshot/monitoring/metrics/target': {
    request: () => ({ path: '/screenshot/monitoring/metrics/target', query: { domain: 'fixtures.test' } }),
    foreign: (response) => {
      assert.equal(response.statusCode, 200);
      assert.equal((json(response).metrics as { requests: { total: number } }).requests.total, 0);
    },
    owner: (response) => {
      assert.equal(response.statusCode, 200);
      assert.ok((json(response).metrics as { requests: { total: number } }).requests.total > 0);
    },
  },
  'GET /account': {
    request: () => ({ path: '/account' }),
    // The answer is the caller's own project and environment.
    foreign: (response, _live, who) => {
      assert.equal(response.statusCode, 200);
      const project = json(response).project as { name: string; env: string };
      assert.deepEqual(
        [project.name, project.env],
        who === 'TEST key' ? ['default', 'TEST'] : ['other', 'LIVE'],
      );
    },
    owner: status(200),
  },
  'POST /webhooks': {
    // Creating is allowed: the new webhook is the caller's; checked below not to reach LIVE.
    request: (live) => ({ path: '/webhooks', body: { name: 'probe', url: live.receiverUrl } }),
    foreign: (response) => {
      assert.equal(response.statusCode, 201, response.body.slice(0, 300));
      assert.equal(json(response).name, 'probe');
    },
  },
  'GET /webhooks': {
    request: () => ({ path: '/webhooks' }),
    foreign: (response, live, who) => hasNone(live.webhook)(response, live, who),
    owner: has((live) => live.webhook),
  },
  'GET /webhooks/:name': {
    request: (live) => ({ path: `/webhooks/${live.webhook}`, query: { reveal_secret: 'true' } }),
    foreign: 'not found',
    owner: status(200),
  },
  'PATCH /webhooks/:name': {
    request: (live) => ({ path: `/webhooks/${live.webhook}`, body: { enabled: false } }),
    foreign: 'not found',
  },
  'DELETE /webhooks/:name': {
    request: (live) => ({ path: `/webhooks/${live.webhook}` }),
    foreign: 'not found',
  },
  'POST /webhooks/:name/enable': {
    request: (live) => ({ path: `/webhooks/${live.webhook}/enable` }),
    foreign: 'not found',
  },
  'POST /webhooks/:name/rotate-secret': {
    request: (live) => ({ path: `/webhooks/${live.webhook}/rotate-secret` }),
    foreign: 'not found',
  },
  'POST /webhooks/:name/ping': {
    request: (live) => ({ path: `/webhooks/${live.webhook}/ping` }),
    foreign: 'not found',
  },
  'GET /webhooks/:name/deliveries': {
    request: (live) => ({ path: `/webhooks/${live.webhook}/deliveries` }),
    foreign: 'not found',
    owner: status(200),
  },
  'GET /webhooks/jobs/:job': {
    request: (live) => ({ path: `/webhooks/jobs/${live.jobUuid}` }),
    foreign: 'not found',
    owner: has((live) => live.jobUuid),
  },
  'POST /webhooks/jobs/:job/replay': {
    request: (live) => ({ path: `/webhooks/jobs/${live.jobUuid}/replay` }),
    foreign: 'not found',
  },
  'POST /screenshot/schedules': {
    // To the LIVE webhook: another environment has no such webhook.
    request: (live) => ({
      path: '/screenshot/schedules',
      body: {
        screenshot_config: { url: live.pageUrl },
        webhook_name: live.webhook,
        scheduled_date: '2099-01-01T00:00:00Z',
      },
    }),
    foreign: 'not found',
    unknownWebhook: true,
  },
  'POST /scrape/schedules': {
    request: (live) => ({
      path: '/scrape/schedules',
      body: {
        scrape_config: { url: live.pageUrl },
        webhook_name: live.webhook,
        scheduled_date: '2099-01-01T00:00:00Z',
      },
    }),
    foreign: 'not found',
    unknownWebhook: true,
  },
  'POST /crawl/schedules': {
    request: (live) => ({
      path: '/crawl/schedules',
      body: {
        crawler_config: { url: live.pageUrl },
        webhook_name: live.webhook,
        scheduled_date: '2099-01-01T00:00:00Z',
      },
    }),
    foreign: 'not found',
    unknownWebhook: true,
  },
  'GET /crawl/schedules': {
    // The owner's schedule is a screenshot schedule: no crawler schedule of anyone's is listed to a stranger.
    request: () => ({ path: '/crawl/schedules' }),
    foreign: (response, live, who) => hasNone(live.scheduleId)(response, live, who),
  },
  'GET /scrape/schedules': {
    // The owner's schedule is a screenshot schedule: no scrape schedule of anyone's is listed to a stranger.
    request: () => ({ path: '/scrape/schedules' }),
    foreign: (response, live, who) => hasNone(live.scheduleId)(response, live, who),
  },
  'GET /screenshot/schedules': {
    request: () => ({ path: '/screenshot/schedules' }),
    foreign: (response, live, who) => hasNone(live.scheduleId)(response, live, who),
    owner: has((live) => live.scheduleId),
  },
  'GET /schedules': {
    request: () => ({ path: '/schedules' }),
    foreign: (response, live, who) => hasNone(live.scheduleId)(response, live, who),
    owner: has((live) => live.scheduleId),
  },
  'GET /schedules/:id': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}` }),
    foreign: 'not found',
    owner: has((live) => live.scheduleId),
  },
  'PATCH /schedules/:id': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}`, body: { notes: 'changed by a stranger' } }),
    foreign: 'not found',
  },
  'DELETE /schedules/:id': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}` }),
    foreign: 'not found',
  },
  'POST /schedules/:id/pause': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}/pause` }),
    foreign: 'not found',
  },
  'POST /schedules/:id/resume': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}/resume` }),
    foreign: 'not found',
  },
  'POST /schedules/:id/execute': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}/execute` }),
    foreign: 'not found',
  },
  'GET /schedules/:id/runs': {
    request: (live) => ({ path: `/schedules/${live.scheduleId}/runs` }),
    foreign: 'not found',
    owner: status(200),
  },
  'POST /monitors': {
    // To the LIVE webhook: another environment has no such webhook.
    request: (live) => ({ path: '/monitors', body: { url: live.pageUrl, webhook_name: live.webhook } }),
    foreign: 'not found',
    unknownWebhook: true,
  },
  'GET /monitors': {
    request: () => ({ path: '/monitors' }),
    foreign: (response, live, who) => hasNone(live.monitorId)(response, live, who),
    owner: has((live) => live.monitorId),
  },
  'GET /monitors/:id': {
    request: (live) => ({ path: `/monitors/${live.monitorId}` }),
    foreign: 'not found',
    owner: has((live) => live.monitorId),
  },
  'PATCH /monitors/:id': {
    request: (live) => ({ path: `/monitors/${live.monitorId}`, body: { change_threshold: 0.5 } }),
    foreign: 'not found',
  },
  'DELETE /monitors/:id': {
    request: (live) => ({ path: `/monitors/${live.monitorId}` }),
    foreign: 'not found',
  },
  'POST /monitors/:id/pause': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/pause` }),
    foreign: 'not found',
  },
  'POST /monitors/:id/resume': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/resume` }),
    foreign: 'not found',
  },
  'POST /monitors/:id/run': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/run` }),
    foreign: 'not found',
  },
  'GET /monitors/:id/runs': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/runs` }),
    foreign: 'not found',
    owner: has((live) => live.monitorRunId),
  },
  'POST /monitors/:id/runs/:run/approve': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/runs/${live.monitorRunId}/approve` }),
    foreign: 'not found',
  },
  'POST /monitors/:id/runs/:run/reject': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/runs/${live.monitorRunId}/reject` }),
    foreign: 'not found',
  },
  'GET /monitors/:id/runs/:run/image/:which': {
    request: (live) => ({ path: `/monitors/${live.monitorId}/runs/${live.monitorRunId}/image/after` }),
    foreign: 'not found',
    owner: status(200),
  },
  // A scrape reads no stored data: another key's scrape is its own (its own log row, its own credits).
  ...Object.fromEntries(
    ['GET', 'POST', 'PUT', 'PATCH'].map((method): [string, KeyCase] => [
      `${method} /scrape`,
      {
        request: (live) => ({ path: '/scrape', query: { url: live.pageUrl } }),
        foreign: (response) => {
          assert.equal(response.statusCode, 200, response.body.slice(0, 300));
          assert.equal((json(response).result as { success: boolean }).success, true);
        },
      },
    ]),
  ),
  'POST /mcp': {
    // The MCP tools call this API with the caller's key: get_log of a LIVE log is not found for others.
    request: (live) => ({ path: '/mcp', body: getLogCall(live.logUuid) }),
    foreign: (response) => {
      const result = toolResult(response);
      assert.equal(result.isError, true, result.text);
      assert.match(result.text, /^ERR::API::NOT_FOUND/);
    },
    owner: (response, live) => {
      const result = toolResult(response);
      assert.equal(result.isError, false, result.text);
      assert.equal(JSON.parse(result.text).log_uuid, live.logUuid);
    },
    bearer: true,
  },
};

/** Routes anyone may call (declared `none`): each is here on purpose. */
const PUBLIC_ROUTES = [
  'OPTIONS *', // the CORS preflight (answered by @fastify/cors; no credentials, no data)
  'GET /', // the landing page
  'GET /healthz',
  'GET /devices', // the device presets: a fixed list
  'GET /openapi.json',
  'GET /docs', // Swagger UI and its files
  'HEAD /docs/',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/static/theme/favicon.svg', // Snapwire's look for the API reference (http/docs-page.ts)
  'GET /docs/static/theme/snapwire.css',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/*',
  'GET /docs/errors',
  'GET /dashboard/login', // signing in
  'POST /dashboard/login',
  'POST /dashboard/login/code', // the second factor after a right password (its form token and challenge cookie)
  'GET /dashboard/accept', // a one-time invitation link (its token is the credential; docs/dashboard.md)
  'POST /dashboard/accept',
  'GET /dashboard/reset', // a one-time password-reset link
  'POST /dashboard/reset',
  // Single sign-on (OpenID Connect): the start redirects to the provider (the sign-in page when none is set), the
  // callback checks state, nonce and the ID token's signature (test/dashboard/single-sign-on.e2e.test.ts).
  'GET /dashboard/sso',
  'GET /dashboard/sso/callback',
  'GET /mcp', // 405: the MCP endpoint is stateless, POST only
  'DELETE /mcp',
];
/** Routes behind the operator's token (SNAPWIRE_METRICS_TOKEN, open when unset). */
const OPERATOR_ROUTES = ['GET /metrics'];

/** HEAD routes fastify adds for each GET run the GET's case. */
const asGet = (route: string) => route.replace(/^HEAD /, 'GET ');
const fill = (url: string) => url.replace(/:[A-Za-z]+/g, 'x').replace('*', 'index.html');

describe('route security: every registered route, by its declaration', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  let live: LiveData;
  let otherKey: string;
  let session: { cookie: string; csrf: string };
  /** The LIVE webhook and schedule as their owner saw them first (nothing below may change them). */
  let before_: { webhook: unknown; schedule: unknown; template: unknown };

  const inject = (options: InjectOptions) => service.snapwire.app.inject(options);
  const send = (method: string, entry: KeyCase, key?: string, asBearer = false) => {
    const { path, query = {}, body } = entry.request(live);
    const search = new URLSearchParams({ ...query, ...(key !== undefined && !asBearer ? { key } : {}) });
    return inject({
      method: method as InjectOptions['method'],
      url: `${path}${search.size > 0 ? `?${search}` : ''}`,
      headers: {
        ...(asBearer && key !== undefined ? { authorization: `Bearer ${key}` } : {}),
        ...(path === '/mcp' ? { accept: 'application/json, text/event-stream' } : {}),
      },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
  };
  const ownerView = async () => {
    const webhook = json(
      await inject({ url: `/webhooks/${live.webhook}?reveal_secret=true&key=${LIVE_KEY}` }),
    );
    // What a stranger's call could change (the queue count and delivery figures move on their own).
    const kept = ['webhook_uuid', 'name', 'url', 'env', 'enabled', 'secret', 'previous_secret_expires_at'];
    return {
      webhook: Object.fromEntries(kept.map((field) => [field, webhook[field]])),
      schedule: json(await inject({ url: `/schedules/${live.scheduleId}?key=${LIVE_KEY}` })),
      template: json(await inject({ url: `/extraction/templates/live-template?key=${LIVE_KEY}` })),
    };
  };

  before(async () => {
    fixtures = await startFixtureServer();
    receiver = await startReceiver();
    service = await startService(
      // A small inline limit, so that a scrape of a 2 KB page is answered by URL (GET /scrape/content/…).
      { SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD, SNAPWIRE_SCRAPE_INLINE_MAX_BYTES: '1024' },
      { 'hooks.test': '127.0.0.1' },
    );
    otherKey = (await service.snapwire.services.projects.create('other', 'PRO')).keys.LIVE;
    const pageUrl = `http://fixtures.test:${fixtures.port}/solid`;
    const receiverUrl = `http://hooks.test:${new URL(receiver.url).port}/`;
    const shot = await inject({
      url: `/screenshot?${new URLSearchParams({ key: LIVE_KEY, url: pageUrl, rendering_wait: '0', resolution: '640x480' })}`,
    });
    assert.equal(shot.statusCode, 200, shot.body.slice(0, 300));
    const scraped = await inject({
      url: `/scrape?${new URLSearchParams({ key: LIVE_KEY, url: pageUrl, render_js: 'true', 'screenshots[top]': 'viewport' })}`,
    });
    assert.equal(scraped.statusCode, 200, scraped.body.slice(0, 300));
    const largeScrape = await inject({
      url: `/scrape?${new URLSearchParams({ key: LIVE_KEY, url: `http://fixtures.test:${fixtures.port}/engine-tall-30000` })}`,
    });
    assert.equal(
      (json(largeScrape).result as { format: string }).format,
      'clob',
      largeScrape.body.slice(0, 300),
    );
    const created = await inject({
      method: 'POST',
      url: `/webhooks?key=${LIVE_KEY}`,
      payload: { name: 'live-hook', url: receiverUrl },
    });
    assert.equal(created.statusCode, 201, created.body);
    const ping = await inject({ method: 'POST', url: `/webhooks/live-hook/ping?key=${LIVE_KEY}` });
    assert.equal(ping.statusCode, 202, ping.body);
    const schedule = await inject({
      method: 'POST',
      url: `/screenshot/schedules?key=${LIVE_KEY}`,
      payload: {
        screenshot_config: { url: pageUrl },
        webhook_name: 'live-hook',
        scheduled_date: '2099-01-01T00:00:00Z',
      },
    });
    assert.equal(schedule.statusCode, 201, schedule.body);
    const template = await inject({
      method: 'PUT',
      url: `/extraction/templates/live-template?key=${LIVE_KEY}`,
      payload: { template: { selectors: [{ name: 'live_only', type: 'css', query: 'h1' }] } },
    });
    assert.equal(template.statusCode, 201, template.body);
    const crawl = await inject({
      method: 'POST',
      url: `/crawl?key=${LIVE_KEY}`,
      payload: { url: pageUrl, page_limit: 1 },
    });
    assert.equal(crawl.statusCode, 200, crawl.body);
    const monitor = await inject({
      method: 'POST',
      url: `/monitors?key=${LIVE_KEY}`,
      payload: { url: pageUrl, webhook_name: 'live-hook', screenshot_config: { resolution: '640x480' } },
    });
    assert.equal(monitor.statusCode, 201, monitor.body);
    const monitorRun = await inject({
      method: 'POST',
      url: `/monitors/${String(json(monitor).id)}/run?key=${LIVE_KEY}`,
    });
    assert.equal(json(monitorRun).status, 'baseline', monitorRun.body);
    live = {
      monitorId: String(json(monitor).id),
      monitorRunId: String(json(monitorRun).id),
      templateName: 'live-template',
      logUuid: String(shot.headers['x-scrapfly-log-uuid']),
      scrapeLogUuid: String(scraped.headers['x-scrapfly-log-uuid']),
      largeScrapeLogUuid: String(largeScrape.headers['x-scrapfly-log-uuid']),
      webhook: 'live-hook',
      jobUuid: String(json(ping).job_uuid),
      scheduleId: String(json(schedule).id),
      pageUrl,
      receiverUrl,
      crawlUuid: String(json(crawl).crawler_uuid),
    };
    before_ = await ownerView();
    const signedIn = await signIn(service.baseUrl);
    assert.ok(signedIn.cookie && signedIn.csrf, 'signed in to the dashboard');
    session = { cookie: signedIn.cookie, csrf: signedIn.csrf };
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('every registered route declares who may call it and has its case in this suite', () => {
    const table = registeredRoutes(service.snapwire.app);
    assert.ok(table.length > 50, `the table holds the routes (${table.length})`);
    const byAuth = (auths: RouteAuth[]) =>
      [...new Set(table.filter((r) => auths.includes(r.auth)).map((r) => `${r.method} ${r.url}`))].sort();
    const withoutHeads = (routes: string[]) =>
      routes.filter((route) => !route.startsWith('HEAD ') || !routes.includes(asGet(route)));
    assert.deepEqual(
      withoutHeads(byAuth(['key', 'key-or-bearer'])),
      Object.keys(KEY_ROUTES).sort(),
      'key routes: add a case to KEY_ROUTES for a new one',
    );
    assert.deepEqual(
      withoutHeads(byAuth(['none'])),
      [...PUBLIC_ROUTES].sort(),
      'public routes: a new one must be added to PUBLIC_ROUTES on purpose',
    );
    assert.deepEqual(withoutHeads(byAuth(['operator-token'])), OPERATOR_ROUTES);
    for (const route of byAuth(['session'])) assert.match(route, / \/dashboard(\/|$)/, route);
    assert.equal(
      byAuth(['key-or-bearer']).join(),
      ['POST /mcp'].join(),
      'only MCP takes the key as a bearer token',
    );
  });

  for (const [route, entry] of Object.entries(KEY_ROUTES)) {
    const [method = 'GET'] = route.split(' ');
    const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
    for (const verb of methods) {
      describe(`${verb} ${route.slice(method.length + 1)}`, () => {
        const head = verb === 'HEAD';
        it('without a key: 401 with the catalogue error', async () => {
          const response = await send(verb, entry);
          assert.equal(response.statusCode, 401, response.body.slice(0, 300));
          if (head) return;
          const body = json(response);
          assert.equal(body.code, 'ERR::API::UNAUTHORIZED');
          assert.equal(body.reason, 'Unauthorized');
          assert.match(
            String(body.message),
            /^Missing API key: pass your project key as the key query parameter/,
          );
          assert.match(JSON.stringify(body.links), /\/docs\/errors#ERR::API::UNAUTHORIZED/);
          // The schedule routes' errors repeat the code as `error` (docs/compat.md §6), their 401 too.
          if (/schedules/.test(route)) assert.equal(body.error, 'ERR::API::UNAUTHORIZED');
        });

        it('with a wrong key: 401', async () => {
          for (const asBearer of entry.bearer ? [false, true] : [false]) {
            const response = await send(verb, entry, WRONG_KEY, asBearer);
            assert.equal(response.statusCode, 401, response.body.slice(0, 300));
            if (!head) assert.equal(json(response).message, 'Invalid API key');
          }
        });

        for (const [who, key] of [
          ['TEST key', TEST_KEY],
          ["another project's key", undefined],
        ] as const) {
          it(`with a ${who} on LIVE data: ${entry.foreign === 'not found' ? '404' : 'none of it'}`, async () => {
            for (const asBearer of entry.bearer ? [false, true] : [false]) {
              const response = await send(verb, entry, key ?? otherKey, asBearer);
              if (entry.foreign === 'not found' || head) {
                if (entry.foreign === 'not found') {
                  // Scrapfly answers an unknown webhook_name with 400 ERR::WEBHOOK::NOT_FOUND.
                  const expected = entry.unknownWebhook ? 400 : 404;
                  assert.equal(response.statusCode, expected, response.body.slice(0, 300));
                  if (!head) assert.match(String(json(response).code), /NOT_FOUND$/);
                } else {
                  const asGetResponse = await send('GET', entry, key ?? otherKey, asBearer);
                  assert.equal(response.statusCode, asGetResponse.statusCode);
                }
                // Only what the caller sent may be echoed: nothing of the LIVE page or receiver.
                for (const secret of ['fixtures.test', 'hooks.test']) {
                  assert.ok(!response.body.includes(secret), `no LIVE data in the answer (${secret})`);
                }
              } else {
                entry.foreign(response, live, who);
              }
            }
          });
        }

        const { owner } = entry;
        if (owner) {
          it('with the LIVE key (the owner): the data', async () => {
            const response = await send(verb, entry, LIVE_KEY);
            if (head) assert.equal(response.statusCode, 200);
            else owner(response, live);
          });
        }
      });
    }
  }

  it('issue 18.2: a TEST key reads no LIVE log, by GET /screenshot/logs/{uuid} nor by MCP get_log', async () => {
    const byApi = await inject({ url: `/screenshot/logs/${live.logUuid}?key=${TEST_KEY}` });
    assert.equal(byApi.statusCode, 404, byApi.body.slice(0, 300));
    assert.equal(json(byApi).code, 'ERR::API::NOT_FOUND');
    const byMcp = toolResult(
      await inject({
        method: 'POST',
        url: '/mcp',
        headers: { authorization: `Bearer ${TEST_KEY}`, accept: 'application/json, text/event-stream' },
        payload: getLogCall(live.logUuid),
      }),
    );
    assert.equal(byMcp.isError, true, byMcp.text);
    assert.match(byMcp.text, /^ERR::API::NOT_FOUND/);
    assert.ok(!byMcp.text.includes('fixtures.test'), 'nothing of the log is shown');
  });

  it("a webhook another key created stays the creator's, never the LIVE key's", async () => {
    const seenByLive = await inject({ url: `/webhooks/probe?key=${LIVE_KEY}` });
    assert.equal(seenByLive.statusCode, 404);
    const seenByTest = await inject({ url: `/webhooks/probe?key=${TEST_KEY}` });
    assert.equal(seenByTest.statusCode, 200);
  });

  it('the LIVE webhook, schedule, log and job are as their owner left them', async () => {
    assert.deepEqual(await ownerView(), before_);
    for (const path of [`/screenshot/logs/${live.logUuid}`, `/webhooks/jobs/${live.jobUuid}`]) {
      assert.equal((await inject({ url: `${path}?key=${LIVE_KEY}` })).statusCode, 200, path);
    }
  });

  it('every session route: without a session, a redirect to sign in; a POST without its CSRF token, 403', async () => {
    const routes = registeredRoutes(service.snapwire.app).filter((route) => route.auth === 'session');
    assert.ok(routes.some((route) => route.method === 'POST'));
    for (const { method, url } of routes) {
      const request = {
        method: method as InjectOptions['method'],
        url: fill(url),
        ...(method === 'POST'
          ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' }
          : {}),
      };
      const anonymous = await inject(request);
      assert.equal(anonymous.statusCode, 303, `${method} ${url}`);
      assert.match(String(anonymous.headers.location), /^\/dashboard\/login/, `${method} ${url}`);
      if (method !== 'POST') continue;
      const forged = await inject({ ...request, headers: { ...request.headers, cookie: session.cookie } });
      assert.equal(forged.statusCode, 403, `${method} ${url} without the CSRF token`);
    }
  });

  it('every public route answers without credentials, and /metrics is open without an operator token', async () => {
    for (const route of [...PUBLIC_ROUTES, ...OPERATOR_ROUTES]) {
      const [method = 'GET', url = '/'] = route.split(' ');
      const response = await inject({
        method: method as InjectOptions['method'],
        url: url === '*' ? '/screenshot' : fill(url),
        ...(method === 'OPTIONS'
          ? { headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET' } }
          : {}),
      });
      assert.notEqual(response.statusCode, 401, route);
      assert.ok(!String(response.headers.location ?? '').startsWith('/dashboard/login'), route);
    }
  });
});

describe('the auth gate itself', () => {
  const projects = {} as ProjectService;

  it('refuses at start-up a route that declares nothing', async () => {
    const app = Fastify();
    installAuthGate(app, { projects });
    await assert.rejects(async () => {
      await app.register(async (scope) => {
        scope.get('/declared', { config: { auth: 'none' } }, async () => 'ok');
        scope.get('/forgotten', async () => 'open to anyone?');
      });
      await app.ready();
    }, /GET \/forgotten declares no auth: add config: \{ auth:/);
    await app.close();
  });

  it('fails closed for a session route outside a scope that checks sessions', async () => {
    const app = Fastify();
    installAuthGate(app, { projects });
    await withRouteAuth(app, 'session', () => app.get('/private', async () => 'secret'));
    const response = await app.inject({ url: '/private' });
    assert.equal(response.statusCode, 500);
    assert.ok(!response.body.includes('secret'));
  });

  it('asks /metrics for the operator token when SNAPWIRE_METRICS_TOKEN is set', async () => {
    const app = Fastify();
    installAuthGate(app, { projects, operatorToken: 'operator-token-123' });
    // No metrics registry: past the gate, the route answers 404 "not enabled".
    await app.register(metricsRoute({ screenshots: {} } as unknown as Services));
    const without = await app.inject({ url: '/metrics' });
    assert.equal(without.statusCode, 401);
    assert.equal(without.headers['www-authenticate'], 'Bearer');
    const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    const right = await app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer operator-token-123' },
    });
    assert.equal(right.statusCode, 404);
    assert.equal(right.body, 'metrics are not enabled\n');
  });
});
