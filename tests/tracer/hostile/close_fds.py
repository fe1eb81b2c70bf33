# Close every descriptor, then return normally.
import os


def f():
    os.closerange(0, 1000)
    for fd in range(1000, 1100):
        try:
            os.close(fd)
        except OSError:
            pass
    return 42
