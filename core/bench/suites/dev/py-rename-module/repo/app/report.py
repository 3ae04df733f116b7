from app import helpers


def report_name(title, year):
    return f"{helpers.slug(title)}-{year}.txt"
