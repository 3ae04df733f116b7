from stats import largest, smallest


def test_largest():
    assert largest([3, 9, 2]) == 9
    assert largest([-5, -2]) == -2


def test_smallest_unchanged():
    assert smallest([3, 9, 2]) == 2
