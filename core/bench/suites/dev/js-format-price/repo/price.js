// Prices are stored as integer cents.
function formatPrice(cents) {
  return "$" + cents / 100;
}

module.exports = { formatPrice };
