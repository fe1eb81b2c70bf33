# SIGALRM after 0.2 s of a busy loop (so it mostly lands inside a tracer callback); the
# handler loops forever.
import signal


def handler(signum, frame):
    while True:
        pass


def f():
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    while True:
        x = [1, 2, 3]
