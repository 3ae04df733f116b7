from report import column_total


def test_sales_amount():
    assert column_total("data/sales.csv", "amount") == 300.0


def test_other_column(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n3,4\n")
    assert column_total(str(f), "b") == 6.0
