# Every handler calls the function again: exponential, and catches everything.
def f():
    try:
        f()
    except BaseException:
        f()
