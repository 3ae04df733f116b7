const test = require("node:test");
const assert = require("node:assert/strict");
const { createCart, addItem } = require("../src/cart.js");
const { checkoutTotal } = require("../src/index.js");

test("quantity counts", () => {
  const cart = addItem(addItem(createCart(), "apple", 3), "bread");
  assert.equal(checkoutTotal(cart), "4.50");
});

test("single items", () => {
  assert.equal(checkoutTotal(addItem(createCart(), "milk")), "1.32");
});
