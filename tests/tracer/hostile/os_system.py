# Start a shell with os.system.
import os


def f(path):
    return os.system("touch " + path)
