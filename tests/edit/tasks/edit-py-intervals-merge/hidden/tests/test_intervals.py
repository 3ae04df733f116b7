from intervals import contains, merge, total_length


def test_touching_intervals_are_merged():
    assert merge([(1, 3), (3, 5)]) == [(1, 5)]
    assert merge([(5, 7), (1, 3), (3, 4)]) == [(1, 4), (5, 7)]


def test_overlapping_and_reversed():
    assert merge([(1, 4), (2, 3), (9, 8)]) == [(1, 4), (8, 9)]


def test_queries():
    assert total_length([(1, 3), (3, 5)]) == 4
    assert contains([(1, 2), (5, 6)], 5)
    assert not contains([(1, 2), (5, 6)], 3)
