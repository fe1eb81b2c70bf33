"""What the sandboxed child applies to itself before any user code runs.

Layers, each independent of the others (see README "Sandbox"):
- rlimits: address space, CPU seconds, file size, open files, no core dumps, no new processes
  for non-root users;
- seccomp (Linux x86-64/aarch64, raw BPF through ctypes): process creation (fork, vfork,
  clone, clone3, execve), sockets, io_uring, ptrace, every way to signal or reach another
  process (kill/tgkill outside the child, pidfd_*, rt_sigqueueinfo, process_vm_*, F_SETOWN),
  setting resource limits, chmod/chown/xattr (Landlock does not cover them), the
  system-administration calls a root child could make (mount, bpf, modules, reboot...), and
  closing or replacing the result pipe get EPERM; threads therefore cannot start either,
  except in the variant for a process that must start threads (the solver worker: z3):
  there `clone` is allowed only with CLONE_THREAD and no namespace flag, `clone3` gets ENOSYS
  (glibc falls back to `clone`), and everything else stays refused;
- Landlock (Linux >= 5.13 when the kernel enables it): file writes, creations and deletions
  only below the run's temporary directory (no device nodes even there; /dev/null stays
  writable); TCP bind/connect refused (ABI >= 4); signals to outside processes refused
  (ABI >= 6);
- an audit hook (every platform): the same rules at the Python level, with clear messages;
  it also catches what the kernel layers do not see on other platforms.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import operator
import os
import platform
import resource
import signal
import struct
import sys

# --------------------------------------------------------------------------------- rlimits

def apply_rlimits(memory_mb: int, timeout: float, file_mb: int = 16, files: int = 64,
                  threads: bool = False) -> None:
    """`threads`: keep RLIMIT_NPROC (threads count against it; seccomp refuses processes)."""
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
    if os.geteuid() != 0 and not threads:   # root ignores RLIMIT_NPROC; seccomp covers it
        setlim(resource.RLIMIT_NPROC, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # over-size writes fail with EFBIG instead


# --------------------------------------------------------------------------------- seccomp

# Syscalls denied outright (EPERM). Beyond process creation, sockets and ptrace: every other
# way to signal or reach into another process (the fork server is one), to raise limits, and
# the system-administration calls a child running as root could otherwise make. Metadata
# changes (chmod/chown/xattr) are here because Landlock does not cover them: through ctypes a
# root child could otherwise chmod any file on the machine.
_DENY = ("fork", "vfork", "clone", "execve", "execveat", "socket", "socketpair", "io_uring_setup",
         "ptrace", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "rt_sigqueueinfo",
         "rt_tgsigqueueinfo", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
         "setrlimit", "sched_setscheduler", "sched_setparam", "sched_setattr", "ioprio_set",
         "migrate_pages", "move_pages",
         "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
         "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
         "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
         "fsconfig", "fsmount", "fspick", "mount_setattr", "swapon", "swapoff", "reboot",
         "sethostname", "setdomainname", "iopl", "ioperm", "init_module", "delete_module",
         "finit_module", "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "unshare",
         "setns", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
         "quotactl", "keyctl", "add_key", "request_key", "userfaultfd", "name_to_handle_at",
         "open_by_handle_at", "syslog", "vhangup")
# ENOSYS, so that libc falls back to a call the filter can inspect: clone3 -> clone (denied).
_NOSYS = ("clone3",)

_ARCH = {  # machine -> (AUDIT_ARCH, syscall numbers)
    "x86_64": (0xC000003E, dict(
        fork=57, vfork=58, clone=56, clone3=435, execve=59, execveat=322, socket=41,
        socketpair=53, io_uring_setup=425, ptrace=101, kill=62, tkill=200, tgkill=234,
        pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, rt_sigqueueinfo=129,
        rt_tgsigqueueinfo=297, process_vm_readv=310, process_vm_writev=311,
        process_madvise=440, kcmp=312, setrlimit=160, prlimit64=302, setpriority=141,
        sched_setaffinity=203, sched_setscheduler=144, sched_setparam=142, sched_setattr=314,
        ioprio_set=251, migrate_pages=256, move_pages=279, chmod=90, fchmod=91, fchmodat=268,
        fchmodat2=452, chown=92, fchown=93, lchown=94, fchownat=260, setxattr=188,
        lsetxattr=189, fsetxattr=190, removexattr=197, lremovexattr=198, fremovexattr=199,
        mount=165, umount2=166, pivot_root=155, chroot=161, open_tree=428, move_mount=429,
        fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442, swapon=167,
        swapoff=168, reboot=169, sethostname=170, setdomainname=171, iopl=172, ioperm=173,
        init_module=175, delete_module=176, finit_module=313, kexec_load=246,
        kexec_file_load=320, bpf=321, perf_event_open=298, unshare=272, setns=308, acct=163,
        settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, quotactl=179,
        keyctl=250, add_key=248, request_key=249, userfaultfd=323, name_to_handle_at=303,
        open_by_handle_at=304, syslog=103, vhangup=153, fcntl=72, ioctl=16, close=3, dup2=33,
        dup3=292, close_range=436)),
    "aarch64": (0xC00000B7, dict(
        clone=220, clone3=435, execve=221, execveat=281, socket=198, socketpair=199,
        io_uring_setup=425, ptrace=117, kill=129, tkill=130, tgkill=131, pidfd_open=434,
        pidfd_send_signal=424, pidfd_getfd=438, rt_sigqueueinfo=138, rt_tgsigqueueinfo=240,
        process_vm_readv=270, process_vm_writev=271, process_madvise=440, kcmp=272,
        setrlimit=164, prlimit64=261, setpriority=140, sched_setaffinity=122,
        sched_setscheduler=119, sched_setparam=118, sched_setattr=274, ioprio_set=30,
        migrate_pages=238, move_pages=239, fchmod=52, fchmodat=53, fchmodat2=452, fchown=55,
        fchownat=54, setxattr=5, lsetxattr=6, fsetxattr=7, removexattr=14, lremovexattr=15,
        fremovexattr=16, mount=40, umount2=39, pivot_root=41, chroot=51, open_tree=428,
        move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442,
        swapon=224, swapoff=225, reboot=142, sethostname=161, setdomainname=162,
        init_module=105, delete_module=106, finit_module=273, kexec_load=104,
        kexec_file_load=294, bpf=280, perf_event_open=241, unshare=97, setns=268, acct=89,
        settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171, quotactl=60,
        keyctl=219, add_key=217, request_key=218, userfaultfd=282, name_to_handle_at=264,
        open_by_handle_at=265, syslog=116, vhangup=58, fcntl=25, ioctl=29, close=57, dup3=24,
        close_range=436)),
}
_LD_ABS, _JEQ, _JGT, _JGE, _RET, _AND = 0x20, 0x15, 0x25, 0x35, 0x06, 0x54
_CLONE_THREAD = 0x00010000
# Namespace flags a thread must not carry (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID,
# NEWNET): a root process could otherwise give a thread its own network or mount namespace.
_CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | \
    0x20000000 | 0x40000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_F_SETOWN, _F_SETSIG, _F_SETOWN_EX = 8, 10, 15           # fcntl: SIGIO to another process
_FIOSETOWN, _SIOCSPGRP, _TIOCSTI = 0x8901, 0x8902, 0x5412  # ioctl: the same, and tty input

# Descriptors user code may neither close nor replace (the run's result pipe): set by the fork
# server in the child before the lockdown, read by apply_seccomp and the audit hook.
_protected_fds: tuple[int, ...] = ()


def protect_fd(fd: int) -> None:
    """Keep `fd` open whatever user code does (close, dup2 onto it, closerange)."""
    global _protected_fds
    _protected_fds = (*_protected_fds, fd)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _arg_rule(nr: int, arg: int, values, match: int, other: int) -> list:
    """If the syscall is `nr`: args[arg] (low word) in `values` -> `match`, else `other`."""
    vals = sorted({v & 0xFFFFFFFF for v in values})
    n = len(vals)
    block = [(_JEQ, 0, n + 3, nr), (_LD_ABS, 0, 0, 16 + 8 * arg)]
    for i, v in enumerate(vals):
        block.append((_JEQ, n - i, 0, v))   # jump to `match`
    return block + [(_RET, 0, 0, other), (_RET, 0, 0, match)]


def _allow_only(nr: int, deny: int, *conditions) -> list:
    """If the syscall is `nr`: allowed only if every (offset, values) condition holds, that is
    the 32-bit word at `offset` in seccomp_data is one of `values`; denied otherwise."""
    body = []
    for offset, values in conditions:
        vals = sorted({v & 0xFFFFFFFF for v in values})
        n = len(vals)
        body.append((_LD_ABS, 0, 0, offset))
        for i, v in enumerate(vals):
            body.append((_JEQ, n - i, 0, v))   # holds: skip to the next condition
        body.append((_RET, 0, 0, deny))
    body.append((_RET, 0, 0, _RET_ALLOW))
    return [(_JEQ, 0, len(body), nr)] + body


def _arg(i: int, high: bool = False) -> int:
    """Offset of args[i] (its low or high 32-bit word, little-endian) in seccomp_data."""
    return 16 + 8 * i + (4 if high else 0)


def _threads_only(nr: int, deny: int) -> list:
    """If the syscall is `nr` (clone): allowed only when its flags (args[0], low word) hold
    CLONE_THREAD and no namespace flag, that is a thread of this process; denied otherwise."""
    return [(_JEQ, 0, 5, nr), (_LD_ABS, 0, 0, _arg(0)),
            (_AND, 0, 0, _CLONE_THREAD | _CLONE_NAMESPACES), (_JEQ, 1, 0, _CLONE_THREAD),
            (_RET, 0, 0, deny), (_RET, 0, 0, _RET_ALLOW)]


def _bpf_program(arch: int, nr: dict, pid: int, protected: tuple = (),
                 threads: bool = False) -> list[tuple[int, int, int, int]]:
    """A filter denying process creation, sockets, signals to other processes, system
    administration, and closing the protected descriptors. `threads`: clone stays allowed
    for threads only (clone3 still gets ENOSYS, so glibc uses clone, whose flags BPF sees;
    clone3 keeps them in memory, which BPF cannot read)."""
    deny = _RET_ERRNO | errno.EPERM
    prog: list = [(_LD_ABS, 0, 0, 4), (_JEQ, 1, 0, arch), (_RET, 0, 0, deny), (_LD_ABS, 0, 0, 0)]
    if arch == _ARCH["x86_64"][0]:
        prog += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, deny)]   # no x32 syscalls
    if threads:
        prog += _threads_only(nr["clone"], deny)
    for name in _DENY:
        if name in nr and not (threads and name == "clone"):
            prog += [(_JEQ, 0, 1, nr[name]), (_RET, 0, 0, deny)]
    for name in _NOSYS:
        if name in nr:
            prog += [(_JEQ, 0, 1, nr[name]), (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    # Signals: only to this process (or its own process group, which holds nothing else).
    prog += _allow_only(nr["kill"], deny, (_arg(0), {pid, 0, -pid}))
    prog += _allow_only(nr["tkill"], deny, (_arg(0), {pid}))
    prog += _allow_only(nr["tgkill"], deny, (_arg(0), {pid}))
    # prlimit64: reading limits is fine, setting any (of anyone) is not.
    prog += _allow_only(nr["prlimit64"], deny, (_arg(2), {0}), (_arg(2, high=True), {0}))
    # Priority and CPU affinity of this process only (os.nice, os.sched_setaffinity(0, ...)).
    prog += _allow_only(nr["setpriority"], deny, (_arg(0), {0}), (_arg(1), {0, pid}))
    prog += _allow_only(nr["sched_setaffinity"], deny, (_arg(0), {0, pid}))
    prog += _arg_rule(nr["fcntl"], 1, {_F_SETOWN, _F_SETSIG, _F_SETOWN_EX}, deny, _RET_ALLOW)
    prog += _arg_rule(nr["ioctl"], 1, {_FIOSETOWN, _SIOCSPGRP, _TIOCSTI}, deny, _RET_ALLOW)
    if protected:
        prog += _arg_rule(nr["close"], 0, protected, deny, _RET_ALLOW)
        for name in ("dup2", "dup3"):
            if name in nr:
                prog += _arg_rule(nr[name], 1, protected, deny, _RET_ALLOW)
        # close_range(first, last): allowed when the range misses the protected descriptor
        # (os.closerange is split around it, see below), else ENOSYS: CPython then closes one
        # by one. (glibc's closefrom() fallback loops forever on a descriptor it cannot
        # close: only code calling libc directly gets there, and the deadline ends it.)
        fd = max(protected)
        prog += [(_JEQ, 0, 7, nr["close_range"]), (_LD_ABS, 0, 0, _arg(1)), (_JGE, 1, 0, fd),
                 (_RET, 0, 0, _RET_ALLOW), (_LD_ABS, 0, 0, _arg(0)), (_JGT, 1, 0, fd),
                 (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS), (_RET, 0, 0, _RET_ALLOW)]
    prog.append((_RET, 0, 0, _RET_ALLOW))
    return prog


# A prepared filter stands for the child's pid with this value (real pids stay below 2**22),
# so that the fork server can build it once and each child only patches in its own pid.
_PID_MARK = 0x7FFFFFF3


@functools.lru_cache(maxsize=8)
def _prepared(machine: str, protected: tuple, threads: bool = False) -> tuple[bytes, tuple]:
    """(the filter as packed sock_filter records, offsets of the pid fields: (offset, -pid?))."""
    arch, nr = _ARCH[machine]
    prog = _bpf_program(arch, nr, _PID_MARK, protected, threads)
    raw = struct.pack("<" + "HBBI" * len(prog), *[x for ins in prog for x in ins])
    marks = tuple((8 * i + 4, k != _PID_MARK) for i, (_, _, _, k) in enumerate(prog)
                  if k in (_PID_MARK, -_PID_MARK & 0xFFFFFFFF))
    return raw, marks


def prepare_seccomp(protected: tuple = ()) -> None:
    """Build the filter ahead (in the fork server): apply_seccomp in a child with the same
    protected descriptors then costs a copy and a patch instead of ~1 ms of Python."""
    if sys.platform == "linux" and platform.machine() in _ARCH:
        _prepared(platform.machine(), tuple(protected))


def apply_seccomp(threads: bool = False) -> str:
    """Install the filter; returns a word for the trace's sandbox report. `threads`: the
    variant that lets this process start threads (and nothing else) for native libraries."""
    machine = platform.machine()
    if sys.platform != "linux" or machine not in _ARCH:
        return "seccomp unavailable"
    raw, marks = _prepared(machine, _protected_fds, threads)
    buf = ctypes.create_string_buffer(raw, len(raw))
    pid = os.getpid()
    for offset, negative in marks:
        struct.pack_into("<I", buf, offset, (-pid if negative else pid) & 0xFFFFFFFF)
    fprog = _SockFprog(len(raw) // 8, ctypes.cast(buf, ctypes.POINTER(_SockFilter)))
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
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _LLPathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_LL_WRITE_FILE, _LL_MAKE_CHAR, _LL_MAKE_BLOCK, _LL_TRUNCATE = 1 << 1, 1 << 6, 1 << 11, 1 << 14


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
        write_rights |= _LL_TRUNCATE
    # Handled everywhere, granted nowhere: device nodes (a root child could otherwise mknod
    # the machine's disk inside its temporary directory and write to it).
    allowed = write_rights & ~(_LL_MAKE_CHAR | _LL_MAKE_BLOCK)
    # ABI 6: no signals to, and no abstract unix sockets of, processes outside the sandbox.
    attr = _LLRulesetAttr(write_rights, 0b11 if abi >= 4 else 0,   # BIND_TCP | CONNECT_TCP
                          0b11 if abi >= 6 else 0)                # SCOPE_SIGNAL | _ABSTRACT_UNIX
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(_LL_CREATE, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        return "landlock failed"
    try:
        dir_fd = os.open(writable_dir, os.O_PATH | os.O_DIRECTORY)
        try:
            rule = _LLPathBeneath(allowed, dir_fd)
            if libc.syscall(_LL_ADD, ruleset, 1, ctypes.byref(rule), 0) != 0:
                return "landlock failed"
        finally:
            os.close(dir_fd)
        try:   # writing to os.devnull stays allowed (a common idiom to silence output)
            null_fd = os.open(os.devnull, os.O_PATH)
        except OSError:
            null_fd = -1
        if null_fd >= 0:
            rule = _LLPathBeneath(_LL_WRITE_FILE | (_LL_TRUNCATE if abi >= 3 else 0), null_fd)
            libc.syscall(_LL_ADD, ruleset, 1, ctypes.byref(rule), 0)
            os.close(null_fd)
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
_SIGNAL_EVENTS = frozenset({"os.kill", "os.killpg", "signal.pthread_kill"})
_WATCHED = _PROCESS_EVENTS | _NETWORK_EVENTS | _PATH_EVENTS | _SIGNAL_EVENTS | {"open"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install_audit_hook(writable_dir: str, threads: bool = False) -> None:
    """Refuse processes, network and writes outside `writable_dir` with PermissionError;
    threads too unless `threads` (the process's seccomp filter then allows them)."""
    refused = _PROCESS_EVENTS - {"_thread.start_new_thread"} if threads else _PROCESS_EVENTS
    root = os.path.realpath(writable_dir) + os.sep
    realpath, fspath = os.path.realpath, os.fspath
    own, write = os.getpid(), os.write

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
        elif event in _SIGNAL_EVENTS:
            # A signal the function sends itself: tell the fork server, so that a run that
            # kills itself is reported as such (not as, say, running out of memory).
            target, sig = (tuple(args) + (None, None))[:2]
            mine = event == "signal.pthread_kill" or target in (0, own, -own)
            if mine and isinstance(sig, int) and sig > 0 and _protected_fds:
                try:
                    write(_protected_fds[0], b'{"phase":"signal","signal":%d}\n' % sig)
                except OSError:
                    pass
        elif event in refused:
            raise PermissionError("tracecot sandbox: starting processes or threads is not "
                                  f"allowed ({event})")
        elif event in _NETWORK_EVENTS:
            raise PermissionError(f"tracecot sandbox: network access is not allowed ({event})")
        elif any(outside(a) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))):
            raise PermissionError(f"tracecot sandbox: {event} outside the run's temporary "
                                  "directory is not allowed")

    sys.addaudithook(hook)
    if not threads:
        _refuse_threads()
    _closerange_spares_protected()


def _closerange_spares_protected() -> None:
    """os.closerange(0, 1000) closes everything but the result pipe (which seccomp keeps open
    anyway: this spares CPython 3.12+'s closefrom() fallback an endless loop on it)."""
    if not _protected_fds:
        return
    real = os.closerange

    def closerange(fd_low, fd_high, /):
        low, high = operator.index(fd_low), operator.index(fd_high)
        for fd in sorted(_protected_fds):
            if low <= fd < high:
                real(low, fd)
                low = fd + 1
        real(low, high)
    closerange.__doc__ = real.__doc__
    os.closerange = closerange


def _refuse_threads() -> None:
    """Starting a thread fails anyway (seccomp denies clone); before 3.12 there is no audit
    event for it, so say why instead of CPython's bare "can't start new thread"."""
    import _thread
    import threading

    def refused(*args, **kwargs):
        raise PermissionError("tracecot sandbox: starting processes or threads is not allowed "
                              "(threading)")
    for module, names in ((_thread, ("start_new_thread", "start_new", "start_joinable_thread")),
                          (threading, ("_start_new_thread", "_start_joinable_thread"))):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, refused)
