# The sandbox puts user signal handlers behind a wrapper: user code must not see it.
import signal


def handler(signum, frame):
    pass


def f():
    signal.signal(signal.SIGUSR1, handler)
    same = signal.getsignal(signal.SIGUSR1) is handler
    back = signal.signal(signal.SIGUSR1, signal.SIG_DFL) is handler
    return [same, back, signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL]
