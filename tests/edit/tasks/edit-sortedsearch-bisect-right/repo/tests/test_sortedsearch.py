from sortedsearch import bisect_left, bisect_right, insort_right


def test_bisect_right_goes_after_equal_items():
    assert bisect_right([1, 2, 2, 3], 2) == 3
    assert bisect_right([1, 2, 2, 3], 0) == 0
    assert bisect_right([1, 2, 2, 3], 5) == 4


def test_bisect_left_unchanged():
    assert bisect_left([1, 2, 2, 3], 2) == 1


def test_insort_right_keeps_order():
    a = [1, 2, 4]
    insort_right(a, 3)
    insort_right(a, 2)
    assert a == [1, 2, 2, 3, 4]
