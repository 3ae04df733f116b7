class UserStore:
    def __init__(self):
        self._users = {}
        self._next = 1

    def next_id(self):
        value = self._next
        self._next += 1
        return value

    def save(self, user):
        self._users[user.id] = user
        return user

    def get(self, user_id):
        return self._users[user_id]
