from functools import cmp_to_key


def _parts(v):
    v = v[1:] if v.startswith("v") else v
    try:
        return [int(p) for p in v.split(".")]
    except ValueError:
        raise ValueError(f"bad version {v!r}") from None


def compare_versions(a, b):
    pa, pb = _parts(a), _parts(b)
    n = max(len(pa), len(pb))
    pa += [0] * (n - len(pa))
    pb += [0] * (n - len(pb))
    return (pa > pb) - (pa < pb)


def latest(versions):
    if not versions:
        raise ValueError("no versions")
    return max(versions, key=cmp_to_key(compare_versions))
