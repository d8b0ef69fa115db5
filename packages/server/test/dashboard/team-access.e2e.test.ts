import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ROUTE_RULES, ruleOfTarget, type RouteRule } from '../../src/dashboard/route-access.js';
import {
  may,
  permissionsMarkdown,
  PROJECT_ACTIONS,
  WORKSPACE_WIDE,
  type Role,
} from '../../src/team/roles.js';
import { TeamStore } from '../../src/team/team-store.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD, postForm, signIn } from './support.js';

interface Identity {
  label: string;
  role: Role;
  /** The project the identity is a member of (developers and viewers). */
  project?: 'acme' | 'other';
  cookie: string;
  csrf: string;
}

const DOC = new URL('../../../../docs/dashboard.md', import.meta.url);

/**
 * Walks EVERY dashboard route of the access table (dashboard/route-access.ts) as each role, and as a
 * developer and a viewer of another project, with every request naming the project `acme`: what the
 * role table (team/roles.ts) allows must pass the access check, everything else must be refused (403).
 */
describe('dashboard access: every route x every role, against the role table', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const identities: Identity[] = [];
  const params: Record<string, string> = {};

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService({ SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD }, {}, { browsers: false });
    const { projects, clock } = service.snapwire.services;
    const { store } = service.snapwire;
    const ids: Record<string, string> = {};
    for (const name of ['acme', 'other'] as const) {
      const { project, keys } = await projects.create(name, 'FREE');
      ids[name] = project.id;
      const url = `${fixtures.origin}/${name}-page`;
      await fetch(`${service.baseUrl}/scrape?${new URLSearchParams({ key: keys.LIVE ?? '', url })}`);
    }
    const owner = await signIn(service.baseUrl);
    identities.push({ label: 'owner', role: 'owner', cookie: owner.cookie, csrf: owner.csrf });
    const team = new TeamStore(store.db, clock, store.dialect);
    const people: Array<[string, Role, 'acme' | 'other' | undefined]> = [
      ['admin', 'admin', undefined],
      ['developer of acme', 'developer', 'acme'],
      ['viewer of acme', 'viewer', 'acme'],
      ['developer of other', 'developer', 'other'],
      ['viewer of other', 'viewer', 'other'],
    ];
    for (const [label, role, project] of people) {
      const email = `${label.replaceAll(' ', '-')}@example.com`;
      const link = await team.invite({
        email,
        role,
        projectIds: project ? [ids[project]!] : [],
        createdBy: 'admin',
      });
      await team.accept(link.token, label, 'walk-password-123');
      const signed = await signIn(service.baseUrl, 'walk-password-123', email);
      const csrf =
        signed.csrf ||
        /name="_csrf" value="([^"]+)"/.exec(
          await (
            await fetch(`${service.baseUrl}/dashboard/logs?project=${project}`, {
              headers: { cookie: signed.cookie },
            })
          ).text(),
        )?.[1] ||
        '';
      assert.ok(signed.cookie && csrf, `${label} is signed in`);
      identities.push({ label, role, ...(project ? { project } : {}), cookie: signed.cookie, csrf });
    }
    const created = await postForm(
      service.baseUrl,
      '/dashboard/webhooks',
      { _csrf: owner.csrf, project: 'acme', name: 'walk', url: 'http://127.0.0.1:9/hook' },
      owner.cookie,
    );
    assert.ok(created.status < 400, 'a webhook of acme exists');
    const webhook = await store.db
      .selectFrom('webhooks')
      .select('uuid')
      .where('project_id', '=', ids.acme!)
      .executeTakeFirstOrThrow();
    const log = await store.db
      .selectFrom('screenshot_logs')
      .select('log_uuid')
      .where('project_id', '=', ids.acme!)
      .executeTakeFirstOrThrow();
    Object.assign(params, {
      webhook: webhook.uuid,
      log: log.log_uuid,
      project: 'acme',
      unknown: '00000000-0000-0000-0000-000000000000',
    });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('docs/dashboard.md prints the role table as the code has it', () => {
    // Compared cell by cell, so that a Markdown formatter padding the columns changes nothing.
    const cells = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.trim().startsWith('|'))
        .map((line) =>
          line
            .split('|')
            .map((cell) => cell.trim().replace(/^-{3,}$/, '---'))
            .join('|'),
        );
    const doc = cells(fs.readFileSync(DOC, 'utf8')).join('\n');
    assert.ok(
      doc.includes(cells(permissionsMarkdown()).join('\n')),
      'docs/dashboard.md has the role table of team/roles.ts',
    );
  });

  const pathOf = (route: string, rule: RouteRule) => {
    const value = (name: string) => {
      if (rule.resource === 'webhook') return params.webhook!;
      if (rule.resource === 'log') return params.log!;
      if (rule.resource === 'project') return params.project!;
      return name === 'username' ? 'nobody@example.com' : params.unknown!;
    };
    return `/dashboard${route.replace(/:([a-z]+)/g, (_m, name: string) => value(name))}`.replace(/\/$/, '');
  };

  /** Whether the role table allows `who` this route on acme's things. */
  const expected = (who: Identity, rule: RouteRule): boolean => {
    if (rule.action === 'public') return true;
    if (!may(who.role, rule.action)) return false;
    if (!PROJECT_ACTIONS.includes(rule.action) || WORKSPACE_WIDE.includes(who.role)) return true;
    return who.project === 'acme';
  };

  it('shows a viewer and a developer no form or link the table refuses them (every page they may open)', async () => {
    /** The POST forms and the dashboard links of a page, as `POST /dashboard/...` and `GET /dashboard/...`. */
    const targetsOf = (page: string) => [
      ...[...page.matchAll(/<form\b[^>]*>/g)]
        .filter(([tag]) => /method="post"/i.test(tag))
        .map(([tag]) => `POST ${/action="([^"]*)"/.exec(tag)?.[1] ?? ''}`),
      ...[...page.matchAll(/<a\b[^>]*href="(\/dashboard[^"]*)"/g)].map(([, href]) => `GET ${href}`),
    ];
    const pageOf = async (who: Identity, path: string) =>
      (
        await fetch(`${service.baseUrl}${path}${path.includes('?') ? '&' : '?'}project=acme`, {
          headers: { cookie: who.cookie },
          redirect: 'manual',
        })
      ).text();
    const shown: string[] = [];
    let pages = 0;
    for (const who of identities.filter((i) => i.project === 'acme')) {
      for (const [key, rule] of Object.entries(ROUTE_RULES)) {
        const [method, route] = key.split(' ') as [string, string];
        if (method !== 'GET' || rule.action === 'public' || !expected(who, rule)) continue;
        if (/image|export|payload/.test(route)) continue; // not HTML pages
        pages += 1;
        for (const target of targetsOf(await pageOf(who, pathOf(route, rule)))) {
          const [verb, url] = target.split(' ') as [string, string];
          const targetRule = ruleOfTarget(verb, url);
          if (targetRule && targetRule.action !== 'public' && !may(who.role, targetRule.action)) {
            shown.push(`${who.label} on ${key}: ${target}`);
          }
        }
      }
    }
    assert.ok(pages >= 20, `walked ${pages} pages`);
    assert.deepEqual(shown, []);
    // The same page as the owner does offer those actions (the check above can fail).
    const ownerWebhook = await pageOf(identities[0]!, `/dashboard/webhooks/${params.webhook}`);
    assert.match(ownerWebhook, /action="\/dashboard\/webhooks\/[^"]+\/rotate"/);
    const viewer = identities.find((i) => i.role === 'viewer' && i.project === 'acme')!;
    const viewerWebhook = await pageOf(viewer, `/dashboard/webhooks/${params.webhook}`);
    assert.doesNotMatch(viewerWebhook, /\/rotate"|\/delete"/);
    assert.match(viewerWebhook, new RegExp(params.webhook!), 'the viewer still reads the webhook');
  });

  it('allows and refuses every route as the table says', async () => {
    // Sign-out last (it ends the session); a route that destroys its thing (a webhook's delete) is walked by
    // the refused identities first.
    const routes = Object.entries(ROUTE_RULES).sort(
      ([a], [b]) => Number(a === 'POST /logout') - Number(b === 'POST /logout'),
    );
    const mismatches: string[] = [];
    let walked = 0;
    for (const [key, rule] of routes) {
      const [method, route] = key.split(' ') as [string, string];
      const path = pathOf(route, rule);
      const order = [...identities].sort((a, b) => Number(expected(a, rule)) - Number(expected(b, rule)));
      for (const who of order) {
        const fields = {
          _csrf: who.csrf,
          project: 'acme',
          email: `walk-${walked}@example.com`,
          role: 'viewer',
          name: `walk-${walked}`,
        };
        const response =
          method === 'GET'
            ? await fetch(`${service.baseUrl}${path}${path.includes('?') ? '&' : '?'}project=acme`, {
                headers: { cookie: who.cookie },
                redirect: 'manual',
              })
            : await postForm(service.baseUrl, `${path}?project=acme`, fields, who.cookie);
        const body = await response.text();
        walked += 1;
        const refused = response.status === 403 && body.includes('<h1>Not allowed</h1>');
        const want = expected(who, rule);
        if (refused === want || response.status >= 500) {
          mismatches.push(
            `${key} as ${who.label}: ${response.status}, expected ${want ? 'allowed' : 'refused'}`,
          );
        }
      }
    }
    assert.deepEqual(mismatches, []);
    assert.equal(walked, Object.keys(ROUTE_RULES).length * identities.length);
  });
});
