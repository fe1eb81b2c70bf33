"""The seccomp variant for processes that must start threads (the CrossHair worker's z3).

Each check runs in a fresh Python process that locks itself down, because a seccomp filter
cannot be removed. The same probe runs under the normal filter, where threads must fail too:
the variant differs from it in threads only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from tracecot.tracer.running import guards

# Kernel-level calls through ctypes (an audit hook does not see them), then the Python ones.
PROBE = r'''
import ctypes, errno, json, os, socket, subprocess, sys, tempfile, threading
from tracecot.tracer.running import guards
threads = sys.argv[1] == "threads"
tmp = tempfile.mkdtemp()
os.chdir(tmp)
guards.apply_rlimits(512, 10, threads=threads)
guards.apply_landlock(tmp)
word = guards.apply_seccomp(threads=threads)
guards.install_audit_hook(tmp, threads=threads)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {"word": word}
status = open("/proc/self/status").read()
out["seccomp_mode"] = [l.split()[1] for l in status.splitlines() if l.startswith("Seccomp:")]

def kernel(name, fn):
    ctypes.set_errno(0)
    r = fn()
    if r == 0:
        os._exit(0)          # a child that should not exist: leave at once
    out[name] = errno.errorcode.get(ctypes.get_errno(), r) if r < 0 else "started"

def python(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as e:
        out[name] = type(e).__name__ + ":" + errno.errorcode.get(e.errno or 0, "-")

NR = {"x86_64": (56, 435), "aarch64": (220, 435)}[os.uname().machine]
SIGCHLD, THREAD = 17, 0x00010000 | 0x00000800 | 0x00000100   # CLONE_THREAD|SIGHAND|VM
kernel("libc_fork", libc.fork)
kernel("clone_process", lambda: libc.syscall(NR[0], SIGCHLD, 0, 0, 0, 0))
kernel("clone_thread_newnet", lambda: libc.syscall(NR[0], THREAD | 0x40000000, 0, 0, 0, 0))
kernel("clone3", lambda: libc.syscall(NR[1], 0, 0))
kernel("libc_socket", lambda: libc.socket(2, 1, 0))
ran = []
def start_thread():
    t = threading.Thread(target=lambda: ran.append(1))
    t.start(); t.join()
python("thread", start_thread)
out["thread_ran"] = bool(ran)
python("os_fork", os.fork)
python("subprocess", lambda: subprocess.run(["true"]))
python("socket", lambda: socket.socket())
print(json.dumps(out))
'''


def _probe(variant: str) -> dict:
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run([sys.executable, "-c", PROBE, variant], capture_output=True,
                              text=True, timeout=60, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_thread_variant_allows_threads_and_nothing_else():
    got = _probe("threads")
    assert got["word"] == "seccomp" and got["seccomp_mode"] == ["2"], got
    assert got["thread"] == "ok" and got["thread_ran"], got
    # The kernel refuses processes, namespaced threads and sockets; clone3 gets ENOSYS.
    assert got["libc_fork"] == "EPERM", got
    assert got["clone_process"] == "EPERM", got
    assert got["clone_thread_newnet"] == "EPERM", got
    assert got["clone3"] == "ENOSYS", got
    assert got["libc_socket"] == "EPERM", got
    for name in ("os_fork", "subprocess", "socket"):
        assert got[name].startswith("PermissionError"), (name, got)


def test_normal_filter_still_refuses_threads():
    got = _probe("normal")
    assert got["word"] == "seccomp", got
    assert got["thread"].startswith("PermissionError") and not got["thread_ran"], got
    assert got["libc_fork"] == "EPERM" and got["clone_process"] == "EPERM", got
    assert got["libc_socket"] == "EPERM", got


def test_one_builder_two_variants():
    """The variant is the normal program with the clone rule swapped: same deny list."""
    arch, nr = guards._ARCH["x86_64"]
    normal = guards._bpf_program(arch, nr, 1234)
    threads = guards._bpf_program(arch, nr, 1234, threads=True)
    clone = nr["clone"]
    assert (guards._JEQ, 0, 1, clone) in normal and (guards._JEQ, 0, 1, clone) not in threads
    assert guards._threads_only(clone, guards._RET_ERRNO | 1) == threads[6:12]
    rest = [ins for ins in threads if ins not in guards._threads_only(clone, 0x50001)]
    assert set(rest) <= set(normal)
