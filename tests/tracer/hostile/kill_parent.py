# SIGKILL to the parent (the fork server).
import os


def f():
    os.kill(os.getppid(), 9)
    return "the parent was killed"
