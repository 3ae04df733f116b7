const fs = require("node:fs");
const assert = require("node:assert/strict");
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
assert.deepEqual(pkg.scripts, { start: "node server.js", test: "node --test" });
assert.deepEqual(pkg.engines, { node: ">=20" });
assert.equal(pkg.name, "tiny-server");
assert.equal(pkg.version, "1.2.0");
assert.equal(pkg.main, "server.js");
