"""The file the end-to-end test opens: plain functions with doctests, as a user writes them."""


def histogram(values):
    """Count each value and return (value, count) pairs, most frequent first.

    >>> histogram([1, 1, 3, 1, 2])
    [(1, 3), (3, 1), (2, 1)]
    """
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    pairs = list(counts.items())
    pairs.sort(key=lambda p: -p[1])
    return pairs


def square(n):
    """
    >>> square(3)
    9
    """
    result = n * n
    return result
