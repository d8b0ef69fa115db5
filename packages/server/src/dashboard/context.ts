import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Project } from '../accounts/projects.js';
import type { Settings } from '../config/settings.js';
import type { Services } from '../services.js';
import type { AuditAction } from '../audit/audit-log.js';
import type { DashboardAuth, Session } from './auth.js';
import type { TwoFactor } from './two-factor.js';
import { selectField } from './components.js';
import { html, layout, raw, type Html, type NavItem } from './html.js';
import type { DashboardQueries } from './queries.js';
import { accessOf, mayUseTarget, seesProject, withoutRefusedActions } from './route-access.js';
import { may } from '../team/roles.js';
import type { TeamStore } from '../team/team-store.js';
import type { Mailer } from '../team/mailer.js';

export type Env = 'LIVE' | 'TEST';

/** A dashboard page: its place in the navigation (if any) and its routes, under the /dashboard prefix. */
export interface DashboardPage {
  nav?: NavItem;
  register(app: FastifyInstance, context: DashboardContext): void | Promise<void>;
}

export interface PageOptions {
  title: string;
  active: string;
  body: Html;
  status?: number;
}

/** What every page gets: the services, the session of a request, and the page frame. */
export interface DashboardContext {
  services: Services;
  settings: Settings;
  queries: DashboardQueries;
  /** The dashboard's users, roles, memberships and one-time links. */
  team: TeamStore;
  /** Sends invitation and reset mails when SNAPWIRE_SMTP_URL is set. */
  mailer: Mailer | undefined;
  /** The projects the request's user sees (all for owners and admins; else their memberships). */
  projects(request: FastifyRequest): Promise<Project[]>;
  now(): number;
  session(request: FastifyRequest): Session | undefined;
  /** The CSRF token of the request's session (every form posts it back). */
  csrf(request: FastifyRequest): string;
  render(request: FastifyRequest, reply: FastifyReply, page: PageOptions): FastifyReply;
  /** 303 back to `to`, with a message shown once on top of the page. */
  back(reply: FastifyReply, to: string, message?: string): FastifyReply;
  /** Sessions of dashboard users (the sessions page) and their two-factor sign-in. */
  accounts: { auth: DashboardAuth; twoFactor: TwoFactor };
  /**
   * Writes an audit row for a change the request made, as its signed-in user from its address
   * (services.audit; docs/dashboard.md, "Audit log").
   */
  audit(
    request: FastifyRequest,
    action: AuditAction,
    facts?: { projectId?: string; target?: string; detail?: Record<string, unknown> },
  ): Promise<void>;
  /** True for an owner or admin (team/roles.ts): they may end other members' sessions. */
  isAdmin(request: FastifyRequest): boolean;
  /** The project + environment a page looks at (`?project=name&env=LIVE`). */
  scope(request: FastifyRequest): Promise<{ all: Project[]; project: Project | undefined; env: Env }>;
}

/** A query field that falls back to undefined when absent or malformed (filters never fail a page). */
export function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

export const envField = lenient(z.enum(['LIVE', 'TEST']));

/** Parses a request's query (or params) with a page's zod schema. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  return schema.parse(value ?? {});
}

export function scopePicker(
  path: string,
  all: Project[],
  project: Project | undefined,
  env: Env,
  extra: Html = html``,
): Html {
  return html`<form method="get" action="${path}" class="filters">
    ${selectField(
      'Project',
      'project',
      all.map((p) => p.name),
      project?.name,
    )}
    ${selectField('Environment', 'env', ['LIVE', 'TEST'], env)} ${extra}<button type="submit">Show</button>
  </form>`;
}

export function createContext(
  services: Services,
  queries: DashboardQueries,
  nav: NavItem[],
  session: (request: FastifyRequest) => Session | undefined,
  now: () => number,
  accounts: { auth: DashboardAuth; twoFactor: TwoFactor },
  team: TeamStore,
  mailer: Mailer | undefined,
): DashboardContext {
  const mayManageTeam = (request: FastifyRequest) => {
    const access = accessOf(request);
    return access !== undefined && may(access.role, 'team');
  };
  const visible = async (request: FastifyRequest) =>
    (await services.projects.list()).filter((p) => seesProject(request, p.id));
  const flashOf = (request: FastifyRequest) => {
    const msg = (request.query as Record<string, unknown> | undefined)?.msg;
    return typeof msg === 'string' ? msg : undefined;
  };
  const scopeQuery = z.object({ project: lenient(z.string()), env: envField });
  return {
    services,
    settings: services.settings,
    queries,
    team,
    mailer,
    projects: visible,
    now,
    session,
    csrf: (request) => session(request)?.csrfToken ?? '',
    accounts,
    async audit(request, action, facts = {}) {
      await services.audit.record({
        actor: session(request)?.username ?? 'unknown',
        action,
        sourceAddress: request.ip,
        ...facts,
      });
    },
    // Owners and admins manage the team, so they may also end another member's sessions.
    isAdmin: (request) => mayManageTeam(request),
    render(request, reply, page) {
      return reply
        .code(page.status ?? 200)
        .type('text/html; charset=utf-8')
        .send(
          layout(
            {
              title: page.title,
              active: page.active,
              // Only the pages the role may open (ROUTE_RULES), and in them only its actions.
              nav: nav.filter((item) => mayUseTarget(accessOf(request), 'GET', item.href)),
              csrf: session(request)?.csrfToken ?? '',
              flash: flashOf(request),
            },
            raw(withoutRefusedActions(page.body.value, accessOf(request))),
          ),
        );
    },
    back(reply, to, message) {
      return reply
        .code(303)
        .header(
          'location',
          message ? `${to}${to.includes('?') ? '&' : '?'}msg=${encodeURIComponent(message)}` : to,
        )
        .send();
    },
    async scope(request) {
      const q = parse(scopeQuery, request.query);
      const all = await visible(request);
      const project =
        all.find((p) => p.name === q.project) ?? all.find((p) => p.name === 'default') ?? all[0];
      return { all, project, env: q.env ?? 'LIVE' };
    },
  };
}
