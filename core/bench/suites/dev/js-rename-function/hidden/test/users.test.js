const test = require("node:test");
const assert = require("node:assert/strict");
const { fetchUser } = require("../src/users.js");
const { handle } = require("../src/api.js");
const { describe } = require("../src/cli.js");

test("fetchUser", () => {
  assert.deepEqual(fetchUser(1), { id: 1, name: "ada" });
  assert.throws(() => fetchUser(9));
});

test("callers use it", () => {
  assert.equal(handle("/users/2"), '{"id":2,"name":"linus"}');
  assert.equal(describe(1), "#1 ada");
});
