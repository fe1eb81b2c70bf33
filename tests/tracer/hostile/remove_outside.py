# Delete a file outside the temporary directory.
import os


def f(path):
    os.remove(path)
    return "removed"
