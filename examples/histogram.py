"""A bundled example for `tracecot explain`."""


def histogram(values):
    """Count each value and return (value, count) pairs, most frequent first.

    >>> histogram([1, 1, 3, 1, 2])
    [(1, 3), (3, 1), (2, 1)]
    """
    counts = {}
    for v in values:
        if v in counts:
            counts[v] += 1
        else:
            counts[v] = 1
    pairs = list(counts.items())
    pairs.sort(key=lambda p: -p[1])
    return pairs
