# Change the mode of a file outside the temporary directory.
import os


def f(path):
    os.chmod(path, 0o777)
    return "changed"
