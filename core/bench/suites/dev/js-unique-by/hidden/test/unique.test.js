const test = require("node:test");
const assert = require("node:assert/strict");
const { uniqueBy } = require("../unique.js");

test("first item per key wins", () => {
  const users = [{ id: 1, n: "a" }, { id: 1, n: "b" }, { id: 2, n: "c" }, { id: 2, n: "d" }];
  assert.deepEqual(uniqueBy(users, "id").map((u) => u.n), ["a", "c"]);
});

test("empty", () => {
  assert.deepEqual(uniqueBy([], "id"), []);
});
