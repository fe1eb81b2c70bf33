# Objects whose __repr__/__str__/__eq__/__hash__ hang or raise, as a local and as the value
# returned.
class Hangs:
    def __repr__(self):
        while True:
            pass

    __str__ = __repr__

    def __eq__(self, other):
        while True:
            pass

    __hash__ = None


class Raises:
    def __repr__(self):
        raise RuntimeError("no repr for you")

    def __getattr__(self, name):
        raise RuntimeError(name)


def f():
    local = Raises()
    other = [Hangs(), local]
    return Hangs()
