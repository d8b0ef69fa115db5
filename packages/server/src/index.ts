export { loadSettings, SettingsError, type Settings } from './config/settings.js';
export { createSnapwire, type Snapwire, type SnapwireOptions } from './snapwire.js';
export {
  ProjectService,
  ProjectError,
  DEFAULT_PROJECT,
  type Project,
  type Caller,
} from './accounts/projects.js';
export { PLANS, PLAN_NAMES, type PlanName, type PlanLimits } from './accounts/plans.js';
export { ENVIRONMENTS, type Environment } from './accounts/keys.js';
export { openStore, migrateToLatest, type Store } from './store/database.js';
export { withStartupLock, FleetLock } from './store/fleet-lock.js';
export { StaticResolver, SystemResolver, type Resolver } from './egress/resolver.js';
export { ApiError, ERROR_CATALOGUE, type ErrorCode } from './errors.js';
export { systemClock, type Clock } from './clock.js';
export { runServer } from './run.js';
export {
  ensureAdminAccount,
  resetAdminPassword,
  AdminPasswordError,
  MIN_ADMIN_PASSWORD_LENGTH,
} from './admin/admin-password.js';
export { TeamStore, TeamError, type TeamMember } from './team/team-store.js';
export { ROLES, isRole, type Role } from './team/roles.js';
export { createMailer } from './team/mailer.js';
export { AuditLog, type AuditEntry } from './audit/audit-log.js';
export {
  compareImages,
  type CompareImagesOptions,
  type ImageComparison,
  type PixelRect,
} from './compare/compare-images.js';
export { compareText, type TextComparison } from './compare/compare-text.js';
