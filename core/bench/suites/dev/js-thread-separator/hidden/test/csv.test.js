const test = require("node:test");
const assert = require("node:assert/strict");
const { toCsv, formatRow } = require("../csv.js");

test("semicolon separator", () => {
  assert.equal(toCsv([["a", "b;c"], ["1", "2,5"]], ";"), 'a;"b;c"\n1;2,5');
});

test("comma default", () => {
  assert.equal(toCsv([["a,b", "c"]]), '"a,b",c');
  assert.equal(formatRow(["x", 'say "hi"']), 'x,"say ""hi"""');
});

test("formatRow takes the separator", () => {
  assert.equal(formatRow(["a", "b"], "|"), "a|b");
});
