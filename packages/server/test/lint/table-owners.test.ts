// The lint rule "one owner per table" (eslint.config.js, snapwire/table-owner; issue 19.3): a deliberate
// violation fails `npm run lint`, the owner passes, and every table of the schema has an owner.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
// @ts-expect-error eslint.config.js is plain JavaScript without declarations.
import { TABLE_OWNERS } from '../../../../eslint.config.js';

const root = path.resolve(import.meta.dirname, '../../../..');
// The project's own config; only this rule runs, and without type information (the rule needs none), so
// the test does not start the TypeScript project service.
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === 'snapwire/table-owner',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
});

/** What snapwire/table-owner says of `code` as the file `file` (under packages/server/src). */
async function tableFindings(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, 'packages/server/src', file) });
  assert.ok(result, 'eslint linted the text');
  const fatal = result.messages.filter((message) => message.fatal);
  assert.deepEqual(fatal, [], 'the text parses');
  return result.messages
    .filter((message) => message.ruleId === 'snapwire/table-owner')
    .map((message) => message.message);
}

const query = (statement: string) => `import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../store/schema.js';
export async function probe(db: Kysely<Database>) {
  void sql;
  return ${statement};
}
`;

describe('lint: one owner per table', () => {
  it('refuses a room querying a table it does not own, naming the owner', async () => {
    const findings = await tableFindings(
      'dashboard/queries.ts',
      query(`db.selectFrom('jobs').select('id').execute()`),
    );
    assert.equal(findings.length, 1);
    assert.match(findings[0] ?? '', /dashboard\/queries\.ts queries the table "jobs", owned by queue/);
  });

  it('refuses every statement kind, aliases, joins and raw SQL outside the owner', async () => {
    const statements = [
      `db.insertInto('webhook_attempts').values([]).execute()`,
      `db.updateTable('screenshot_logs as l').set({ cost: 0 }).execute()`,
      `db.deleteFrom('crawls').execute()`,
      `db.selectFrom('projects').innerJoin('api_keys', 'api_keys.project_id', 'projects.id').selectAll().execute()`,
      'sql`delete from jobs where id = ${1}`.execute(db)',
    ];
    for (const statement of statements) {
      const findings = await tableFindings('retention/retention-sweeper.ts', query(statement));
      assert.ok(findings.length >= 1, `refused: ${statement}`);
    }
  });

  it('lets the owner query its table, and holds a file-owned table to its file', async () => {
    assert.deepEqual(
      await tableFindings('queue/job-queue.ts', query(`db.selectFrom('jobs').select('id').execute()`)),
      [],
    );
    assert.deepEqual(
      await tableFindings('schedules/runs.ts', query(`db.selectFrom('schedule_runs').selectAll().execute()`)),
      [],
    );
    const elsewhere = await tableFindings(
      'schedules/scheduler.ts',
      query(`db.selectFrom('schedule_runs').selectAll().execute()`),
    );
    assert.equal(elsewhere.length, 1, 'schedule_runs belongs to schedules/runs.ts, not the whole room');
  });

  it('gives every table of the schema an owner', () => {
    const schema = fs.readFileSync(path.join(root, 'packages/server/src/store/schema.ts'), 'utf8');
    const database = /export interface Database \{([^}]*)\}/.exec(schema)?.[1] ?? '';
    const tables = [...database.matchAll(/^\s*(\w+):/gm)].map((match) => match[1] ?? '');
    assert.ok(tables.length > 20, 'the Database interface was read');
    const owners = TABLE_OWNERS as Record<string, string[]>;
    assert.deepEqual(
      tables.filter((table) => !owners[table]),
      [],
      'a table without an owner in TABLE_OWNERS',
    );
    assert.deepEqual(
      Object.keys(owners).filter((table) => !tables.includes(table)),
      [],
      'an owner of a table the schema no longer has',
    );
  });
});
