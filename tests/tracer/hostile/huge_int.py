# Huge integer arithmetic: one multiplication that takes minutes.
def f():
    n = 10**8
    return 10**n
