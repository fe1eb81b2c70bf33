# Containers that claim to be enormous or never stop iterating.
import itertools


class Huge:
    def __len__(self):
        return 10**18

    def __iter__(self):
        return itertools.count()

    def __getitem__(self, i):
        return i


class HugeList(list):
    def __len__(self):
        return 2**62

    def __iter__(self):
        return itertools.count()


def f():
    h = Huge()
    lst = HugeList([1, 2, 3])
    return [h, lst]
