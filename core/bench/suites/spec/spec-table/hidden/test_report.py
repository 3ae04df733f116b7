from report import render_table


def test_example():
    assert render_table([("apple", 3, 0.5), ("melon", 12, 12.0)]) == (
        "Item  | Qty |  Price\n"
        "------+-----+-------\n"
        "apple |   3 |   0.50\n"
        "melon |  12 |  12.00\n"
        "------+-----+-------\n"
        "Total |  15 | 145.50")


def test_long_name():
    out = render_table([("watermelon", 1, 3.25)]).split("\n")
    assert out[0] == "Item       | Qty | Price"
    assert out[2] == "watermelon |   1 |  3.25"
    assert out[-1] == "Total      |   1 |  3.25"


def test_empty():
    assert render_table([]) == "Item  | Qty | Price\n------+-----+------\nTotal |   0 |  0.00"
