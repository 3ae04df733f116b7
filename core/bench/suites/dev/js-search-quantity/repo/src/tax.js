const RATE = 0.2;

function withTax(amount) {
  return amount * (1 + RATE);
}

module.exports = { withTax, RATE };
