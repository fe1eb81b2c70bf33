# SIGALRM after 0.1 s of a busy loop; the handler raises, which ends the loop: the usual way
# to put a time limit on code. The exception must reach f, not the tracer.
import signal


class Late(Exception):
    pass


def handler(signum, frame):
    raise Late()


def f():
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        while True:
            x = [1, 2, 3]
    except Late:
        return "stopped by the alarm"
