import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Caller, ProjectService } from '../accounts/projects.js';
import { ApiError } from '../errors.js';

/**
 * Who may call a route, declared in its config (`config: { auth: 'key' }`), checked by one gate:
 * - `key`: a project key (LIVE or TEST) as `?key=`. The caller is the key's project AND environment:
 *   every resource a route reads or changes is looked up in both, so another's answers 404.
 * - `key-or-bearer`: the same, the key in `?key=` or `Authorization: Bearer` (MCP clients send either).
 * - `session`: a signed-in dashboard admin; the dashboard gives the gate its session check
 *   (dashboard/session.ts, which also checks each POST's CSRF token).
 * - `operator-token`: `Authorization: Bearer SNAPWIRE_METRICS_TOKEN` when that is set, anyone otherwise.
 * - `none`: anyone (documentation, health, the sign-in page).
 * A route that declares nothing fails at start-up. test/api/route-security.e2e.test.ts walks the table.
 */
export const ROUTE_AUTH = ['key', 'key-or-bearer', 'session', 'operator-token', 'none'] as const;
export type RouteAuth = (typeof ROUTE_AUTH)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The key's project and environment, set by the gate on `key` and `key-or-bearer` routes. */
    caller: Caller | null;
  }
}

/** A registered route and who may call it. */
export interface RouteEntry {
  method: string;
  url: string;
  auth: RouteAuth;
}

/** Answers a session route's request without a session (a redirect to sign in); true when it may go on. */
export type SessionCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>;

const SCOPE_AUTH = Symbol('snapwire.scopeRouteAuth');
const SESSION_CHECK = Symbol('snapwire.sessionCheck');
const TABLES = new WeakMap<FastifyInstance, RouteEntry[]>();

type Scoped = FastifyInstance & { [SCOPE_AUTH]?: RouteAuth; [SESSION_CHECK]?: SessionCheck };

/**
 * Runs `register` with `auth` as the declaration of every route it adds that declares none itself: for
 * plugins whose routes take no config (the CORS preflight, Swagger UI's pages) and for the dashboard,
 * whose every page is a session route. Instances inherit it from their parent while it runs.
 */
export async function withRouteAuth<T>(
  scope: FastifyInstance,
  auth: RouteAuth,
  register: () => PromiseLike<T> | T,
): Promise<T> {
  const instance = scope as Scoped;
  const had = Object.prototype.hasOwnProperty.call(instance, SCOPE_AUTH);
  const previous = instance[SCOPE_AUTH];
  instance[SCOPE_AUTH] = auth;
  try {
    return await register();
  } finally {
    if (had) instance[SCOPE_AUTH] = previous;
    else delete instance[SCOPE_AUTH];
  }
}

/** How the gate checks `session` routes registered in `scope` (the dashboard's plugin gives it). */
export function provideSessionCheck(scope: FastifyInstance, check: SessionCheck): void {
  (scope as Scoped)[SESSION_CHECK] = check;
}

/** Every route registered on `app` since installAuthGate, with its declaration (HEAD routes included). */
export function registeredRoutes(app: FastifyInstance): readonly RouteEntry[] {
  return TABLES.get(app) ?? [];
}

/** The key of a request: `?key=`, and with `bearer` also `Authorization: Bearer KEY`. */
export function keyOf(request: FastifyRequest, bearer = false): string | undefined {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.key;
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  if (!bearer) return undefined;
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** The caller the gate found; only `key` and `key-or-bearer` routes have one. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) {
    throw new Error(
      `${request.method} ${request.routeOptions.url ?? request.url} reads a caller but is not a key route`,
    );
  }
  return request.caller;
}

const unauthorized = (message: string) => new ApiError('ERR::API::UNAUTHORIZED', message);

/**
 * Installs the gate on the root app, before any route: an onRoute hook that refuses a route without a
 * declaration (start-up fails, and so does every test) and records the table, and one onRequest hook that
 * authenticates by the declaration and sets `request.caller`. Its 401s go through the route's error
 * handler, which answers Scrapfly's generic 401 body (http/errors.ts sendApiError).
 */
export function installAuthGate(
  app: FastifyInstance,
  options: { projects: ProjectService; operatorToken?: string | undefined },
): void {
  const table: RouteEntry[] = [];
  TABLES.set(app, table);
  app.decorateRequest('caller', null);

  app.addHook('onRoute', function declareAuth(this: FastifyInstance, route: RouteOptions) {
    const auth = route.config?.auth ?? (this as Scoped)[SCOPE_AUTH];
    const methods = ([] as string[]).concat(route.method);
    if (auth === undefined || !(ROUTE_AUTH as readonly string[]).includes(auth)) {
      throw new Error(
        `${methods.join(',')} ${route.url} declares no auth: add config: { auth: ${ROUTE_AUTH.map((a) => `'${a}'`).join(' | ')} } to the route (http/auth.ts)`,
      );
    }
    route.config = { ...route.config, auth };
    for (const method of methods) table.push({ method, url: route.url, auth });
  });

  app.addHook('onRequest', async (request, reply) => {
    // Unknown paths reach the not-found handlers, which answer without data.
    if (request.is404) return;
    const auth = request.routeOptions.config.auth;
    switch (auth) {
      case 'none':
        return;
      case 'key':
      case 'key-or-bearer': {
        const bearer = auth === 'key-or-bearer';
        const key = keyOf(request, bearer);
        if (key === undefined) {
          throw unauthorized(
            `Missing API key: pass your project key as the key query parameter${bearer ? ' or as Authorization: Bearer' : ''}`,
          );
        }
        const caller = await options.projects.authenticate(key);
        if (!caller) throw unauthorized('Invalid API key');
        request.caller = caller;
        return;
      }
      case 'session': {
        const check = (request.server as Scoped)[SESSION_CHECK];
        // A session route outside a scope that checks sessions would be open: refuse it instead.
        if (!check) throw new Error(`${request.routeOptions.url} is a session route without a session check`);
        if (!(await check(request, reply))) return reply;
        return;
      }
      case 'operator-token': {
        const token = options.operatorToken;
        if (!token) return;
        const given = Buffer.from(String(request.headers.authorization ?? ''));
        const expected = Buffer.from(`Bearer ${token}`);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return reply.code(401).header('www-authenticate', 'Bearer').send('metrics need the bearer token\n');
        }
        return;
      }
      default:
        throw new Error(`${request.routeOptions.url} has no auth declaration`);
    }
  });
}
