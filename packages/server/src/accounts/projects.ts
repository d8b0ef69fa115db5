import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, ProjectsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { ENVIRONMENTS, generateApiKey, hashApiKey, keyHint, type Environment } from './keys.js';
import {
  effectiveLimits,
  limitOverridesSchema,
  PLAN_NAMES,
  type LimitOverrides,
  type PlanLimits,
  type PlanName,
} from './plans.js';

export const DEFAULT_PROJECT = 'default';

export interface Project {
  id: string;
  name: string;
  plan: PlanName;
  overrides: LimitOverrides;
  limits: PlanLimits;
  createdAt: number;
  keyHints: Partial<Record<Environment, string>>;
}

/** Who a request is: the project and environment its key belongs to. */
export interface Caller {
  project: Project;
  env: Environment;
}

/*
 * Reads of the projects table for other rooms (one owner per table, docs/architecture.md): each takes the
 * caller's database or transaction, so a statement runs where it ran before.
 */

/** A project's id from its name, or undefined. */
export async function projectIdByName(db: Kysely<Database>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('projects').select('id').where('name', '=', name).executeTakeFirst();
  return row?.id;
}

/** A project's name from its id, or undefined. */
export async function projectNameById(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('projects').select('name').where('id', '=', id).executeTakeFirst();
  return row?.name;
}

/** Which of these project ids exist. */
export async function existingProjectIds(db: Kysely<Database>, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('projects').select('id').where('id', 'in', ids).execute();
  return rows.map((row) => row.id);
}

/**
 * PostgreSQL: locks a project's row until the transaction ends (FOR NO KEY UPDATE, so rows referencing the
 * project can still be inserted meanwhile): what serialises a project's limited creates.
 */
export async function lockProjectRow(trx: Transaction<Database>, id: string): Promise<void> {
  await trx.selectFrom('projects').select('id').where('id', '=', id).forNoKeyUpdate().execute();
}

export class ProjectError extends Error {}

export class ProjectService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Creates a project and its two keys. Returns the keys in clear text: this is the only time they exist. */
  async create(
    name: string,
    plan: PlanName,
    givenKeys: Partial<Record<Environment, string>> = {},
  ): Promise<{ project: Project; keys: Record<Environment, string> }> {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(name)) {
      throw new ProjectError(
        'a project name is 1-63 letters, digits, "-" or "_", starting with a letter or digit',
      );
    }
    if (await this.findByName(name)) throw new ProjectError(`a project named "${name}" already exists`);
    const id = randomUUID();
    const now = this.clock.now();
    const keys = {} as Record<Environment, string>;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('projects')
        .values({ id, name, plan, limit_overrides: '{}', created_at: now })
        .execute();
      for (const env of ENVIRONMENTS) {
        const key = givenKeys[env] ?? generateApiKey(env);
        keys[env] = key;
        await trx
          .insertInto('api_keys')
          .values({
            id: randomUUID(),
            project_id: id,
            env,
            key_hash: hashApiKey(key),
            key_hint: keyHint(key),
            created_at: now,
          })
          .execute();
      }
    });
    const project = await this.findByName(name);
    if (!project) throw new Error('project vanished after insert');
    return { project, keys };
  }

  /** Makes sure the `default` project exists; returns its keys only when it was created now. */
  async ensureDefault(
    plan: PlanName,
    givenKeys: Partial<Record<Environment, string>>,
  ): Promise<Record<Environment, string> | undefined> {
    if (await this.findByName(DEFAULT_PROJECT)) return undefined;
    try {
      return (await this.create(DEFAULT_PROJECT, plan, givenKeys)).keys;
    } catch (error) {
      // Another process created it between our read and insert: that is fine.
      if (await this.findByName(DEFAULT_PROJECT)) return undefined;
      throw error;
    }
  }

  async list(): Promise<Project[]> {
    const rows = await this.db
      .selectFrom('projects')
      .selectAll()
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    return Promise.all(rows.map((row) => this.hydrate(row)));
  }

  async findByName(name: string): Promise<Project | undefined> {
    const row = await this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? this.hydrate(row) : undefined;
  }

  async findById(id: string): Promise<Project | undefined> {
    const row = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.hydrate(row) : undefined;
  }

  /** Changes the plan and/or limit overrides. An override set to null goes back to the plan's value. */
  async update(
    name: string,
    changes: { plan?: PlanName; overrides?: Record<string, number | null> },
  ): Promise<Project> {
    const project = await this.requireByName(name);
    if (changes.plan && !PLAN_NAMES.includes(changes.plan)) {
      throw new ProjectError(`unknown plan "${changes.plan}"; plans: ${PLAN_NAMES.join(', ')}`);
    }
    const merged: Record<string, number> = { ...project.overrides };
    for (const [key, value] of Object.entries(changes.overrides ?? {})) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    const parsed = limitOverridesSchema.safeParse(merged);
    if (!parsed.success) {
      throw new ProjectError(
        `invalid limits: ${parsed.error.issues.map((i) => `${i.path.join('.') || i.message}`).join(', ')}; known: monthlyCredits, concurrency, webhookQueueLimit, retentionDays`,
      );
    }
    await this.db
      .updateTable('projects')
      .set({ plan: changes.plan ?? project.plan, limit_overrides: JSON.stringify(parsed.data) })
      .where('id', '=', project.id)
      .execute();
    return this.requireByName(name);
  }

  /** Replaces the key of one environment; the old key stops working at once. Returns the new key. */
  async rotateKey(name: string, env: Environment): Promise<string> {
    const project = await this.requireByName(name);
    const key = generateApiKey(env);
    await this.db
      .updateTable('api_keys')
      .set({ key_hash: hashApiKey(key), key_hint: keyHint(key), created_at: this.clock.now() })
      .where('project_id', '=', project.id)
      .where('env', '=', env)
      .execute();
    return key;
  }

  /** Finds who a key belongs to; undefined for an unknown key. */
  async authenticate(key: string): Promise<Caller | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(['project_id', 'env'])
      .where('key_hash', '=', hashApiKey(key))
      .executeTakeFirst();
    if (!row) return undefined;
    const project = await this.findById(row.project_id);
    return project ? { project, env: row.env } : undefined;
  }

  private async requireByName(name: string): Promise<Project> {
    const project = await this.findByName(name);
    if (!project) throw new ProjectError(`no project named "${name}"`);
    return project;
  }

  private async hydrate(row: ProjectsTable): Promise<Project> {
    const keys = await this.db
      .selectFrom('api_keys')
      .select(['env', 'key_hint'])
      .where('project_id', '=', row.id)
      .execute();
    const plan = row.plan as PlanName;
    const overrides = limitOverridesSchema.parse(JSON.parse(row.limit_overrides));
    return {
      id: row.id,
      name: row.name,
      plan,
      overrides,
      limits: effectiveLimits(plan, overrides),
      createdAt: row.created_at,
      keyHints: Object.fromEntries(keys.map((key) => [key.env, key.key_hint])),
    };
  }
}
