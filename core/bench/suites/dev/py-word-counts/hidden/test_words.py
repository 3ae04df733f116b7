from words import word_counts


def test_case_and_punctuation():
    assert word_counts("The cat. the CAT!") == {"the": 2, "cat": 2}


def test_question_marks_and_commas():
    assert word_counts("Why, why? Because.") == {"why": 2, "because": 1}


def test_empty():
    assert word_counts("") == {}
