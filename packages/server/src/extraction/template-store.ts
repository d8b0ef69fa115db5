import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { Database, ExtractionTemplatesTable } from '../store/schema.js';
import { compileTemplate } from './rules.js';
import { parseTemplateJson, type Template } from './template.js';

/** Who owns a template: a project and one of its environments (like webhooks). */
export interface TemplateOwner {
  project: { id: string; name: string };
  env: 'LIVE' | 'TEST';
}

/** A saved template as the API shows it: the JSON as it was saved. */
export interface SavedTemplate {
  name: string;
  template: unknown;
  created_at: string;
  updated_at: string;
}

/** What extraction_template=persistent:NAME (or NAME) may name: also the API's path segment. */
export const TEMPLATE_NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** Saved templates one project + environment may hold. */
export const MAX_SAVED_TEMPLATES = 500;

export const templateNotFound = (owner: TemplateOwner, name: string) =>
  new ApiError(
    'ERR::EXTRACTION::TEMPLATE_NOT_FOUND',
    `No saved extraction template named "${name}" in project "${owner.project.name}" (${owner.env}); list them with GET /extraction/templates or save one with PUT /extraction/templates/${encodeURIComponent(name)}`,
  );

/**
 * Saved extraction templates of one project + environment. A template is checked by the rules engine
 * before it is stored (a malformed rule is ERR::EXTRACTION::INVALID_RULE naming its path), so that a saved
 * template always runs.
 */
export class TemplateStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Stores a new template; a name already taken is a conflict. */
  async create(owner: TemplateOwner, name: string, template: unknown): Promise<SavedTemplate> {
    const text = checkTemplate(name, template);
    if (await this.find(owner, name)) {
      throw new ApiError(
        'ERR::API::CONFLICT',
        `A template named "${name}" already exists in this project (${owner.env}); replace it with PUT /extraction/templates/${name} or pick another name`,
      );
    }
    await this.checkRoom(owner);
    const now = this.clock.now();
    try {
      await this.db
        .insertInto('extraction_templates')
        .values({
          id: randomUUID(),
          project_id: owner.project.id,
          env: owner.env,
          name,
          template: text,
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      // Read after the failed insert: another call saved the same name in between.
      if (await this.find(owner, name)) {
        throw new ApiError(
          'ERR::API::CONFLICT',
          `A template named "${name}" already exists in this project (${owner.env})`,
        );
      }
      throw error;
    }
    return describe((await this.find(owner, name))!);
  }

  /** Replaces a template, or stores it when the name is new (`created` says which). */
  async put(
    owner: TemplateOwner,
    name: string,
    template: unknown,
  ): Promise<{ saved: SavedTemplate; created: boolean }> {
    const text = checkTemplate(name, template);
    let existing = await this.find(owner, name);
    if (!existing) {
      try {
        return { saved: await this.create(owner, name, template), created: true };
      } catch (error) {
        // Another call saved the same name in between: replace that one, as a PUT does.
        existing = await this.find(owner, name);
        if (!existing) throw error;
      }
    }
    await this.db
      .updateTable('extraction_templates')
      .set({ template: text, updated_at: this.clock.now() })
      .where('id', '=', existing.id)
      .execute();
    return { saved: describe((await this.find(owner, name))!), created: false };
  }

  async list(owner: TemplateOwner): Promise<SavedTemplate[]> {
    const rows = await this.db
      .selectFrom('extraction_templates')
      .selectAll()
      .where('project_id', '=', owner.project.id)
      .where('env', '=', owner.env)
      .orderBy('name')
      .execute();
    return rows.map(describe);
  }

  async get(owner: TemplateOwner, name: string): Promise<SavedTemplate> {
    const row = await this.find(owner, name);
    if (!row) throw templateNotFound(owner, name);
    return describe(row);
  }

  /** The template to run for persistent:NAME (or NAME); unknown: ERR::EXTRACTION::TEMPLATE_NOT_FOUND. */
  async resolve(owner: TemplateOwner, name: string): Promise<Template> {
    const row = await this.find(owner, name);
    if (!row) throw templateNotFound(owner, name);
    return parseTemplateJson(row.template);
  }

  async remove(owner: TemplateOwner, name: string): Promise<void> {
    const result = await this.db
      .deleteFrom('extraction_templates')
      .where('project_id', '=', owner.project.id)
      .where('env', '=', owner.env)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw templateNotFound(owner, name);
  }

  private async find(owner: TemplateOwner, name: string): Promise<ExtractionTemplatesTable | undefined> {
    return this.db
      .selectFrom('extraction_templates')
      .selectAll()
      .where('project_id', '=', owner.project.id)
      .where('env', '=', owner.env)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  private async checkRoom(owner: TemplateOwner): Promise<void> {
    const { count } = await this.db
      .selectFrom('extraction_templates')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('project_id', '=', owner.project.id)
      .where('env', '=', owner.env)
      .executeTakeFirstOrThrow();
    if (Number(count) >= MAX_SAVED_TEMPLATES) {
      throw new ApiError(
        'ERR::EXTRACTION::CONFIG_ERROR',
        `This project (${owner.env}) already holds ${MAX_SAVED_TEMPLATES} saved templates; delete one before saving another`,
      );
    }
  }
}

/** The name and the template checked as the rules engine will run them; the JSON text to store. */
function checkTemplate(name: string, template: unknown): string {
  if (!TEMPLATE_NAME.test(name)) {
    throw new ApiError(
      'ERR::EXTRACTION::CONFIG_ERROR',
      'A template name is 1 to 100 letters, digits, dots, dashes or underscores (it is used as extraction_template=persistent:NAME)',
    );
  }
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new ApiError(
      'ERR::EXTRACTION::INVALID_RULE',
      'The extraction template is not valid at template: send it as a JSON object with selectors',
    );
  }
  const text = JSON.stringify(template);
  compileTemplate(parseTemplateJson(text));
  return text;
}

function describe(row: ExtractionTemplatesTable): SavedTemplate {
  return {
    name: row.name,
    template: JSON.parse(row.template) as unknown,
    created_at: new Date(Number(row.created_at)).toISOString(),
    updated_at: new Date(Number(row.updated_at)).toISOString(),
  };
}
