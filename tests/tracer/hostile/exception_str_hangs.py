# Raise an exception whose message hangs when converted to text.
class Evil(Exception):
    def __str__(self):
        while True:
            pass


def f():
    raise Evil("boom")
