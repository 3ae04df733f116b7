const { priceOf } = require("./catalog.js");

function createCart() {
  return { items: [] };
}

function addItem(cart, sku, quantity = 1) {
  cart.items.push({ sku, quantity, price: priceOf(sku) });
  return cart;
}

module.exports = { createCart, addItem };
