'use strict';

const TABLE = [
  [1000, 'M'], [500, 'D'], [100, 'C'],
  [50, 'L'], [10, 'X'], [5, 'V'], [1, 'I'],
];

function toRoman(n) {
  if (!Number.isInteger(n) || n < 1 || n > 3999) {
    throw new RangeError('n must be an integer from 1 to 3999');
  }
  let out = '';
  for (const [value, symbol] of TABLE) {
    while (n >= value) {
      out += symbol;
      n -= value;
    }
  }
  return out;
}

function fromRoman(s) {
  const values = Object.fromEntries(TABLE.map(([v, sym]) => [sym, v]));
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    const v = values[s[i]];
    const next = values[s[i + 1]] || 0;
    total += v < next ? -v : v;
  }
  return total;
}

module.exports = { toRoman, fromRoman };
