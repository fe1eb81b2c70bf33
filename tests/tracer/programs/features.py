"""Programs exercising every kind of trace event (used by tests/test_capture.py)."""


def helper(xs):
    xs.append(len(xs))
    return xs[-1]


def calls_and_aliases(n):
    out = []
    alias = out
    total = 0
    try:
        for i in range(n):
            total += helper(out)
        raise ValueError("boom")
    except ValueError as e:
        print("caught", e)
    return total, alias


def comprehensions(xs):
    sq = [x * x for x in xs]
    best = max(xs, key=lambda x: -x)
    s = sum(x for x in sq)
    d = {k: v for k, v in zip("ab", xs)}
    return sorted(sq), best, s, d


def gen(n):
    for i in range(n):
        yield i * 2


def generators(n):
    acc = []
    for v in gen(n):
        acc.append(v)
    return acc


def boom(k):
    if k == 0:
        raise KeyError(k)
    return boom(k - 1)


def propagation():
    try:
        boom(2)
    except KeyError:
        pass
    boom(1)


class Counter:
    def __init__(self, start):
        self.value = start

    def bump(self, by):
        self.value += by
        return self.value


def methods_and_closures(n):
    c = Counter(n)
    make = lambda k: (lambda: k * 2)
    c.bump(make(3)())
    d = {}
    d.update(a=1)
    d["b"] = 2
    return c.value, d


def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def while_loop(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def stubborn(n):
    while True:
        try:
            while True:
                n += 1
        except BaseException:
            pass
