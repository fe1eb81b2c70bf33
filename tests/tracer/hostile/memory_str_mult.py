# One enormous string.
def f():
    return "abc" * 10**11
