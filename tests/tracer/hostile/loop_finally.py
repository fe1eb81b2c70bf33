# `while True` inside a try whose `finally` re-enters the loop.
def f():
    while True:
        try:
            while True:
                pass
        finally:
            continue
