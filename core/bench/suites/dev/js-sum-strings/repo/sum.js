// values come from form fields, so they may be strings like "2.5"
function total(values) {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

module.exports = { total };
