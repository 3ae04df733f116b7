from slug import slugify, unique_slug


def test_runs_of_separators_become_one_dash():
    assert slugify("Hello,  World!") == "hello-world"
    assert slugify("  C++ & Rust -- a comparison ") == "c-rust-a-comparison"


def test_accents_and_length():
    assert slugify("Café déjà vu") == "cafe-deja-vu"
    assert len(slugify("word " * 40)) <= 60


def test_unique():
    assert unique_slug("Hello World", {"hello-world"}) == "hello-world-2"
