# A plain infinite loop.
def f():
    n = 0
    while True:
        n += 1
