# A return value whose __repr__ raises and whose class lies about everything.
class Liar:
    def __repr__(self):
        raise ValueError("no")

    def __len__(self):
        raise TypeError("no")

    def __iter__(self):
        raise TypeError("no")

    @property
    def __dict__(self):
        raise RuntimeError("no")


def f():
    x = Liar()
    return x
