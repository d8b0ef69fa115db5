import type { DashboardPage } from '../context.js';
import audit from './audit.js';
import crawls from './crawls.js';
import jobs from './jobs.js';
import links from './links.js';
import log from './log.js';
import logs from './logs.js';
import overview from './overview.js';
import playground from './playground.js';
import playgroundExtraction from './playground-extraction.js';
import playgroundScrape from './playground-scrape.js';
import projects from './projects.js';
import schedules from './schedules.js';
import sessions from './sessions.js';
import team from './team.js';
import monitors from './monitors.js';
import templates from './templates.js';
import twoFactor from './two-factor.js';
import webhook from './webhook.js';
import webhooks from './webhooks.js';

/**
 * Every page of the dashboard, in navigation order. A page is one file exporting a `DashboardPage`
 * (its nav entry and its routes); adding one is one import and one line here.
 */
export const PAGES: DashboardPage[] = [
  overview,
  logs,
  log,
  webhooks,
  webhook,
  crawls,
  jobs,
  schedules,
  monitors,
  templates,
  projects,
  audit,
  sessions,
  twoFactor,
  team,
  links,
  playground,
  playgroundScrape,
  playgroundExtraction,
];
