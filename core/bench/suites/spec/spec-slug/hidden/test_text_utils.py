from text_utils import slugify, word_count


def test_basic():
    assert slugify("  Ten Tips -- for   Python ") == "ten-tips-for-python"


def test_accents():
    assert slugify("Ünïcode Façade") == "unicode-facade"


def test_symbols():
    assert slugify("C++ & Rust: 2024!") == "c-rust-2024"


def test_max_length_cuts_at_dash():
    assert slugify("making great slugs", max_length=12) == "making-great"
    assert slugify("making great slugs", max_length=11) == "making"


def test_word_count_untouched():
    assert word_count("a b c") == 3
