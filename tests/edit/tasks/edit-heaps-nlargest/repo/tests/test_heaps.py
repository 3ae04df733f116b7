from heaps import heappop, heappush, nlargest, nsmallest


def test_nlargest_small_n():
    assert nlargest(3, [5, 1, 8, 3, 9, 2, 7]) == [9, 8, 7]
    assert nlargest(1, [4, 6, 5]) == [6]
    assert nlargest(2, [3, 3, 1]) == [3, 3]


def test_nlargest_with_key_and_nsmallest():
    assert nlargest(2, ["aaa", "b", "cc"], key=len) == ["aaa", "cc"]
    assert nsmallest(2, [5, 1, 8, 3]) == [1, 3]


def test_heap_push_pop():
    h = []
    for x in [5, 2, 9, 1]:
        heappush(h, x)
    assert [heappop(h) for _ in range(4)] == [1, 2, 5, 9]
