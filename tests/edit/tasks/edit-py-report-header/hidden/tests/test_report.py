from report import read_rows, render, totals

CSV = "date,category,amount\n2024-01-01,food,10.50\n2024-01-02,rent,500\n2024-01-03,food,4.50\n"


def test_first_data_row_is_counted():
    assert len(read_rows(CSV)) == 3
    assert totals(CSV) == {"food": 15.0, "rent": 500.0}


def test_render():
    assert render(totals(CSV)) == "food: 15.00\nrent: 500.00"
