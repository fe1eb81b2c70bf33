# Unbounded recursion after lifting the recursion limit.
import sys


def g(n):
    return g(n + 1) + 1


def f():
    sys.setrecursionlimit(10**6)
    return g(0)
