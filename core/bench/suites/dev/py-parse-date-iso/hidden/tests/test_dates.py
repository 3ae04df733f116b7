from datetime import date

import pytest

from dates import parse_date


def test_parse_european():
    assert parse_date("05/03/2024") == date(2024, 3, 5)


def test_parse_iso():
    assert parse_date("2024-03-05") == date(2024, 3, 5)


def test_strips_whitespace():
    assert parse_date(" 2023-12-31\n") == date(2023, 12, 31)


def test_rejects_garbage():
    with pytest.raises(ValueError):
        parse_date("yesterday")
