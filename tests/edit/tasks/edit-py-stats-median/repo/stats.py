"""Small descriptive statistics without numpy."""


def mean(values):
    values = list(values)
    if not values:
        raise ValueError("mean of empty data")
    return sum(values) / len(values)


def median(values):
    data = sorted(values)
    n = len(data)
    if n == 0:
        raise ValueError("median of empty data")
    mid = n // 2
    if n % 2 == 1:
        return data[mid]
    return data[mid]


def mode(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    if not counts:
        raise ValueError("mode of empty data")
    return max(counts, key=lambda v: (counts[v], -list(counts).index(v)))


def spread(values):
    data = list(values)
    return max(data) - min(data)
