import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProjectService, type Caller } from '../../src/accounts/projects.js';
import type { Clock } from '../../src/clock.js';
import { isApiError } from '../../src/errors.js';
import { TemplateStore } from '../../src/extraction/template-store.js';
import { DIALECTS, type TestStore } from '../helpers/stores.js';

const LIVE_KEY = 'scp-live-templates-0000000000000000000';
const TEST_KEY = 'scp-test-templates-0000000000000000000';

const TITLE = { selectors: [{ name: 'title', type: 'css', query: 'h1::text' }] };
const PRICE = { selectors: [{ name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } }] };

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number; reason: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isApiError(error), `a catalogue error, not ${String(error)}`);
    return { code: error.code, status: error.definition.httpStatus, reason: error.reason };
  }
  assert.fail('should have been refused');
}

/** Saved extraction templates (migration 0016) on both stores. */
for (const dialect of DIALECTS) {
  describe(`saved extraction templates on ${dialect.name}`, () => {
    let now = Date.UTC(2026, 11, 7, 4, 0, 0);
    const clock: Clock = { now: () => now };
    let testStore: TestStore;
    let live: Caller;
    let test: Caller;
    let other: Caller;
    let templates: TemplateStore;

    before(async () => {
      testStore = await dialect.open();
      const projects = new ProjectService(testStore.store.db, clock);
      await projects.ensureDefault('PRO', { LIVE: LIVE_KEY, TEST: TEST_KEY });
      live = (await projects.authenticate(LIVE_KEY)) as Caller;
      test = (await projects.authenticate(TEST_KEY)) as Caller;
      other = (await projects.authenticate((await projects.create('other', 'PRO')).keys.LIVE)) as Caller;
      templates = new TemplateStore(testStore.store.db, clock);
    });
    after(async () => {
      await testStore?.dispose();
    });

    it('create, get, list, replace and delete keep the JSON as saved', async () => {
      const created = await templates.create(live, 'title', TITLE);
      assert.deepEqual(created, {
        name: 'title',
        template: TITLE,
        created_at: '2026-12-07T04:00:00.000Z',
        updated_at: '2026-12-07T04:00:00.000Z',
      });
      await templates.create(live, 'a-price', PRICE);
      assert.deepEqual(
        (await templates.list(live)).map((saved) => saved.name),
        ['a-price', 'title'],
      );
      now += 60_000;
      const replaced = await templates.put(live, 'title', PRICE);
      assert.equal(replaced.created, false);
      assert.deepEqual(replaced.saved.template, PRICE);
      assert.equal(replaced.saved.created_at, '2026-12-07T04:00:00.000Z');
      assert.equal(replaced.saved.updated_at, '2026-12-07T04:01:00.000Z');
      const resolved = await templates.resolve(live, 'title');
      assert.equal(resolved.selectors[0]?.name, 'price');
      await templates.remove(live, 'title');
      const gone = await refusal(templates.get(live, 'title'));
      assert.equal(gone.code, 'ERR::EXTRACTION::TEMPLATE_NOT_FOUND');
      assert.equal(gone.status, 404);
      assert.equal((await refusal(templates.remove(live, 'title'))).status, 404);
    });

    it('put saves a new name (created: true); create refuses a name taken (409)', async () => {
      const put = await templates.put(live, 'fresh', TITLE);
      assert.equal(put.created, true);
      const taken = await refusal(templates.create(live, 'fresh', PRICE));
      assert.equal(taken.code, 'ERR::API::CONFLICT');
      assert.equal(taken.status, 409);
      assert.deepEqual((await templates.get(live, 'fresh')).template, TITLE, 'the first one kept');
    });

    it('ten creates of one name at once store exactly one', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () => templates.create(live, 'race', TITLE)),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          assert.equal((outcome.reason as { code: string }).code, 'ERR::API::CONFLICT');
      }
    });

    it('ten puts of one new name at once: one creates, the others replace it, none fails', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => templates.put(live, 'put-race', TITLE)),
      );
      assert.equal(outcomes.filter((outcome) => outcome.created).length, 1);
      assert.equal((await templates.list(live)).filter((saved) => saved.name === 'put-race').length, 1);
    });

    it('a template belongs to one project and environment', async () => {
      await templates.create(live, 'mine', TITLE);
      for (const stranger of [test, other]) {
        assert.equal((await refusal(templates.resolve(stranger, 'mine'))).status, 404);
        assert.ok(!(await templates.list(stranger)).some((saved) => saved.name === 'mine'));
      }
      // The same name is free in another environment.
      await templates.create(test, 'mine', PRICE);
      assert.deepEqual((await templates.get(live, 'mine')).template, TITLE);
    });

    it('a malformed rule is refused before it is stored, naming its path', async () => {
      const bad = {
        selectors: [
          { name: 'ok', type: 'css', query: 'h1' },
          { name: 'items', type: 'css', query: 'li', nested: [{ name: 'x', type: 'css', qurey: 'b' }] },
        ],
      };
      const unknownField = await refusal(templates.create(live, 'bad', bad));
      assert.equal(unknownField.code, 'ERR::EXTRACTION::INVALID_RULE');
      assert.equal(unknownField.status, 400);
      assert.match(unknownField.reason, /selectors\[1\]\.nested\[0\]\.qurey/);
      // A query the engine cannot compile (checked by the rules engine, not only the shape).
      const badXpath = await refusal(
        templates.put(live, 'bad', { selectors: [{ name: 'x', type: 'xpath', query: '//div[' }] }),
      );
      assert.equal(badXpath.code, 'ERR::EXTRACTION::INVALID_RULE');
      assert.match(badXpath.reason, /selectors\[0\]/);
      assert.equal((await refusal(templates.create(live, 'bad', 'not an object'))).status, 400);
      assert.equal((await refusal(templates.get(live, 'bad'))).status, 404, 'nothing was stored');
      assert.equal(
        (await refusal(templates.create(live, 'bad name!', TITLE))).code,
        'ERR::EXTRACTION::CONFIG_ERROR',
      );
    });
  });
}
