# Objects whose __del__ loops forever when the sandbox frees them after a MemoryError: freeing
# them must not run it (the run is reported as over its memory limit, with its trace).
import os


class Trap:
    def __del__(self):
        while True:
            pass


def f():
    keep = [Trap() for _ in range(3)]
    return keep, [0] * 10**10
