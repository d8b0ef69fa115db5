// Loaded before every test file (scripts/test.mjs). Node's assert.ok(value) without a message builds one
// by re-reading and parsing the caller's source; under tsx's transformed sources that can spin for
// minutes (measured: a failing assert.ok hung a test file past its timeout). A fixed message keeps a
// failing test a fast failure; the stack trace still points at the line.
import assert from 'node:assert';
import strict from 'node:assert/strict';

for (const target of [assert, strict]) {
  const original = target.ok;
  target.ok = function ok(value, message) {
    return original.call(this, value, message ?? 'expected a truthy value');
  };
}
