from text import shout, truncate


def test_long_text_is_cut_with_ellipsis():
    assert truncate("hello world", 6) == "hello…"
    assert len(truncate("abcdefghij", 4)) == 4


def test_short_text_unchanged():
    assert truncate("hi", 5) == "hi"
    assert truncate("exact", 5) == "exact"


def test_shout_unchanged():
    assert shout("hey") == "HEY!"
