# Stop its own process: only the fork server's deadline can end it.
import os
import signal


def f():
    os.kill(os.getpid(), signal.SIGSTOP)
    return "resumed"
