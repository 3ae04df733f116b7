function uniqueBy(items, key) {
  const seen = new Set();
  const out = [];
  for (const item of items) {
    if (!seen.has(item[key])) {
      seen.add(item[key]);
      out.push(item);
    }
  }
  return out;
}

module.exports = { uniqueBy };
