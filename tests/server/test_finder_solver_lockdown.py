"""The CrossHair worker's lockdown: z3 may start threads, the user's code nothing else.

The user's module probes the lockdown when it is loaded (after the lockdown, inside the
worker) and folds the outcome into its function: CrossHair's answer is 7 only if a thread
started and fork, subprocess and sockets were refused (by the audit hook and, through
ctypes, by the kernel).
"""

import asyncio

from tracecot.server.finder import solvers

PROBE = '''
import ctypes, errno, os, socket, subprocess, threading

def _refused(fn):
    try:
        fn()
    except PermissionError:
        return True
    except OSError as e:
        return e.errno == errno.EPERM
    return False

def _kernel_refused(fn):
    ctypes.set_errno(0)
    r = fn()
    if r == 0:
        os._exit(0)
    return r < 0 and ctypes.get_errno() == errno.EPERM

_libc = ctypes.CDLL(None, use_errno=True)
_ran = []
_t = threading.Thread(target=lambda: _ran.append(1))
_t.start()
_t.join()
OK = (bool(_ran) and _refused(os.fork) and _refused(lambda: subprocess.run(["true"]))
      and _refused(socket.socket) and _kernel_refused(_libc.fork)
      and _kernel_refused(lambda: _libc.socket(2, 1, 0)))

def f(n: int) -> int:
    if OK:
        return n * 3 + 1
    return -1
'''


def test_crosshair_solves_under_its_lockdown_and_threads_are_all_it_may_start():
    got = asyncio.run(solvers.run_solver("crosshair", PROBE, "f", "22", [{"kind": "int"}],
                                         10.0))
    assert got == ["7"], got


def test_crosshair_solves_a_small_task_in_the_worker():
    src = "def g(s: str) -> str:\n    return s[::-1] + 'x'\n"
    got = asyncio.run(solvers.run_solver("crosshair", src, "g", "'cbax'", [{"kind": "str"}],
                                         10.0))
    assert got == ["'abc'"], got
