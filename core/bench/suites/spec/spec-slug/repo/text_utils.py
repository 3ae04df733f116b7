def slugify(title, max_length=None):
    raise NotImplementedError("see docs/slugs.md")


def word_count(text):
    return len(text.split())
