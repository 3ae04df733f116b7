import pytest
from versions import compare_versions, latest


def test_numeric_parts():
    assert compare_versions("2.10.0", "2.9.5") == 1
    assert compare_versions("0.9", "0.10") == -1


def test_equal_with_missing_parts():
    assert compare_versions("3.0.0", "3") == 0


def test_leading_v():
    assert compare_versions("v1.4", "1.4") == 0
    assert compare_versions("v1.5", "1.4.9") == 1


def test_invalid():
    with pytest.raises(ValueError):
        compare_versions("1.a", "1.0")


def test_latest():
    assert latest(["0.9", "v0.12", "0.11.3"]) == "v0.12"
    with pytest.raises(ValueError):
        latest([])
