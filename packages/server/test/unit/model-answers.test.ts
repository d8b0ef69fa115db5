// How a long document is cut into parts for the model, and how the parts' answers become one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeAnswers } from '../../src/extraction/merge-answers.js';
import { chunkDocument } from '../../src/extraction/reduce.js';

describe('chunkDocument', () => {
  const paragraphs = Array.from(
    { length: 50 },
    (_, index) => `Paragraph ${index} ${'word '.repeat(30).trim()}`,
  );
  const text = paragraphs.join('\n\n');

  it('a short document is one part, not truncated', () => {
    const chunked = chunkDocument('Just a line.', 'text', {
      baseUrl: undefined,
      maxTokens: 500,
      maxChunks: 4,
    });
    assert.deepEqual(chunked.chunks, ['Just a line.']);
    assert.equal(chunked.truncated, false);
  });

  it('parts stay within the budget, end at paragraph breaks, and together hold the whole text', () => {
    const chunked = chunkDocument(text, 'text', { baseUrl: undefined, maxTokens: 500, maxChunks: 64 });
    assert.ok(chunked.chunks.length > 1);
    assert.equal(chunked.truncated, false);
    for (const chunk of chunked.chunks) {
      assert.ok(chunk.length <= 2_000, `${chunk.length} characters`);
      assert.match(chunk, /^Paragraph \d+/, 'a part starts at a paragraph');
    }
    assert.equal(chunked.chunks.join('\n\n'), text);
  });

  it('past maxChunks parts the rest is cut and said so', () => {
    const chunked = chunkDocument(text, 'text', { baseUrl: undefined, maxTokens: 500, maxChunks: 2 });
    assert.equal(chunked.chunks.length, 2);
    assert.equal(chunked.truncated, true);
  });
});

describe('mergeAnswers', () => {
  it("objects: a key's first non-empty value wins, lists under a key are joined without repeats", () => {
    assert.deepEqual(
      mergeAnswers([
        { name: 'Widget', price: null, reviews: [{ by: 'a' }], specs: { colour: 'blue', size: null } },
        { name: 'Widget (cont.)', price: 12, reviews: [{ by: 'a' }, { by: 'b' }], specs: { size: 'L' } },
      ]),
      {
        name: 'Widget',
        price: 12,
        reviews: [{ by: 'a' }, { by: 'b' }],
        specs: { colour: 'blue', size: 'L' },
      },
    );
  });

  it('lists are concatenated in order without repeats; empty answers are skipped', () => {
    assert.deepEqual(mergeAnswers([[1, 2], [], [2, 3], null]), [1, 2, 3]);
  });

  it('free-text answers are joined; a part that says nothing adds nothing', () => {
    assert.equal(
      mergeAnswers(['It costs $5.', '  ', 'It ships in May.']),
      'It costs $5.\n\nIt ships in May.',
    );
  });

  it('answers of different kinds: the first that says something', () => {
    assert.deepEqual(mergeAnswers([null, { a: 1 }, 'text']), { a: 1 });
    assert.equal(mergeAnswers([null, null]), null);
  });
});
