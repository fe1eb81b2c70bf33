# pathlib.write_text in the home directory.
from pathlib import Path


def f(name):
    Path.home().joinpath(name).write_text("escaped")
    return "written"
