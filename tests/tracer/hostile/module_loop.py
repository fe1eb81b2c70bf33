# An infinite loop at module level: the function is never even reached.
ready = False
while not ready:
    pass


def f():
    return "unreachable"
