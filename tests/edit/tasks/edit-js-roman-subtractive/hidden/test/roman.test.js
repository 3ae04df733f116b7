'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { toRoman, fromRoman } = require('../src/roman');

test('subtractive forms', () => {
  assert.strictEqual(toRoman(4), 'IV');
  assert.strictEqual(toRoman(9), 'IX');
  assert.strictEqual(toRoman(1994), 'MCMXCIV');
});

test('round trip', () => {
  for (const n of [1, 14, 40, 90, 400, 3999]) {
    assert.strictEqual(fromRoman(toRoman(n)), n);
  }
});

test('range', () => {
  assert.throws(() => toRoman(0), RangeError);
});
