from api import get_user, list_users
from client import Client


def test_client_timeout_reaches_requests():
    c = Client(timeout=3)
    assert c.user(1) == {"method": "GET", "url": "/users/1", "timeout": 3}
    assert c.users(2)["timeout"] == 3


def test_default_timeout():
    assert Client().user(1)["timeout"] == 10
    assert Client("x").users()["url"] == "/users?page=1"


def test_api_functions_take_timeout():
    assert get_user(5, timeout=7)["timeout"] == 7
    assert list_users(2, timeout=1) == {"method": "GET", "url": "/users?page=2", "timeout": 1}
