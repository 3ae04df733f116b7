'use strict';

function chunk(array, size) {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be >= 1');
  const out = [];
  for (let i = 0; i < array.length; i += size) {
    out.push(array.slice(i, i + size));
  }
  return out;
}

function zip(...arrays) {
  const n = Math.min(...arrays.map((a) => a.length));
  return Array.from({ length: n }, (_, i) => arrays.map((a) => a[i]));
}

function uniq(array) {
  return [...new Set(array)];
}

module.exports = { chunk, zip, uniq };
