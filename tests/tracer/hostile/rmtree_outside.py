# Delete a directory tree outside the temporary directory.
import shutil


def f(path):
    shutil.rmtree(path)
    return "removed"
