from wildmatch import filter, fnmatchcase


def test_question_mark_matches_exactly_one_character():
    assert fnmatchcase("a.txt", "?.txt")
    assert not fnmatchcase("ab.txt", "?.txt")
    assert not fnmatchcase(".txt", "?.txt")


def test_star_and_sets_still_work():
    assert fnmatchcase("report-2024.csv", "report-*.csv")
    assert fnmatchcase("b", "[abc]")
    assert filter(["a.py", "bb.py", "c.txt"], "?.py") == ["a.py"]
