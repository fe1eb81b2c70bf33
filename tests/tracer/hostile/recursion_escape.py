# Hit the recursion limit (inside the tracer too), swallow the RecursionError, then loop: if
# the tracer was switched off by the error, neither the step cap nor the soft deadline sees it.
def deep(n):
    return deep(n + 1)


def f():
    try:
        deep(0)
    except RecursionError:
        pass
    n = 0
    while True:
        n += 1
