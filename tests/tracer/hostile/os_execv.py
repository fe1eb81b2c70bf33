# Replace the process with a shell.
import os


def f(path):
    os.execv("/bin/sh", ["sh", "-c", "touch " + path])
