import pytest

from shellquote import join, quote, split


@pytest.mark.parametrize("word", ["it's", "a b", "'", "x'y'z", "", "$HOME"])
def test_quote_round_trips_through_split(word):
    assert split(quote(word)) == [word]


def test_quote_of_single_quote():
    assert quote("it's") == "'it'\"'\"'s'"


def test_safe_words_are_unchanged():
    assert quote("abc-1.2/x") == "abc-1.2/x"
    assert join(["a", "b c"]) == "a 'b c'"
