import pytest
from durations import format_duration


def test_zero():
    assert format_duration(0) == "0s"


def test_seconds_only():
    assert format_duration(45) == "45s"


def test_minutes_only():
    assert format_duration(180) == "3m"


def test_mixed():
    assert format_duration(3725) == "1h 2m 5s"


def test_days():
    assert format_duration(2 * 86400 + 7) == "2d 7s"


def test_negative():
    with pytest.raises(ValueError):
        format_duration(-1)
