import type { FastifyInstance } from 'fastify';
import { withRouteAuth } from '../http/auth.js';
import type { Services } from '../services.js';
import { createContext, type DashboardPage } from './context.js';
import { html, layout, type NavItem } from './html.js';
import { PAGES } from './pages/index.js';
import { installRouteAccess, requireRouteRules } from './route-access.js';
import { createMailer } from '../team/mailer.js';
import { cookiesOf, installSessions, SESSION_COOKIE } from './session.js';

// Scripts and styles are inline (one small script, no build step); images are same-origin or data: URLs.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/**
 * The dashboard: server-rendered pages over the same services as the API, behind an admin session: every
 * route of it is a `session` route for the auth gate (http/auth.ts) unless it declares otherwise.
 */
export default function dashboardRoute(services: Services, pages: DashboardPage[] = PAGES) {
  return async (root: FastifyInstance) => {
    await root.register(async (app) => withRouteAuth(app, 'session', () => plugin(app, services, pages)), {
      prefix: '/dashboard',
    });
  };
}

async function plugin(app: FastifyInstance, services: Services, pages: DashboardPage[]): Promise<void> {
  const { settings, clock } = services;
  const now = () => clock.now();
  const { auth, twoFactor, team, queries, projects } = services.dashboard;

  // HTML pages are not part of the API reference.
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
    return payload;
  });

  requireRouteRules(app);
  const session = installSessions(app, {
    auth,
    twoFactor,
    audit: services.audit,
    team,
    sso: services.sso,
    secureCookies: settings.publicUrl.startsWith('https://'),
    sessionTtlMs: settings.dashboardSessionTtlMs,
    now,
  });

  installRouteAccess(app, { projects, team, session });

  const nav = pages.map((page) => page.nav).filter((item): item is NavItem => item !== undefined);
  const mailer = createMailer(settings);
  const context = createContext(services, queries, nav, session, now, { auth, twoFactor }, team, mailer);

  app.setNotFoundHandler(async (request, reply) => {
    const found = await auth.session(cookiesOf(request)[SESSION_COOKIE]);
    if (!found) return reply.code(303).header('location', '/dashboard/login').send();
    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(layout({ title: 'Not found', nav, csrf: found.csrfToken }, html`<h1>Not found</h1>`));
  });

  for (const page of pages) await page.register(app, context);
}
