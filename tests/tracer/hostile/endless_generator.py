# A generator that never ends, consumed by list().
def naturals():
    n = 0
    while True:
        yield n
        n += 1


def f():
    return list(naturals())
