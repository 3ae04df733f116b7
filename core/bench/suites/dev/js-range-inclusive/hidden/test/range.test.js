const test = require("node:test");
const assert = require("node:assert/strict");
const { range } = require("../range.js");

test("inclusive end", () => {
  assert.deepEqual(range(1, 5), [1, 2, 3, 4, 5]);
});

test("step", () => {
  assert.deepEqual(range(0, 10, 5), [0, 5, 10]);
  assert.deepEqual(range(0, 9, 4), [0, 4, 8]);
});

test("single value", () => {
  assert.deepEqual(range(3, 3), [3]);
});
