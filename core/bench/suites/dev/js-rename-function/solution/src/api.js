const { fetchUser } = require("./users.js");

function handle(path) {
  const id = Number(path.split("/").pop());
  return JSON.stringify(fetchUser(id));
}

module.exports = { handle };
