from api import get_user, list_users


class Client:
    def __init__(self, name="default"):
        self.name = name

    def user(self, user_id):
        return get_user(user_id)

    def users(self, page=1):
        return list_users(page)
