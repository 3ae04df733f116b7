function formatCell(value, sep = ",") {
  const text = String(value);
  if (text.includes(sep) || text.includes('"')) return '"' + text.replace(/"/g, '""') + '"';
  return text;
}

function formatRow(row, sep = ",") {
  return row.map((cell) => formatCell(cell, sep)).join(sep);
}

function toCsv(rows, sep = ",") {
  return rows.map((row) => formatRow(row, sep)).join("\n");
}

module.exports = { formatCell, formatRow, toCsv };
