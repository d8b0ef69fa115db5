import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Session } from './auth.js';
import { html, layout } from './html.js';
import { formOf } from './session.js';
import { projectIdByName, projectNameById } from '../accounts/projects.js';
import { projectIdOfCrawl } from '../crawler/crawl-store.js';
import { projectIdOfLog } from '../logs/log-store.js';
import { projectIdOfMonitor } from '../monitors/store.js';
import { projectIdOfJob } from '../queue/job-queue.js';
import { projectIdOfSchedule } from '../schedules/store.js';
import type { Database } from '../store/schema.js';
import { projectIdOfWebhook } from '../webhooks/registry.js';
import { may, PROJECT_ACTIONS, WORKSPACE_WIDE, type Action } from '../team/roles.js';
import type { Access, TeamStore } from '../team/team-store.js';

/** Where a route's project comes from, besides `project=NAME` in its query or form (always checked). */
type Resource = 'webhook' | 'job' | 'crawl' | 'schedule' | 'monitor' | 'log' | 'project';

export interface RouteRule {
  /** `public`: no session (sign-in, invitation and reset pages); else the action of team/roles.ts. */
  action: Action | 'public';
  /** The route's `:param` names this kind of thing, whose project the user must be a member of. */
  resource?: Resource;
  /** A page over one project picked by `?project=`: a developer or viewer without one is sent to theirs. */
  pickProject?: true;
}

/**
 * EVERY dashboard route and what it needs: the one place the dashboard decides who may do what. A route
 * missing here fails the start (see installRouteAccess), so a new page cannot be left unguarded.
 */
export const ROUTE_RULES: Record<string, RouteRule> = {
  'GET /login': { action: 'public' },
  'POST /login': { action: 'public' },
  'GET /accept': { action: 'public' },
  'POST /accept': { action: 'public' },
  'GET /reset': { action: 'public' },
  'POST /reset': { action: 'public' },
  'POST /login/code': { action: 'public' },
  'GET /sso': { action: 'public' },
  'GET /sso/callback': { action: 'public' },
  'POST /logout': { action: 'self' },
  'GET /sessions': { action: 'self' },
  'POST /sessions/revoke': { action: 'self' },
  'POST /sessions/revoke-others': { action: 'self' },
  'POST /sessions/revoke-user': { action: 'team' },
  'GET /two-factor': { action: 'self' },
  'POST /two-factor/enrol': { action: 'self' },
  'POST /two-factor/confirm': { action: 'self' },
  'POST /two-factor/disable': { action: 'self' },
  // The audit log spans every project and member: for those who manage the team.
  'GET /audit': { action: 'team' },
  'GET /audit/export': { action: 'team' },
  'GET /': { action: 'view', pickProject: true },
  'GET /logs': { action: 'view', pickProject: true },
  'GET /logs/export.csv': { action: 'view', pickProject: true },
  'GET /logs/export.json': { action: 'view', pickProject: true },
  'GET /monitoring/log/:uuid': { action: 'view', resource: 'log' },
  'GET /monitoring/log/:uuid/image': { action: 'view', resource: 'log' },
  'GET /webhooks': { action: 'view', pickProject: true },
  'POST /webhooks': { action: 'operate' },
  'GET /webhooks/:uuid': { action: 'view', resource: 'webhook' },
  ...Object.fromEntries(
    ['enable', 'disable', 'ping', 'reveal', 'rotate', 'delete', 'edit', 'replay-failed'].map((verb) => [
      `POST /webhooks/:uuid/${verb}`,
      { action: 'operate', resource: 'webhook' } satisfies RouteRule,
    ]),
  ),
  'POST /jobs/:id/replay': { action: 'operate', resource: 'job' },
  'GET /jobs/:id/payload': { action: 'view', resource: 'job' },
  'GET /crawls': { action: 'view', pickProject: true },
  'GET /crawls/:uuid': { action: 'view', resource: 'crawl' },
  'POST /crawls/:uuid/cancel': { action: 'operate', resource: 'crawl' },
  'GET /schedules': { action: 'view', pickProject: true },
  'GET /schedules/:id': { action: 'view', resource: 'schedule' },
  'POST /schedules/:id/pause': { action: 'operate', resource: 'schedule' },
  'POST /schedules/:id/resume': { action: 'operate', resource: 'schedule' },
  'POST /schedules/:id/run': { action: 'operate', resource: 'schedule' },
  'GET /monitors': { action: 'view', pickProject: true },
  'GET /monitors/:id': { action: 'view', resource: 'monitor' },
  'GET /monitors/:id/runs/:run/image/:which': { action: 'view', resource: 'monitor' },
  'POST /monitors/:id/run': { action: 'operate', resource: 'monitor' },
  'POST /monitors/:id/pause': { action: 'operate', resource: 'monitor' },
  'POST /monitors/:id/resume': { action: 'operate', resource: 'monitor' },
  'POST /monitors/:id/runs/:run/approve': { action: 'operate', resource: 'monitor' },
  'POST /monitors/:id/runs/:run/reject': { action: 'operate', resource: 'monitor' },
  'GET /templates': { action: 'view', pickProject: true },
  'POST /templates/try': { action: 'operate' },
  'POST /templates/save': { action: 'operate' },
  'POST /templates/delete': { action: 'operate' },
  'GET /projects': { action: 'view' },
  'POST /projects': { action: 'projects' },
  'POST /projects/:name/rotate-key': { action: 'operate', resource: 'project' },
  'POST /projects/:name/plan': { action: 'projects' },
  'GET /playground': { action: 'operate', pickProject: true },
  'POST /playground': { action: 'operate' },
  'GET /playground/scrape': { action: 'operate', pickProject: true },
  'POST /playground/scrape': { action: 'operate' },
  'GET /playground/extraction': { action: 'operate', pickProject: true },
  'POST /playground/extraction': { action: 'operate' },
  'GET /team': { action: 'team' },
  'POST /team/invite': { action: 'team' },
  'POST /team/invitations/:id/revoke': { action: 'team' },
  'POST /team/users/:username/role': { action: 'team' },
  'POST /team/users/:username/projects': { action: 'team' },
  'POST /team/users/:username/remove': { action: 'team' },
  'POST /team/users/:username/reset-link': { action: 'team' },
};

const PREFIX = '/dashboard';

/** `GET /logs` for a route as fastify registered it (HEAD answers as GET; `/dashboard` is `/`). */
export function ruleKey(method: string, url: string): string {
  const path = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : url;
  return `${method === 'HEAD' ? 'GET' : method} ${path === '' ? '/' : path}`;
}

/** ROUTE_RULES' paths as patterns (`:param` one path segment), to find the rule of a link or a form. */
const RULE_PATTERNS = Object.entries(ROUTE_RULES).map(([key, rule]) => {
  const [method = '', path = ''] = key.split(' ');
  const pattern = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/?#]+');
  return { method, regex: new RegExp(`^${pattern}$`), rule };
});

/** The rule of `METHOD /dashboard/...` (a link's or a form's target), when it is a dashboard route. */
export function ruleOfTarget(method: string, target: string): RouteRule | undefined {
  const decoded = target.replace(/&amp;/g, '&');
  if (decoded !== PREFIX && !decoded.startsWith(`${PREFIX}/`) && !decoded.startsWith(`${PREFIX}?`)) {
    return undefined;
  }
  const path = decoded.slice(PREFIX.length).split(/[?#]/)[0] || '/';
  return RULE_PATTERNS.find((entry) => entry.method === method && entry.regex.test(path))?.rule;
}

/** Whether `access`'s role may use the dashboard route a link or form targets (unknown targets: yes). */
export function mayUseTarget(access: Access | undefined, method: string, target: string): boolean {
  const rule = ruleOfTarget(method, target);
  if (!rule || rule.action === 'public') return true;
  return access !== undefined && may(access.role, rule.action);
}

/**
 * A page as the signed-in role may use it: every POST form whose route ROUTE_RULES refuses to the role is
 * left out, and every link to such a page becomes its plain text, so a viewer is not shown buttons the
 * server would answer 403 (the server still checks every request).
 */
export function withoutRefusedActions(page: string, access: Access | undefined): string {
  return page
    .replace(/<form\b[^>]*>[\s\S]*?<\/form>/g, (form) => {
      const tag = /^<form\b[^>]*>/.exec(form)?.[0] ?? '';
      if (!/method="post"/i.test(tag)) return form;
      const action = /action="([^"]*)"/.exec(tag)?.[1] ?? '';
      return mayUseTarget(access, 'POST', action) ? form : '';
    })
    .replace(/<a\b[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g, (link, href: string, text: string) =>
      mayUseTarget(access, 'GET', href) ? link : text,
    );
}

const accesses = new WeakMap<FastifyRequest, Access>();

/** What the signed-in user of a request may see (set by the access check before every handler). */
export function accessOf(request: FastifyRequest): Access | undefined {
  return accesses.get(request);
}

/** Whether the request's user sees a project (owners and admins see all). */
export function seesProject(request: FastifyRequest, projectId: string): boolean {
  const access = accesses.get(request);
  return access !== undefined && (access.projectIds === 'all' || access.projectIds.includes(projectId));
}

/** The project id of the thing a route's `:param` names, asked of the room that owns its table. */
const PROJECT_OF: Record<Resource, (db: Kysely<Database>, id: string) => Promise<string | undefined>> = {
  webhook: projectIdOfWebhook,
  job: projectIdOfJob,
  crawl: projectIdOfCrawl,
  schedule: projectIdOfSchedule,
  monitor: projectIdOfMonitor,
  log: projectIdOfLog,
  project: projectIdByName,
};

/** The project questions route access asks, each answered by the room that owns the table. */
export interface ProjectLookup {
  idByName(name: string): Promise<string | undefined>;
  nameById(id: string): Promise<string | undefined>;
  ofResource(resource: Resource, params: Record<string, string>): Promise<string | undefined>;
}

/** Built by the composition root (dashboard/rooms.ts), which holds the database; the hook never does. */
export function projectLookup(db: Kysely<Database>): ProjectLookup {
  return {
    idByName: (name) => projectIdByName(db, name),
    nameById: (id) => projectNameById(db, id),
    ofResource: (resource, params) => PROJECT_OF[resource](db, params.uuid ?? params.id ?? params.name ?? ''),
  };
}

/** Refuses to start with a dashboard route that has no rule (called before any route is registered). */
export function requireRouteRules(
  app: FastifyInstance,
  rules: Record<string, RouteRule> = ROUTE_RULES,
): void {
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (!rules[ruleKey(method, route.url)]) {
        throw new Error(`dashboard route ${method} ${route.url} has no rule in dashboard/route-access.ts`);
      }
    }
  });
}

/**
 * Checks every session route against ROUTE_RULES before its handler (after the session and CSRF checks):
 * the user's role must allow the route's action, and for a project's pages and actions a developer or
 * viewer must be a member of every project the request names (query, form, or the thing in its path).
 */
export function installRouteAccess(
  app: FastifyInstance,
  options: {
    projects: ProjectLookup;
    team: TeamStore;
    session: (request: FastifyRequest) => Session | undefined;
    rules?: Record<string, RouteRule>;
  },
): void {
  const rules = options.rules ?? ROUTE_RULES;
  const refuse = (reply: FastifyReply, why: string) =>
    reply
      .code(403)
      .type('text/html; charset=utf-8')
      .send(
        layout(
          { title: 'Not allowed' },
          html`<h1>Not allowed</h1>
            <p>${why}</p>
            <p><a href="/dashboard">Back to the dashboard</a></p>`,
        ),
      );

  app.addHook('preHandler', async (request, reply) => {
    if (reply.sent) return; // refused earlier (CSRF)
    // The not-found handler has no route url: it answers by itself (sign-in, or 404 with a session).
    if (request.routeOptions.url === undefined) return;
    const rule = rules[ruleKey(request.method, request.routeOptions.url)];
    if (!rule || rule.action === 'public') return;
    const session = options.session(request);
    if (!session) return refuse(reply, 'Sign in first.');
    const access = await options.team.accessOf(session.username);
    if (!access) {
      // Removed while signed in: their sessions went with them; this request is refused too.
      return reply.code(303).header('location', '/dashboard/login').send();
    }
    accesses.set(request, access);
    if (!may(access.role, rule.action)) {
      return refuse(reply, `Your role (${access.role}) does not allow this. Ask an owner or admin.`);
    }
    if (!PROJECT_ACTIONS.includes(rule.action) || WORKSPACE_WIDE.includes(access.role)) return;
    const members = access.projectIds === 'all' ? [] : access.projectIds;
    const named = [
      (request.query as Record<string, unknown> | undefined)?.project,
      request.method === 'POST' ? formOf(request).project : undefined,
    ].filter((name): name is string => typeof name === 'string' && name !== '');
    const ids: string[] = [];
    for (const name of named) {
      const id = await options.projects.idByName(name);
      if (id === undefined) return refuse(reply, `You are not a member of the project "${name}".`);
      ids.push(id);
    }
    if (rule.resource) {
      const id = await options.projects.ofResource(rule.resource, request.params as Record<string, string>);
      // An unknown id reaches the page, which answers it is not found (nothing to see there).
      if (id !== undefined) ids.push(id);
    }
    const outside = ids.find((id) => !members.includes(id));
    if (outside !== undefined) return refuse(reply, 'You are not a member of this project.');
    if (request.method === 'POST' && !rule.resource && named.length === 0) {
      return refuse(reply, 'Pick one of your projects.');
    }
    if (rule.pickProject && named.length === 0 && request.method === 'GET') {
      const first = members[0];
      if (!first) return refuse(reply, 'You are not a member of any project yet. Ask an owner or admin.');
      const name = await options.projects.nameById(first);
      const url = new URL(request.url, 'http://dashboard.invalid');
      url.searchParams.set('project', name ?? '');
      return reply.code(303).header('location', `${url.pathname}${url.search}`).send();
    }
  });
}
