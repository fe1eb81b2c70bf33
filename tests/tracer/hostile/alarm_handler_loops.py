# SIGALRM after 0.2 s (early: under CI load the run's soft deadline can come ~1 s into the
# call, and the handler must be running by then); its handler loops forever.
import signal
import time


def handler(signum, frame):
    while True:
        pass


def f():
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    while True:
        time.sleep(0.01)
