from api import get_user, list_users
from transport import DEFAULT_TIMEOUT


class Client:
    def __init__(self, name="default", timeout=DEFAULT_TIMEOUT):
        self.name = name
        self.timeout = timeout

    def user(self, user_id):
        return get_user(user_id, timeout=self.timeout)

    def users(self, page=1):
        return list_users(page, timeout=self.timeout)
