# Unbounded recursion under the default recursion limit.
def f(n=0):
    return f(n + 1)
