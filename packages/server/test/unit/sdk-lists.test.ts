import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SCREENSHOT_FORMATS,
  SCREENSHOT_OPTIONS,
  VISION_DEFICIENCIES as SDK_DEFICIENCIES,
} from '@snapwire/sdk';
import { FORMATS, OPTIONS, VISION_DEFICIENCIES } from '../../src/engine/capture-spec.js';

// The SDK is published on its own, so it keeps its own copy of the values the server accepts (its types
// and the CLI's and MCP tools' choices come from it); this keeps the two copies saying the same thing.
describe('the SDK offers exactly the values the server accepts', () => {
  const same = (sdk: readonly string[], server: readonly string[]) =>
    assert.deepEqual([...sdk].sort(), [...server].sort());

  it('formats, options and vision deficiencies', () => {
    same(SCREENSHOT_FORMATS, FORMATS);
    same(SCREENSHOT_OPTIONS, OPTIONS);
    same(SDK_DEFICIENCIES, VISION_DEFICIENCIES);
  });
});
