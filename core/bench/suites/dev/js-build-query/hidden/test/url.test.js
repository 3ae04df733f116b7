const test = require("node:test");
const assert = require("node:assert/strict");
const { buildQuery, parseQuery } = require("../url.js");

test("build", () => {
  assert.equal(buildQuery({ a: 1, b: "two words" }), "a=1&b=two%20words");
});

test("skips null and undefined", () => {
  assert.equal(buildQuery({ a: null, b: undefined, c: 0, d: "" }), "c=0&d=");
});

test("round trip", () => {
  assert.deepEqual(parseQuery(buildQuery({ "x y": "1&2" })), { "x y": "1&2" });
});
