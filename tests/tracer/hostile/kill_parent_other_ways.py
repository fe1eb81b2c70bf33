# Every other way to signal the fork server (or anyone else) from the child. Each attempt's
# outcome is returned; the sandbox must refuse them all.
import ctypes
import fcntl
import os
import resource
import signal
import struct


def attempt(fn):
    try:
        r = fn()
    except BaseException as e:      # refused: the exception's type
        return type(e).__name__
    return f"succeeded: {r!r}"


def f():
    ppid = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    info = ctypes.create_string_buffer(struct.pack("iii", signal.SIGKILL, 0, -1) + bytes(116))

    def raw(nr, *args):
        if libc.syscall(nr, *args) < 0:
            raise OSError(ctypes.get_errno(), "refused")
        return 0

    def setown():
        r, w = os.pipe()
        fcntl.fcntl(r, fcntl.F_SETOWN, ppid)
        fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
        os.write(w, b"x")

    return {
        "killpg": attempt(lambda: os.killpg(os.getpgid(ppid), signal.SIGKILL)),
        "kill -1 (probe)": attempt(lambda: os.kill(-1, 0)),
        "kill init (probe)": attempt(lambda: os.kill(1, 0)),
        "pidfd_send_signal": attempt(
            lambda: signal.pidfd_send_signal(os.pidfd_open(ppid), signal.SIGKILL)),
        "rt_sigqueueinfo": attempt(lambda: raw(129, ppid, signal.SIGKILL, info)),
        "tgkill": attempt(lambda: raw(234, ppid, ppid, signal.SIGKILL)),
        "F_SETOWN": attempt(setown),
        "prlimit": attempt(lambda: resource.prlimit(ppid, resource.RLIMIT_NOFILE, (3, 3))),
        "setpriority": attempt(lambda: os.setpriority(os.PRIO_PROCESS, ppid, 19)),
        "ptrace attach": attempt(lambda: raw(101, 16, ppid, 0, 0)),
    }
