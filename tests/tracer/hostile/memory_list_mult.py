# One enormous list.
def f():
    return [0] * 10**10
