const { subtotal } = require("./pricing.js");
const { withTax } = require("./tax.js");
const { money } = require("./format.js");

function checkoutTotal(cart) {
  return money(withTax(subtotal(cart.items)));
}

module.exports = { checkoutTotal };
