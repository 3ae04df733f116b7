const test = require("node:test");
const assert = require("node:assert/strict");
const { chunk, flatten } = require("../arrays.js");

test("chunk", () => {
  assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunk([1, 2, 3], 3), [[1, 2, 3]]);
  assert.deepEqual(chunk([], 3), []);
});

test("bad size", () => {
  assert.throws(() => chunk([1], 0), RangeError);
});

test("flatten still works", () => {
  assert.deepEqual(flatten([[1], [2, 3]]), [1, 2, 3]);
});
