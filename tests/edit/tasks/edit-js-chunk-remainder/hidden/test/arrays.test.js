'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { chunk, zip, uniq } = require('../src/arrays');

test('chunk keeps the last partial chunk', () => {
  assert.deepStrictEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepStrictEqual(chunk([1, 2], 5), [[1, 2]]);
  assert.deepStrictEqual(chunk([], 3), []);
});

test('zip and uniq', () => {
  assert.deepStrictEqual(zip([1, 2], ['a', 'b', 'c']), [[1, 'a'], [2, 'b']]);
  assert.deepStrictEqual(uniq([1, 1, 2]), [1, 2]);
});
