const fs = require("node:fs");
const path = require("node:path");
const old = new RegExp("\\b" + "get" + "User" + "\\b");
const left = fs.readdirSync("src").filter((f) => old.test(fs.readFileSync(path.join("src", f), "utf8")));
if (left.length) {
  console.error("old name still in: " + left.join(", "));
  process.exit(1);
}
