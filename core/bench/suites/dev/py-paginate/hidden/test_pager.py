from pager import page_count, paginate

ITEMS = list(range(25))


def test_first_page_starts_at_the_first_item():
    assert paginate(ITEMS, 1, 10) == list(range(10))


def test_last_page_is_partial():
    assert paginate(ITEMS, 3, 10) == [20, 21, 22, 23, 24]


def test_page_count():
    assert page_count(ITEMS, 10) == 3
