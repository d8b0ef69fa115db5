import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import { PreparedQuery } from '../../src/store/prepared.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

/** A statement compiled once runs with each call's own values, alone and inside transactions. */
const RENAME = new PreparedQuery<Database, { name: string; id: string }>(['name', 'id'], (db, values) =>
  db.updateTable('projects').set({ name: values.name }).where('id', '=', values.id),
);
const BY_NAME = new PreparedQuery<Database, { name: string }, { id: string; name: string }>(
  ['name'],
  (db, values) => db.selectFrom('projects').select(['id', 'name']).where('name', '=', values.name).limit(5),
);

for (const dialect of DIALECTS) {
  describe(`prepared queries on ${dialect.name}`, () => {
    let handle: TestStore;
    const ids = ['p-one', 'p-two'];

    before(async () => {
      handle = await dialect.open();
      for (const id of ids) {
        await handle.store.db
          .insertInto('projects')
          .values({ id, name: id, plan: 'FREE', limit_overrides: '{}', created_at: 1 })
          .execute();
      }
    });
    after(async () => handle?.dispose());

    it('runs with new values each time, and the constants it was built with stay', async () => {
      const { db } = handle.store;
      const first = await RENAME.execute(db, { name: 'renamed-one', id: 'p-one' });
      assert.equal(Number(first.numAffectedRows), 1);
      const none = await RENAME.execute(db, { name: 'x', id: 'no-such-project' });
      assert.equal(Number(none.numAffectedRows), 0);
      await db.transaction().execute(async (trx) => {
        const second = await RENAME.execute(trx, { name: 'renamed-two', id: 'p-two' });
        assert.equal(Number(second.numAffectedRows), 1);
      });
      assert.deepEqual((await BY_NAME.execute(db, { name: 'renamed-two' })).rows, [
        { id: 'p-two', name: 'renamed-two' },
      ]);
      assert.deepEqual((await BY_NAME.execute(db, { name: 'renamed-one' })).rows, [
        { id: 'p-one', name: 'renamed-one' },
      ]);
    });

    it('refuses a query whose value is written into the SQL instead of passed as a parameter', () => {
      const inlined = new PreparedQuery<Database, { name: string }>(['name'], (db, values) =>
        db.deleteFrom('projects').where('name', '=', sql.lit(values.name)),
      );
      assert.throws(
        () => inlined.execute(handle.store.db, { name: 'p-one' }),
        /name did not become parameters/,
      );
    });
  });
}
