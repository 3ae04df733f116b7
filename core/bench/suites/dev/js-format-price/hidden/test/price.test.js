const test = require("node:test");
const assert = require("node:assert/strict");
const { formatPrice } = require("../price.js");

test("two decimals", () => {
  assert.equal(formatPrice(1250), "$12.50");
  assert.equal(formatPrice(5), "$0.05");
  assert.equal(formatPrice(100000), "$1000.00");
});
