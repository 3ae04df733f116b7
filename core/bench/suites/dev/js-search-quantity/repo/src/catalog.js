const PRICES = { apple: 0.5, bread: 2.25, milk: 1.1 };

function priceOf(sku) {
  if (!(sku in PRICES)) throw new Error(`unknown sku ${sku}`);
  return PRICES[sku];
}

module.exports = { priceOf };
