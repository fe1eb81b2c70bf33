# A loop whose every line is slow (sleeps): few line events, so a deadline checked every
# thousand steps is seen late.
import time


def f():
    while True:
        time.sleep(0.005)
