# os.open with O_CREAT outside the temporary directory.
import os


def f(path):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"escaped")
    return fd
