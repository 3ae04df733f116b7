from greet import greet


def test_greet():
    assert greet("Ann") == "Hello, Ann!"


def test_greet_other_name():
    assert greet("Bo") == "Hello, Bo!"
