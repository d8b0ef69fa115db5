import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { hashPassword } from '../dashboard/auth.js';
import type { Database } from '../store/schema.js';
import { existingProjectIds } from '../accounts/projects.js';
import { isRole, WORKSPACE_WIDE, type Role } from './roles.js';

/** How long an invitation or reset link works. */
export const INVITATION_TTL_MS = 7 * 24 * 3_600_000;
export const RESET_TTL_MS = 24 * 3_600_000;
export const MIN_PASSWORD_LENGTH = 12;

/** A refused team change; `status` is what the dashboard answers (400 bad input, 404, 409 conflict). */
export class TeamError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409 = 400,
  ) {
    super(message);
  }
}

export interface TeamMember {
  username: string;
  email: string | null;
  name: string | null;
  role: Role;
  projectIds: string[];
  createdAt: number;
}

export interface Access {
  username: string;
  role: Role;
  /** Every project for owners and admins; else the member projects. */
  projectIds: 'all' | string[];
}

export interface PendingLink {
  id: string;
  kind: 'invite' | 'reset';
  email: string;
  role: Role | null;
  projectIds: string[];
  createdBy: string;
  expiresAt: number;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** One email is one user, whatever its case: the key is the trimmed, lower-case email. */
export function normalizeEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) || value.length > 254) {
    throw new TeamError(`"${email}" is not an email address (name@example.com)`);
  }
  return value;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new TeamError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

/**
 * The dashboard's users (the `dashboard_users` table the first start's admin lives in), their roles and
 * project memberships, and the one-time links that invite a user or reset a password.
 */
export class TeamStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async members(): Promise<TeamMember[]> {
    const users = await this.db.selectFrom('dashboard_users').selectAll().orderBy('created_at').execute();
    const memberships = await this.db.selectFrom('dashboard_memberships').selectAll().execute();
    return users.map((user) => ({
      username: user.username,
      email: user.email ?? null,
      name: user.name ?? null,
      role: isRole(user.role) ? user.role : 'viewer',
      projectIds: memberships.filter((m) => m.username === user.username).map((m) => m.project_id),
      createdAt: Number(user.created_at),
    }));
  }

  /** A user found by username or email (any case). */
  async find(usernameOrEmail: string): Promise<TeamMember | undefined> {
    const key = usernameOrEmail.trim().toLowerCase();
    return (await this.members()).find((m) => m.username === key || m.email?.toLowerCase() === key);
  }

  /** What a signed-in user may see; undefined once the user was removed. */
  async accessOf(username: string): Promise<Access | undefined> {
    const user = await this.db
      .selectFrom('dashboard_users')
      .select(['username', 'role'])
      .where('username', '=', username)
      .executeTakeFirst();
    if (!user) return undefined;
    const role = isRole(user.role) ? user.role : 'viewer';
    if (WORKSPACE_WIDE.includes(role)) return { username, role, projectIds: 'all' };
    const rows = await this.db
      .selectFrom('dashboard_memberships')
      .select('project_id')
      .where('username', '=', username)
      .execute();
    return { username, role, projectIds: rows.map((r) => r.project_id) };
  }

  /**
   * The user a verified single sign-on email belongs to (any case), or a new one with `newUsers` as role
   * (its password random and unknown: a reset link gives one). Undefined when none and `refuse`.
   */
  async userForSingleSignOn(
    email: string,
    name: string | undefined,
    newUsers: 'refuse' | Exclude<Role, 'owner'>,
  ): Promise<{ username: string; created: boolean } | undefined> {
    const key = normalizeEmail(email);
    const found = await this.find(key);
    if (found) return { username: found.username, created: false };
    if (newUsers === 'refuse') return undefined;
    try {
      await this.db
        .insertInto('dashboard_users')
        .values({
          username: key,
          email: key,
          name: name?.trim().slice(0, 200) || null,
          role: newUsers,
          password_hash: await hashPassword(randomBytes(32).toString('base64url')),
          created_at: this.clock.now(),
        })
        .execute();
      return { username: key, created: true };
    } catch {
      // Two first sign-ins at once: the other one made the user.
      const again = await this.find(key);
      return again ? { username: again.username, created: false } : undefined;
    }
  }

  /** Makes an invitation link; returns its token (shown once, only its hash is kept). */
  async invite(input: {
    email: string;
    role: Role;
    projectIds: string[];
    createdBy: string;
  }): Promise<{ id: string; token: string; email: string; expiresAt: number }> {
    const email = normalizeEmail(input.email);
    if (!isRole(input.role)) throw new TeamError(`unknown role "${String(input.role)}"`);
    if (await this.find(email)) throw new TeamError(`${email} is already a member`, 409);
    await this.checkProjects(input.projectIds);
    return this.makeLink({
      kind: 'invite',
      email,
      username: null,
      role: input.role,
      projectIds: input.projectIds,
      createdBy: input.createdBy,
      ttlMs: INVITATION_TTL_MS,
    });
  }

  /** Makes a password-reset link for a user (who needs an email to receive it, else it is shown). */
  async resetLink(
    username: string,
    createdBy: string,
  ): Promise<{ id: string; token: string; email: string; expiresAt: number }> {
    const user = await this.find(username);
    if (!user) throw new TeamError(`no user ${username}`, 404);
    return this.makeLink({
      kind: 'reset',
      email: user.email?.toLowerCase() ?? '',
      username: user.username,
      role: null,
      projectIds: [],
      createdBy,
      ttlMs: RESET_TTL_MS,
    });
  }

  private async makeLink(link: {
    kind: 'invite' | 'reset';
    email: string;
    username: string | null;
    role: Role | null;
    projectIds: string[];
    createdBy: string;
    ttlMs: number;
  }) {
    const token = randomBytes(32).toString('base64url');
    const id = randomUUID();
    const now = this.clock.now();
    const expiresAt = now + link.ttlMs;
    await this.db
      .insertInto('dashboard_links')
      .values({
        id,
        token_hash: sha256(token),
        kind: link.kind,
        email: link.email,
        username: link.username,
        role: link.role,
        project_ids: JSON.stringify(link.projectIds),
        created_by: link.createdBy,
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
        revoked_at: null,
      })
      .execute();
    return { id, token, email: link.email, expiresAt };
  }

  /** Links not yet used, revoked or expired. */
  async pendingLinks(): Promise<PendingLink[]> {
    const rows = await this.db
      .selectFrom('dashboard_links')
      .selectAll()
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', this.clock.now())
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      email: row.email,
      role: isRole(row.role) ? row.role : null,
      projectIds: JSON.parse(row.project_ids) as string[],
      createdBy: row.created_by,
      expiresAt: Number(row.expires_at),
    }));
  }

  async revoke(id: string): Promise<void> {
    const result = await this.db
      .updateTable('dashboard_links')
      .set({ revoked_at: this.clock.now() })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new TeamError('no such pending invitation', 404);
  }

  /** The link a token opens, when it still works (for the page that asks for name and password). */
  async openLink(token: string, kind: 'invite' | 'reset'): Promise<PendingLink | undefined> {
    const row = await this.db
      .selectFrom('dashboard_links')
      .selectAll()
      .where('token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || row.kind !== kind || row.used_at !== null || row.revoked_at !== null) return undefined;
    if (Number(row.expires_at) <= this.clock.now()) return undefined;
    return (await this.pendingLinks()).find((link) => link.id === row.id);
  }

  /**
   * Uses an invitation: makes the user with the invited role and projects. The link is marked used in the
   * same transaction, by a conditional update, so two tabs accepting at once make one user.
   */
  async accept(token: string, name: string, password: string): Promise<TeamMember> {
    checkPassword(password);
    if (name.trim() === '' || name.length > 200) throw new TeamError('give a name (1-200 characters)');
    const hash = await hashPassword(password);
    const username = await this.db.transaction().execute(async (tx) => {
      const link = await this.claim(tx, token, 'invite');
      if (
        await tx
          .selectFrom('dashboard_users')
          .select('username')
          .where('username', '=', link.email)
          .executeTakeFirst()
      ) {
        throw new TeamError(`${link.email} is already a member`, 409);
      }
      await tx
        .insertInto('dashboard_users')
        .values({
          username: link.email,
          email: link.email,
          name: name.trim(),
          role: link.role ?? 'viewer',
          password_hash: hash,
          created_at: this.clock.now(),
        })
        .execute();
      const projectIds = JSON.parse(link.project_ids) as string[];
      for (const id of await existingProjectIds(tx, projectIds)) {
        await tx
          .insertInto('dashboard_memberships')
          .values({ username: link.email, project_id: id })
          .execute();
      }
      return link.email;
    });
    return (await this.find(username))!;
  }

  /** Uses a reset link: sets the password and signs out the user's sessions. Returns the username. */
  async resetPassword(token: string, password: string): Promise<string> {
    checkPassword(password);
    const hash = await hashPassword(password);
    return this.db.transaction().execute(async (tx) => {
      const link = await this.claim(tx, token, 'reset');
      const username = link.username ?? '';
      const updated = await tx
        .updateTable('dashboard_users')
        .set({ password_hash: hash })
        .where('username', '=', username)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw new TeamError('this user was removed', 404);
      await tx.deleteFrom('dashboard_sessions').where('username', '=', username).execute();
      return username;
    });
  }

  private async claim(tx: Kysely<Database>, token: string, kind: 'invite' | 'reset') {
    const now = this.clock.now();
    const claimed = await tx
      .updateTable('dashboard_links')
      .set({ used_at: now })
      .where('token_hash', '=', sha256(token))
      .where('kind', '=', kind)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      throw new TeamError('this link was already used, revoked or has expired: ask for a new one', 404);
    }
    return tx
      .selectFrom('dashboard_links')
      .selectAll()
      .where('token_hash', '=', sha256(token))
      .executeTakeFirstOrThrow();
  }

  /**
   * Changes a user's role. `actor` is the role of who asks: only an owner grants or takes the owner role.
   * The last owner keeps it (refused), so the workspace always has someone who can do everything.
   */
  async setRole(username: string, role: Role, actor: Role): Promise<void> {
    if (!isRole(role))
      throw new TeamError(`unknown role "${String(role)}" (owner, admin, developer, viewer)`);
    await this.db.transaction().execute(async (tx) => {
      const user = await this.lockedUser(tx, username);
      if ((user.role === 'owner' || role === 'owner') && actor !== 'owner') {
        throw new TeamError('only an owner grants or takes the owner role', 403);
      }
      if (user.role === 'owner' && role !== 'owner') await this.keepAnOwner(tx, user.username);
      await tx.updateTable('dashboard_users').set({ role }).where('username', '=', user.username).execute();
    });
  }

  /** Sets the projects a user is a member of (meaningful for developers and viewers). */
  async setProjects(username: string, projectIds: string[]): Promise<void> {
    await this.checkProjects(projectIds);
    await this.db.transaction().execute(async (tx) => {
      const user = await this.lockedUser(tx, username);
      await tx.deleteFrom('dashboard_memberships').where('username', '=', user.username).execute();
      for (const id of new Set(projectIds)) {
        await tx
          .insertInto('dashboard_memberships')
          .values({ username: user.username, project_id: id })
          .execute();
      }
    });
  }

  /** Removes a user: their sessions go with them, so their next request is refused. */
  async remove(username: string, actor: Role): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const user = await this.lockedUser(tx, username);
      if (user.role === 'owner') {
        if (actor !== 'owner') throw new TeamError('only an owner removes an owner', 403);
        await this.keepAnOwner(tx, user.username);
      }
      await tx.deleteFrom('dashboard_sessions').where('username', '=', user.username).execute();
      await tx.deleteFrom('dashboard_memberships').where('username', '=', user.username).execute();
      await tx.deleteFrom('dashboard_users').where('username', '=', user.username).execute();
    });
  }

  private async lockedUser(tx: Kysely<Database>, username: string) {
    const key = username.trim().toLowerCase();
    const user = await tx
      .selectFrom('dashboard_users')
      .select(['username', 'role'])
      .where((eb) => eb.or([eb('username', '=', key), eb('email', '=', key)]))
      .executeTakeFirst();
    if (!user) throw new TeamError(`no user ${username}`, 404);
    return user;
  }

  private async keepAnOwner(tx: Kysely<Database>, leaving: string): Promise<void> {
    // Every owner row is locked (FOR UPDATE on PostgreSQL; SQLite's writer lock serialises anyway), so
    // two owners demoting each other at once cannot both pass this check.
    let query = tx.selectFrom('dashboard_users').select('username').where('role', '=', 'owner');
    if (this.dialect === 'postgres') query = query.forUpdate();
    const owners = await query.execute();
    if (owners.filter((o) => o.username !== leaving).length === 0) {
      throw new TeamError('the last owner cannot be demoted or removed: make another owner first', 409);
    }
  }

  private async checkProjects(projectIds: string[]): Promise<void> {
    if (projectIds.length === 0) return;
    const found = await existingProjectIds(this.db, projectIds);
    if (found.length !== new Set(projectIds).size) throw new TeamError('unknown project', 400);
  }
}
