function formatCell(value) {
  const text = String(value);
  if (text.includes(",") || text.includes('"')) return '"' + text.replace(/"/g, '""') + '"';
  return text;
}

function formatRow(row) {
  return row.map(formatCell).join(",");
}

function toCsv(rows) {
  return rows.map(formatRow).join("\n");
}

module.exports = { formatCell, formatRow, toCsv };
