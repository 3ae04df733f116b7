import pytest
from gradebook import Gradebook


def book():
    g = Gradebook()
    for name, score in [("bo", 90), ("bo", 81), ("al", 71), ("cy", 55), ("al", 100), ("cy", 64)]:
        g.record(name, score)
    return g


def test_average():
    g = book()
    assert g.average("bo") == 85.5
    assert g.average("cy") == 59.5


def test_letters():
    g = book()
    assert [g.letter(s) for s in ("bo", "al", "cy")] == ["B", "B", "F"]


def test_ranking_ties_alphabetical():
    assert book().ranking() == ["al", "bo", "cy"]


def test_errors():
    g = book()
    with pytest.raises(ValueError):
        g.record("bo", 101)
    with pytest.raises(KeyError):
        g.average("zed")
