'use strict';

function lineTotal(item) {
  if (item.qty < 0) throw new RangeError('qty must not be negative');
  return item.price * item.qty;
}

function total(items, { discount = 0 } = {}) {
  const gross = items.reduce((sum, item) => sum + lineTotal(item), 0);
  return Math.round(gross * (1 - discount) * 100) / 100;
}

function count(items) {
  return items.reduce((n, item) => n + item.qty, 0);
}

function formatPrice(amount, currency = 'EUR') {
  return `${amount.toFixed(2)} ${currency}`;
}

module.exports = { lineTotal, total, count, formatPrice };
