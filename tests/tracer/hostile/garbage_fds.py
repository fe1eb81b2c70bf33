# Write garbage to descriptors 1-10 (one of them might be the tracer's), then return.
import os


def f():
    for fd in range(1, 11):
        try:
            os.write(fd, b"garbage\x00\xff{not json")
        except OSError:
            pass
    return 7
