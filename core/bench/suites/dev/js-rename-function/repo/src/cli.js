const users = require("./users.js");

function describe(id) {
  const user = users.getUser(id);
  return `#${user.id} ${user.name}`;
}

module.exports = { describe };
