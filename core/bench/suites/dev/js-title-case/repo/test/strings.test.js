const test = require("node:test");
const assert = require("node:assert/strict");
const { titleCase } = require("../strings.js");

test("title case", () => {
  assert.equal(titleCase("hello world"), "Hello World");
});
