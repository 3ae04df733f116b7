from accounts.models import User
from accounts.store import UserStore
from accounts.validation import check_name

STORE = UserStore()


def create_user(name):
    user = User(id=STORE.next_id(), name=check_name(name))
    return STORE.save(user)


def get_user(user_id):
    return STORE.get(user_id).to_dict()
