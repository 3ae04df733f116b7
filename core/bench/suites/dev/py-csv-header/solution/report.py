import csv


def column_total(path, column):
    """Sum a numeric column of a CSV file that has a header row."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    index = rows[0].index(column)
    return sum(float(row[index]) for row in rows[1:])
