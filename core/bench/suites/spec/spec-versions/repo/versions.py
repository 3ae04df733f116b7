def compare_versions(a, b):
    pass


def latest(versions):
    pass
