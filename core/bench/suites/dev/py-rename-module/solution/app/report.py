from app import text_tools


def report_name(title, year):
    return f"{text_tools.slug(title)}-{year}.txt"
