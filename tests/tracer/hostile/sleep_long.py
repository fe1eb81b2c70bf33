# Sleep far longer than the timeout.
import time


def f():
    time.sleep(100)
    return "woke up"
