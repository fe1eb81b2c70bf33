"""What the sandboxed child applies to itself before any user code runs.

Layers, each independent of the others (see README "Sandbox"):
- rlimits: address space, CPU seconds, file size, open files, no core dumps, no new processes
  for non-root users;
- seccomp (Linux x86-64/aarch64, raw BPF through ctypes): process creation (fork, vfork,
  clone, clone3, execve), sockets, io_uring, ptrace, and signals to any process outside the
  child's own get EPERM; threads therefore cannot start either;
- Landlock (Linux >= 5.13 when the kernel enables it): file writes, creations and deletions
  only below the run's temporary directory; TCP bind/connect refused (ABI >= 4);
- an audit hook (every platform): the same rules at the Python level, with clear messages;
  it also catches what the kernel layers do not see on other platforms.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import sys

# --------------------------------------------------------------------------------- rlimits

def apply_rlimits(memory_mb: int, timeout: float, file_mb: int = 16, files: int = 64) -> None:
    def setlim(which, soft, hard=None):
        try:
            cur_soft, cur_hard = resource.getrlimit(which)
            hard = soft if hard is None else hard
            if cur_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, cur_hard), min(hard, cur_hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass
    setlim(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    cpu = int(timeout) + 2
    setlim(resource.RLIMIT_CPU, cpu, cpu + 1)
    setlim(resource.RLIMIT_FSIZE, file_mb * 1024 * 1024)
    setlim(resource.RLIMIT_NOFILE, files)
    setlim(resource.RLIMIT_CORE, 0)
    if os.geteuid() != 0:   # root ignores RLIMIT_NPROC; seccomp covers it there
        setlim(resource.RLIMIT_NPROC, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # over-size writes fail with EFBIG instead


# --------------------------------------------------------------------------------- seccomp

_ARCH = {  # machine -> (AUDIT_ARCH, syscall numbers)
    "x86_64": (0xC000003E, dict(fork=57, vfork=58, clone=56, clone3=435, execve=59,
                                execveat=322, socket=41, socketpair=53, io_uring_setup=425,
                                ptrace=101, kill=62, tkill=200, tgkill=234)),
    "aarch64": (0xC00000B7, dict(clone=220, clone3=435, execve=221, execveat=281, socket=198,
                                 socketpair=199, io_uring_setup=425, ptrace=117, kill=129,
                                 tkill=130, tgkill=131)),
}
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _bpf_program(arch: int, nr: dict, pid: int) -> list[tuple[int, int, int, int]]:
    """A filter denying process creation, sockets and signals to other processes."""
    deny = _RET_ERRNO | errno.EPERM
    prog: list = [(_LD_ABS, 0, 0, 4), (_JEQ, 1, 0, arch), (_RET, 0, 0, deny), (_LD_ABS, 0, 0, 0)]
    if arch == _ARCH["x86_64"][0]:
        prog += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, deny)]   # no x32 syscalls
    for name in ("fork", "vfork", "clone", "execve", "execveat", "socket", "socketpair",
                 "io_uring_setup", "ptrace"):
        if name in nr:
            prog += [(_JEQ, 0, 1, nr[name]), (_RET, 0, 0, deny)]
    if "clone3" in nr:   # ENOSYS makes libc fall back to clone, which is denied above
        prog += [(_JEQ, 0, 1, nr["clone3"]), (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    own = {pid, 0, (-pid) & 0xFFFFFFFF}
    for name, allowed in (("kill", own), ("tkill", {pid}), ("tgkill", {pid})):
        # if nr == name: load args[0] (low word); allowed values -> ALLOW, else EPERM
        checks = [(_JEQ, 0, 0, v) for v in sorted(allowed)]
        n = len(checks)
        block = [(_JEQ, 0, n + 3, nr[name]), (_LD_ABS, 0, 0, 16)]
        for i, (code, _, _, v) in enumerate(checks):
            block.append((code, n - i, 0, v))     # jump to ALLOW
        block += [(_RET, 0, 0, deny), (_RET, 0, 0, _RET_ALLOW)]
        prog += block
    prog.append((_RET, 0, 0, _RET_ALLOW))
    return prog


def apply_seccomp() -> str:
    """Install the filter; returns a word for the trace's sandbox report."""
    machine = platform.machine()
    if sys.platform != "linux" or machine not in _ARCH:
        return "seccomp unavailable"
    arch, nr = _ARCH[machine]
    prog = _bpf_program(arch, nr, os.getpid())
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return "seccomp failed (no_new_privs)"
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return f"seccomp failed ({os.strerror(ctypes.get_errno())})"
    return "seccomp"


# --------------------------------------------------------------------------------- landlock

_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446


class _LLRulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


class _LLPathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def apply_landlock(writable_dir: str) -> str:
    if sys.platform != "linux":
        return "landlock unavailable"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return "landlock unavailable"
    write_rights = 0
    for bit in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12):   # WRITE_FILE, REMOVE_*, MAKE_*
        write_rights |= 1 << bit
    if abi >= 2:
        write_rights |= 1 << 13                     # REFER
    if abi >= 3:
        write_rights |= 1 << 14                     # TRUNCATE
    attr = _LLRulesetAttr(write_rights, 0b11 if abi >= 4 else 0)   # BIND_TCP | CONNECT_TCP
    size = ctypes.sizeof(attr) if abi >= 4 else 8
    ruleset = libc.syscall(_LL_CREATE, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        return "landlock failed"
    try:
        dir_fd = os.open(writable_dir, os.O_PATH | os.O_DIRECTORY)
        rule = _LLPathBeneath(write_rights, dir_fd)
        if libc.syscall(_LL_ADD, ruleset, 1, ctypes.byref(rule), 0) != 0:
            return "landlock failed"
        os.close(dir_fd)
        if libc.syscall(_LL_RESTRICT, ruleset, 0) != 0:
            return "landlock failed"
    finally:
        os.close(ruleset)
    return f"landlock-v{abi}"


# --------------------------------------------------------------------------------- audit hook

_PROCESS_EVENTS = frozenset({"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn",
                             "os.spawn", "subprocess.Popen", "pty.spawn", "os.startfile",
                             "_thread.start_new_thread"})
_NETWORK_EVENTS = frozenset({"socket.__new__", "socket.connect", "socket.bind",
                             "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
                             "urllib.Request"})
_PATH_EVENTS = frozenset({"os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.chmod",
                          "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime",
                          "shutil.rmtree", "shutil.copyfile", "shutil.move", "os.chflags",
                          "os.lchmod", "os.mkfifo", "os.mknod", "os.removexattr",
                          "os.setxattr"})
_WATCHED = _PROCESS_EVENTS | _NETWORK_EVENTS | _PATH_EVENTS | {"open"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install_audit_hook(writable_dir: str) -> None:
    """Refuse processes, network and writes outside `writable_dir` with PermissionError."""
    root = os.path.realpath(writable_dir) + os.sep
    realpath, fspath = os.path.realpath, os.fspath

    def outside(path) -> bool:
        if isinstance(path, int):
            return False                      # an fd already opened
        try:
            p = fspath(path)
            p = p.decode() if isinstance(p, bytes) else p
        except (TypeError, UnicodeDecodeError):
            return True
        return not (realpath(p) + os.sep).startswith(root) and p != os.devnull

    def hook(event, args):
        if event not in _WATCHED:
            return
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                      (isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing and outside(path):
                raise PermissionError(f"tracecot sandbox: writing {path!r} is not allowed "
                                      "(only the run's temporary directory is writable)")
        elif event in _PROCESS_EVENTS:
            raise PermissionError("tracecot sandbox: starting processes or threads is not "
                                  f"allowed ({event})")
        elif event in _NETWORK_EVENTS:
            raise PermissionError(f"tracecot sandbox: network access is not allowed ({event})")
        elif any(outside(a) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))):
            raise PermissionError(f"tracecot sandbox: {event} outside the run's temporary "
                                  "directory is not allowed")

    sys.addaudithook(hook)
