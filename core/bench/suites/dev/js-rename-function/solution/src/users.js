const USERS = { 1: "ada", 2: "linus" };

function fetchUser(id) {
  if (!(id in USERS)) throw new Error(`no user ${id}`);
  return { id, name: USERS[id] };
}

module.exports = { fetchUser };
