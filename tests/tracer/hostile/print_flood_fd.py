# 100 MB written straight to the process's stdout and stderr descriptors.
import os


def f():
    chunk = b"y" * 10**6
    for _ in range(50):
        os.write(1, chunk)
        os.write(2, chunk)
    return "written"
