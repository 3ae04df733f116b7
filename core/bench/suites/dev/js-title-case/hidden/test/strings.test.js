const test = require("node:test");
const assert = require("node:assert/strict");
const { capitalize, titleCase } = require("../strings.js");

test("title case", () => {
  assert.equal(titleCase("hello world"), "Hello World");
});

test("double spaces are kept", () => {
  assert.equal(titleCase("hello  world"), "Hello  World");
});

test("capitalize empty string", () => {
  assert.equal(capitalize(""), "");
});
