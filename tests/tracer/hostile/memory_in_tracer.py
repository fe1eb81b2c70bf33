# Swallow the MemoryError wherever it strikes (in the tracer too), then loop forever.
def f():
    hoard = []
    try:
        while True:
            hoard.append(bytearray(50 * 10**6))
    except BaseException:
        pass
    hoard = None
    n = 0
    while True:
        n += 1
