from transport import DEFAULT_TIMEOUT, make_request


def get_user(user_id, timeout=DEFAULT_TIMEOUT):
    return make_request("GET", f"/users/{user_id}", timeout=timeout)


def list_users(page=1, timeout=DEFAULT_TIMEOUT):
    return make_request("GET", f"/users?page={page}", timeout=timeout)
