from transport import make_request


def get_user(user_id):
    return make_request("GET", f"/users/{user_id}")


def list_users(page=1):
    return make_request("GET", f"/users?page={page}")
