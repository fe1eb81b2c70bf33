# SIGALRM in a second; its handler loops forever.
import signal
import time


def handler(signum, frame):
    while True:
        pass


def f():
    signal.signal(signal.SIGALRM, handler)
    signal.alarm(1)
    while True:
        time.sleep(0.01)
