from wordfreq import frequencies, top, words


def test_counts_ignore_case():
    assert frequencies("The cat and the hat. THE end")["the"] == 3
    assert "The" not in frequencies("The cat")


def test_top_words():
    assert top("b a B c A b", 2) == [("b", 3), ("a", 2)]


def test_words_strip_quotes():
    assert words("'tis Bob's") == ["tis", "Bob's"]
