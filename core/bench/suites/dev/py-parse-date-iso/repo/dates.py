from datetime import datetime


def parse_date(text):
    """Parse a date written as DD/MM/YYYY or as an ISO date (YYYY-MM-DD)."""
    text = text.strip()
    return datetime.strptime(text, "%d/%m/%Y").date()
