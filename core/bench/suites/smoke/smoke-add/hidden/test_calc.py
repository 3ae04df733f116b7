from calc import add, multiply


def test_add():
    assert add(2, 3) == 5
    assert add(-1, 1) == 0
    assert add(0.5, 0.25) == 0.75


def test_multiply_unchanged():
    assert multiply(4, 3) == 12
