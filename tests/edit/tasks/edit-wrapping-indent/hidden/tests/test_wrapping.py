from wrapping import dedent, indent, wrap


def test_indent_skips_blank_lines_by_default():
    assert indent("a\n\nb\n", "  ") == "  a\n\n  b\n"
    assert indent("a\n   \nb", "> ") == "> a\n   \n> b"


def test_indent_with_predicate():
    assert indent("a\n\nb\n", "+", lambda line: True) == "+a\n+\n+b\n"


def test_wrap_and_dedent_still_work():
    assert wrap("one two three four", width=9) == ["one two", "three", "four"]
    assert dedent("    x\n      y\n") == "x\n  y\n"
