import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Environment } from '../accounts/keys.js';
import type { Caller } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import { failPendingLogs } from '../logs/log-store.js';
import { logUuidsOfPendingJobs } from '../queue/job-queue.js';
import type { Database, WebhooksTable } from '../store/schema.js';

export type Webhook = WebhooksTable;

export interface WebhookChanges {
  name?: string;
  url?: string;
  enabled?: boolean;
  queue_limit?: number | null;
  max_concurrency?: number | null;
  timeout_ms?: number | null;
}

/** What creating a webhook takes. */
export type NewWebhook = { name: string; url: string; secret?: string | undefined } & Omit<
  WebhookChanges,
  'name' | 'url' | 'enabled'
>;

/** Checks a webhook URL with the egress guard; throws an ApiError naming what is wrong. */
export type WebhookUrlCheck = (url: string) => Promise<void>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Webhooks of one project + environment: the registry behind the HTTP API. Names are unique within
 * (project, env); a name or uuid from another project is simply not found.
 */
export class WebhookRegistry {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly checkUrl: WebhookUrlCheck,
  ) {}

  /** Creates a webhook (no ping: WebhookService.create sends one in the same transaction). */
  async create(caller: Caller, input: NewWebhook): Promise<Webhook> {
    const webhook = await this.prepare(caller, input);
    await this.insert(caller, webhook, async () => undefined);
    return webhook;
  }

  /** Checks a new webhook (name, secret, URL through the egress guard, name free) and builds its row. */
  async prepare(caller: Caller, input: NewWebhook): Promise<Webhook> {
    this.checkName(input.name);
    if (input.secret !== undefined && input.secret.length < 16) {
      throw new ApiError(
        'ERR::SCRAPE::CONFIG_ERROR',
        'A webhook secret must be at least 16 characters; leave it out to get a generated one',
      );
    }
    await this.checkUrl(input.url);
    if (await this.find(caller, input.name)) {
      throw new ApiError(
        'ERR::API::CONFLICT',
        `A webhook named "${input.name}" already exists in this project (${caller.env}); pick another name or change that one`,
      );
    }
    const now = this.clock.now();
    const webhook: Webhook = {
      uuid: randomUUID(),
      project_id: caller.project.id,
      env: caller.env,
      name: input.name,
      url: input.url,
      secret: input.secret ?? generateSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      disable_reason: null,
      consecutive_failed_count: 0,
      queue_limit: input.queue_limit ?? null,
      max_concurrency: input.max_concurrency ?? null,
      timeout_ms: input.timeout_ms ?? null,
      created_at: now,
      updated_at: now,
    };
    return webhook;
  }

  /**
   * Stores a prepared webhook; `within` runs in the same transaction, so that what it writes (the creation
   * ping) and the webhook commit together or not at all.
   */
  async insert<T>(
    caller: Caller,
    webhook: Webhook,
    within: (trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('webhooks').values(webhook).execute();
        return within(trx);
      });
    } catch (error) {
      // Read after the transaction ended: on SQLite its connection is the only one.
      if (await this.find(caller, webhook.name)) {
        throw new ApiError(
          'ERR::API::CONFLICT',
          `A webhook named "${webhook.name}" already exists in this project (${caller.env})`,
        );
      }
      throw error;
    }
  }

  async list(caller: Caller): Promise<Webhook[]> {
    return this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env)
      .orderBy('name')
      .execute();
  }

  /** By name or uuid, within the caller's project and environment only. */
  async find(
    caller: { project: { id: string }; env: Environment },
    nameOrUuid: string,
  ): Promise<Webhook | undefined> {
    return this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('project_id', '=', caller.project.id)
      .where('env', '=', caller.env)
      .where((eb) => eb.or([eb('name', '=', nameOrUuid), eb('uuid', '=', nameOrUuid)]))
      .executeTakeFirst();
  }

  async require(caller: Caller, nameOrUuid: string): Promise<Webhook> {
    const webhook = await this.find(caller, nameOrUuid);
    if (!webhook) {
      throw new ApiError(
        'ERR::API::NOT_FOUND',
        `No webhook "${nameOrUuid}" in project "${caller.project.name}" (${caller.env})`,
      );
    }
    return webhook;
  }

  async byUuid(uuid: string): Promise<Webhook | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('uuid', '=', uuid).executeTakeFirst();
  }

  async update(caller: Caller, nameOrUuid: string, changes: WebhookChanges): Promise<Webhook> {
    const webhook = await this.require(caller, nameOrUuid);
    if (changes.name !== undefined && changes.name !== webhook.name) {
      this.checkName(changes.name);
      if (await this.find(caller, changes.name)) {
        throw new ApiError(
          'ERR::API::CONFLICT',
          `A webhook named "${changes.name}" already exists in this project (${caller.env})`,
        );
      }
    }
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    const set: Partial<Webhook> = { updated_at: this.clock.now() };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.queue_limit !== undefined) set.queue_limit = changes.queue_limit;
    if (changes.max_concurrency !== undefined) set.max_concurrency = changes.max_concurrency;
    if (changes.timeout_ms !== undefined) set.timeout_ms = changes.timeout_ms;
    if (changes.enabled === true)
      Object.assign(set, { enabled: 1, disable_reason: null, consecutive_failed_count: 0 });
    if (changes.enabled === false)
      Object.assign(set, { enabled: 0, disable_reason: 'disabled by its owner' });
    await this.db.updateTable('webhooks').set(set).where('uuid', '=', webhook.uuid).execute();
    return this.require(caller, webhook.uuid);
  }

  async remove(caller: Caller, nameOrUuid: string): Promise<void> {
    const webhook = await this.require(caller, nameOrUuid);
    // Its jobs and attempts go with it (foreign keys cascade). The monitoring logs of screenshots still
    // waiting end with a recorded reason, in the same transaction; a delivery in flight finishes and then
    // finds its job gone, and records nothing (see DeliveryService.record).
    await this.db.transaction().execute(async (trx) => {
      await failPendingLogs(
        trx,
        logUuidsOfPendingJobs(trx, webhook.uuid),
        'ERR::WEBHOOK::NOT_FOUND',
        `The webhook "${webhook.name}" was deleted before this screenshot was delivered`,
      );
      await trx.deleteFrom('webhooks').where('uuid', '=', webhook.uuid).execute();
    });
  }

  /** A new secret; the previous one keeps being signed with (extra header) until the grace period ends. */
  async rotateSecret(caller: Caller, nameOrUuid: string, graceMs: number, secret?: string): Promise<Webhook> {
    const webhook = await this.require(caller, nameOrUuid);
    if (secret !== undefined && secret.length < 16) {
      throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', 'A webhook secret must be at least 16 characters');
    }
    const now = this.clock.now();
    await this.db
      .updateTable('webhooks')
      .set({
        secret: secret ?? generateSecret(),
        previous_secret: webhook.secret,
        previous_secret_expires_at: now + graceMs,
        updated_at: now,
      })
      .where('uuid', '=', webhook.uuid)
      .execute();
    return this.require(caller, webhook.uuid);
  }

  private checkName(name: string): void {
    if (!NAME.test(name)) {
      throw new ApiError(
        'ERR::SCRAPE::CONFIG_ERROR',
        `The webhook name "${name}" is not valid: 1-100 letters, digits, "_", "-" or ".", starting with a letter or digit`,
      );
    }
  }
}

/** The webhook as the API shows it (Scrapfly's field names); the secret only when asked. */
export function describeWebhook(
  webhook: Webhook,
  options: { revealSecret?: boolean; queueLimit: number; queued?: number },
) {
  return {
    webhook_uuid: webhook.uuid,
    name: webhook.name,
    url: webhook.url,
    env: webhook.env,
    enabled: webhook.enabled === 1,
    disable_reason: webhook.disable_reason,
    consecutive_failed_count: webhook.consecutive_failed_count,
    queue_limit: options.queueLimit,
    ...(options.queued === undefined ? {} : { queued_element: options.queued }),
    max_concurrency: webhook.max_concurrency,
    timeout_ms: webhook.timeout_ms,
    ...(options.revealSecret ? { secret: webhook.secret } : {}),
    previous_secret_expires_at: webhook.previous_secret_expires_at
      ? new Date(webhook.previous_secret_expires_at).toISOString()
      : null,
    created_at: new Date(webhook.created_at).toISOString(),
    updated_at: new Date(webhook.updated_at).toISOString(),
  };
}

/** A webhook's project id from its uuid, or undefined (the dashboard's route access checks membership with it). */
export async function projectIdOfWebhook(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('webhooks').select('project_id').where('uuid', '=', id).executeTakeFirst();
  return row?.project_id;
}
