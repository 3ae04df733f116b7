from accounts.api import create_user, get_user
from accounts.models import User


def test_create_user_with_email():
    user = create_user("ann", "ann@example.org")
    assert user.email == "ann@example.org"
    assert get_user(user.id) == {"id": user.id, "name": "ann", "email": "ann@example.org"}


def test_user_to_dict():
    assert User(id=7, name="bo", email="bo@example.org").to_dict() == {
        "id": 7, "name": "bo", "email": "bo@example.org"}
