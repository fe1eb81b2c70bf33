# Ignore SIGTERM, SIGINT and SIGXCPU, then block in a builtin.
import signal
import time


def f():
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP):
        signal.signal(sig, lambda *a: None)
    time.sleep(100)
