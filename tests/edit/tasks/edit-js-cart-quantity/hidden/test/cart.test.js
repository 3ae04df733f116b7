'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { total, count, lineTotal } = require('../src/cart');

const items = [{ price: 2.5, qty: 4 }, { price: 10, qty: 1 }];

test('total multiplies price by quantity', () => {
  assert.strictEqual(total(items), 20);
});

test('total with discount', () => {
  assert.strictEqual(total(items, { discount: 0.1 }), 18);
});

test('count and lineTotal', () => {
  assert.strictEqual(count(items), 5);
  assert.strictEqual(lineTotal({ price: 3, qty: 2 }), 6);
  assert.throws(() => total([{ price: 1, qty: -1 }]), RangeError);
});
