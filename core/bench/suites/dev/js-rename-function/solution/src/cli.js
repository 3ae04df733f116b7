const users = require("./users.js");

function describe(id) {
  const user = users.fetchUser(id);
  return `#${user.id} ${user.name}`;
}

module.exports = { describe };
