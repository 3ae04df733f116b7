import string


def word_counts(text):
    """Count words case-insensitively, ignoring punctuation around them."""
    counts = {}
    for raw in text.split():
        word = raw.strip(string.punctuation).lower()
        if word:
            counts[word] = counts.get(word, 0) + 1
    return counts
