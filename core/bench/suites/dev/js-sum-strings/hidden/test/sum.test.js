const test = require("node:test");
const assert = require("node:assert/strict");
const { total } = require("../sum.js");

test("adds string numbers as numbers", () => {
  assert.equal(total(["1", "2.5", 3]), 6.5);
});

test("empty list is zero", () => {
  assert.equal(total([]), 0);
});
