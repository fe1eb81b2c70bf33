# An infinite loop wrapped in `except BaseException: pass`, re-entered forever: whatever the
# tracer raises to stop it would be swallowed.
def f():
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
