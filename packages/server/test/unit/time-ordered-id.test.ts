import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeOrderedId } from '../../src/store/time-ordered-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids (job and attempt ids)', () => {
  it('are UUIDs (version 7) that sort in the order they were made, within one millisecond too', () => {
    const at = Date.UTC(2026, 10, 28, 12);
    const ids = [
      ...Array.from({ length: 5000 }, () => timeOrderedId(at)),
      ...Array.from({ length: 100 }, (_, i) => timeOrderedId(at + 10 + i)),
    ];
    for (const id of ids) assert.match(id, UUID_V7);
    assert.equal(new Set(ids).size, ids.length, 'no id twice');
    assert.deepEqual([...ids].sort(), ids, 'text order is creation order');
    // The first 48 bits are the milliseconds the id was made at.
    assert.equal(parseInt(ids.at(-1)!.replace(/-/g, '').slice(0, 12), 16), at + 109);
  });

  it('keep their order when the clock goes back (a moved test clock, an NTP step)', () => {
    const later = timeOrderedId(Date.UTC(2026, 10, 28, 13));
    const earlier = timeOrderedId(Date.UTC(2026, 10, 28, 11));
    assert.ok(earlier > later);
  });
});
