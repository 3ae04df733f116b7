from datetime import datetime


def parse_date(text):
    """Parse a date written as DD/MM/YYYY or as an ISO date (YYYY-MM-DD)."""
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")
