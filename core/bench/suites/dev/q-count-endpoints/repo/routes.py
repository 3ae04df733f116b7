from framework import route


@route("/health")
def health():
    return "ok"


@route("/users")
def list_users():
    return []


@route("/users", methods=["POST"])
def create_user():
    return {}


def _helper():
    """Not an endpoint: no @route."""
    return None


@route("/users/<id>")
def get_user(id):
    return {"id": id}


# @route("/admin") was removed in 2.0
def admin():
    return "gone"


@route("/metrics")
def metrics():
    return ""
