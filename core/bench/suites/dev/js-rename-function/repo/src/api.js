const { getUser } = require("./users.js");

function handle(path) {
  const id = Number(path.split("/").pop());
  return JSON.stringify(getUser(id));
}

module.exports = { handle };
