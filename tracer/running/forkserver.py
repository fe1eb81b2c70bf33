"""The pre-started parent: imports the tracer once, then forks one child per run.

Protocol on stdin/stdout, one JSON object per line:
  -> {"op": "run", "id": 7, "request": {RunRequest fields, source included}}
  -> {"op": "cancel", "id": 7}
  <- {"id": 7, "trace": {Trace JSON}, "elapsed_ms": 3.1}
  or, for a trace the child wrote, passed on unparsed:
  <- {"id": 7, "elapsed_ms": 3.1, "raw": true}  and on the next line  {Trace JSON}
Every run gets exactly one answer. Single-threaded (a selector loop), so forking is safe; it
enforces each run's wall-clock deadline, kills the child's whole process group, caps what it
reads, and survives any way a child can die.

The child's result pipe is private to the tracer: moved to a high descriptor that seccomp keeps
open, and read strictly (phase notes, then exactly one trace line, then the end line with the
trace's MAC, then a clean exit). The MAC is keyed by a secret drawn here for each run just before
the fork and never sent anywhere: a trace that user code writes on the pipe (it can find the
descriptor) lacks it, so it is never believed. Anything else on the pipe means user code wrote
there, and the run is discarded rather than believed. (The secret lives in the child's memory,
where code that goes looking for it can read it: see README "Sandbox".)

One module of over 500 lines on purpose: forking, the pipe protocol and its MAC check are
one protocol whose parts must agree exactly; apart, they could drift.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import resource
import selectors
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import MISSING, fields

from . import child, guards
from .. import values
from ..schema import SCHEMA_VERSION, RunRequest

# Modules user code commonly imports: loaded once here, shared by every child.
_PRELOAD = ("collections", "itertools", "functools", "math", "re", "string", "heapq", "bisect",
            "operator", "copy", "json", "typing", "dataclasses", "random", "statistics",
            "fractions", "decimal", "datetime", "textwrap", "unicodedata", "ast", "inspect")
READ_CAP = child.RESULT_CAP + 1024 * 1024
_PHASE_CALL = b'{"phase":"call"}'
# Past its timeout a run gets this long to finish writing the trace it started at the child's
# soft deadline (timeout - child.soft_deadline_margin(timeout) after the call starts, and at
# least that margin before this hard deadline) before it is killed: building and writing a
# 20,000-event trace takes a few hundred milliseconds on a loaded machine. Runs stuck in a
# builtin end at timeout + _GRACE.
_GRACE = 0.25
_EXIT_WAIT = 0.2
# The real os._exit, kept before any user code can replace os._exit (child.py does too).
_exit = os._exit
_TMP_PREFIX = "tracecot-run-"
_WAITID = hasattr(os, "waitid") and hasattr(os, "WNOWAIT")
_DEFAULTS = {f.name: f.default for f in fields(RunRequest) if f.default is not MISSING}
_INT_FIELDS = ("max_steps", "max_events", "max_depth", "memory_mb", "output_bytes")


class _Run:
    __slots__ = ("id", "req", "pid", "fd", "pidfd", "tmpdir", "start", "deadline", "buf",
                 "eof", "status", "killed_for", "exiting", "key")

    def __init__(self, rid, req):
        self.id, self.req = rid, req
        self.pid = self.fd = self.pidfd = self.tmpdir = self.start = None
        self.deadline = float("inf")
        self.buf = bytearray()
        self.eof = False
        self.status = None          # waitpid status once reaped
        self.killed_for = None      # "timeout" | "cancelled" | "result_too_large"
        self.exiting = False        # its trace arrived at the deadline: given a moment to exit
        self.key = None             # the secret the child's trace MAC is keyed with


class ForkServer:
    def __init__(self, rx: int, tx: int, max_parallel: int):
        self.rx, self.tx = rx, tx
        self.max_parallel = max_parallel
        self.sel = selectors.DefaultSelector()
        self.sel.register(rx, selectors.EVENT_READ, None)
        self.inbuf = bytearray()
        self.queue: list[_Run] = []
        self.running: dict[int, _Run] = {}
        self.open = True

    # ----------------------------------------------------------------- requests
    def handle(self, msg: dict) -> None:
        op = msg.get("op")
        if op == "run":
            req = msg["request"]
            problem = _check_request(req)
            if problem is not None:
                run = _Run(msg["id"], req if isinstance(req, dict) else {})
                self.reply(run, _error(run.req, "bad_arguments", f"invalid request: {problem}"))
                return
            self.queue.append(_Run(msg["id"], {**_DEFAULTS, **req}))
        elif op == "cancel":
            rid = msg.get("id")
            for run in self.queue:
                if run.id == rid:
                    self.queue.remove(run)
                    self.reply(run, _error(run.req, "cancelled", "the run was cancelled"))
                    return
            active = self.running.get(rid) if isinstance(rid, int) else None
            if active is not None and active.killed_for is None:
                self.kill(active, "cancelled")
        elif op == "ping":
            self.send({"pong": True, "pid": os.getpid()})

    def start_queued(self) -> None:
        server_pid = os.getpid()
        while self.queue and len(self.running) < self.max_parallel:
            run = self.queue.pop(0)
            r = w = None
            # The run's secret, in a box the child empties (no frame of the child keeps it).
            box = [os.urandom(child.MAC_BYTES)]
            try:
                run.tmpdir = tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-")
                r, w = os.pipe()
                run.start = time.monotonic()
                run.deadline = run.start + float(run.req["timeout"]) + _GRACE
                pid = os.fork()
            except OSError as e:   # no fds, no memory, no disk: this run fails, not the server
                for fd in (r, w):
                    if fd is not None:
                        os.close(fd)
                if run.tmpdir:
                    shutil.rmtree(run.tmpdir, ignore_errors=True)
                self.reply(run, _error(run.req, "sandbox_error",
                                       f"the run could not be started: {e}"))
                continue
            if pid == 0:   # child
                fd = w
                try:
                    os.close(r)
                    _die_with_parent(server_pid)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.signal(signal.SIGPIPE, signal.SIG_IGN)   # as in any Python program
                    fd = _private_result_fd(w)
                    guards.protect_fd(fd)
                    tempfile.tempdir = run.tmpdir   # the tempfile module writes where it may
                    child.main(run.req, fd, run.tmpdir, box, run.deadline)
                except BaseException as e:  # noqa: BLE001 - main never returns; if it raises, say why
                    try:
                        os.write(fd, b'{"phase":"failed","error":"%s"}\n'
                                 % type(e).__name__.encode("ascii", "replace"))
                    except BaseException:  # noqa: BLE001 - the child exits below, whatever happens
                        pass
                finally:
                    _exit(70)   # never back into the server's loop, whatever user code did
            run.key = box.pop()
            os.close(w)
            os.set_blocking(r, False)
            run.pid, run.fd = pid, r
            self.running[run.id] = run
            self.sel.register(r, selectors.EVENT_READ, run)
            try:   # readable when the child exits: no polling for it (Linux >= 5.3)
                run.pidfd = os.pidfd_open(pid)
                self.sel.register(run.pidfd, selectors.EVENT_READ, _Exited(run))
            except (AttributeError, OSError):
                run.pidfd = None

    # ----------------------------------------------------------------- children
    def read(self, run: _Run) -> None:
        try:
            chunk = os.read(run.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            run.eof = True
            self.sel.unregister(run.fd)
            os.close(run.fd)
            return
        run.buf += chunk
        if len(run.buf) > READ_CAP and run.killed_for is None:
            self.kill(run, "result_too_large")

    def kill(self, run: _Run, why: str) -> None:
        run.killed_for = why
        if run.status is not None:   # already reaped: its pid may belong to someone else now
            return
        for target in (lambda: os.killpg(run.pid, signal.SIGKILL),
                       lambda: os.kill(run.pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass

    def reap(self) -> None:
        now = time.monotonic()
        for run in list(self.running.values()):
            if run.status is None:
                self.poll_exit(run)
            if run.killed_for is None and now > run.deadline and run.status is None:
                if not run.exiting and _ends_with_trace(run.buf):
                    run.exiting = True            # the trace is written: it is exiting now
                    run.deadline = now + _EXIT_WAIT
                else:
                    self.kill(run, "timeout")
            if run.status is not None and not run.eof and run.killed_for is not None:
                self.sel.unregister(run.fd)   # killed: stop waiting for the pipe
                os.close(run.fd)
                run.eof = True
            if run.status is not None and run.eof:
                self.finish(run)

    def poll_exit(self, run: _Run) -> None:
        """Reap the child if it has exited. Its process group is killed first, while the
        zombie still holds the pid (so the group id cannot belong to anyone else yet)."""
        try:
            if _WAITID:
                if os.waitid(os.P_PID, run.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    return
                _killpg(run.pid)
            pid, status = os.waitpid(run.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = run.pid, 0
        if pid:
            run.status = status
            if run.pidfd is not None:
                self.sel.unregister(run.pidfd)
                os.close(run.pidfd)
                run.pidfd = None

    def finish(self, run: _Run) -> None:
        del self.running[run.id]
        if not _WAITID:   # killed in poll_exit otherwise
            _killpg(run.pid)   # whatever the child left behind (it cannot fork; belt and braces)
        shutil.rmtree(run.tmpdir, ignore_errors=True)
        try:
            answer = self.outcome(run)
        except Exception as e:  # noqa: BLE001 - a bug of ours must still produce an answer
            answer = _error(run.req, "sandbox_error", f"internal error in the sandbox: "
                                                      f"{type(e).__name__}: {e}")
        self.reply(run, answer)

    def outcome(self, run: _Run) -> dict | bytes:
        """The run's answer: the child's trace line as it came (bytes), or an error trace."""
        req, timeout = run.req, float(run.req["timeout"])
        if run.killed_for == "cancelled":
            return _error(req, "cancelled", "the run was cancelled")
        if run.killed_for == "result_too_large":
            return _error(req, "result_too_large",
                          f"the trace was larger than {READ_CAP // (1024 * 1024)} MB")
        out = _read_channel(run.buf, run.key)
        st = run.status or 0
        exited_ok = os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
        # A trace line without its signed end line from a child that exited by itself: user
        # code wrote it and left through the real _exit (the tracer writes both or neither).
        if out.tampered or (out.unsigned and exited_ok):
            return _error(req, "sandbox_error", "the function wrote into the tracer's private "
                                                "result channel, so what came back cannot be "
                                                "trusted; the run was discarded")
        # A trace counts only from a child that then left through the tracer's own exit: one
        # that wrote a trace-like line and then killed itself does not get it believed.
        if out.trace is not None and exited_ok:
            trace = _checked_trace(out.trace)
            if trace is not None:
                return trace
            return _error(req, "sandbox_error", "the run's answer was not a valid trace")
        if run.killed_for == "timeout":
            where = "" if out.in_call else " while loading the module (top-level code)"
            return _error(req, "timeout", f"stopped after {timeout:g} s{where}: the run did not "
                                          "finish in time (stuck in a long-running builtin "
                                          "call or a loop outside traced code)")
        if os.WIFSIGNALED(st):
            sig = os.WTERMSIG(st)
            name = (signal.Signals(sig).name if sig in signal.Signals._value2member_map_
                    else str(sig))
            if sig in out.signals_sent:
                return _error(req, "crash", f"the function ended its own process with signal "
                                            f"{name} before returning")
            if sig == signal.SIGXCPU:
                return _error(req, "timeout", f"stopped after using its CPU time limit "
                                              f"({int(timeout) + 2} s)")
            if sig == signal.SIGKILL:
                return _error(req, "memory_limit", "the run was killed (SIGKILL) from outside, "
                                                   "most likely by the system for using too "
                                                   "much memory")
            what = {"SIGSEGV": "a segmentation fault", "SIGBUS": "a bus error",
                    "SIGABRT": "an abort", "SIGFPE": "a floating-point exception"}.get(name)
            hint = (" (very deep recursion after sys.setrecursionlimit, or a crash inside C "
                    "code such as ctypes)") if sig in (signal.SIGSEGV, signal.SIGBUS) else ""
            return _error(req, "crash", f"the run crashed with {what} ({name}){hint}" if what
                          else f"the run was ended by signal {name}")
        code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else st
        if code == 70 and out.failed == "MemoryError":
            return _error(req, "memory_limit", f"the run used more than its memory limit "
                                               f"({req['memory_mb']} MB); not even a partial "
                                               "trace could be written")
        if code == 70 and out.failed:
            return _error(req, "sandbox_error", f"internal error in the sandbox: {out.failed} "
                                                "while reporting the run")
        where = "the function" if out.in_call else "the module's top-level code"
        return _error(req, "crash", f"{where} ended the process (exit status {code}) before "
                                    "returning, so no trace could be recorded")

    # ----------------------------------------------------------------- I/O
    def reply(self, run: _Run, trace: dict | bytes) -> None:
        elapsed = (time.monotonic() - run.start) * 1000 if run.start else 0.0
        if isinstance(trace, bytes):   # the child's trace line, passed on unchanged
            head = json.dumps({"id": run.id, "elapsed_ms": round(elapsed, 3), "raw": True})
            self.write(head.encode() + b"\n" + trace + b"\n")
        else:
            self.send({"id": run.id, "trace": trace, "elapsed_ms": round(elapsed, 3)})

    def send(self, msg: dict) -> None:
        self.write((json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8", "surrogatepass"))

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.tx, view):]
            except BlockingIOError:
                time.sleep(0.001)
            except BrokenPipeError:
                _exit(0)

    def read_requests(self) -> None:
        chunk = os.read(self.rx, 1 << 20)
        if not chunk:
            self.open = False
            self.sel.unregister(self.rx)
            return
        self.inbuf += chunk
        while b"\n" in self.inbuf:
            line, _, rest = bytes(self.inbuf).partition(b"\n")
            self.inbuf = bytearray(rest)
            try:
                self.handle(json.loads(line))
            except Exception as e:  # noqa: BLE001 - a malformed request never stops the server
                self.send({"error": f"bad request: {type(e).__name__}: {e}"})

    def serve(self) -> None:
        while self.open or self.running or self.queue:
            self.start_queued()
            timeout = None
            if self.running:
                nearest = min(r.deadline for r in self.running.values())
                timeout = max(0.0, nearest - time.monotonic()) + 0.001
                if any(r.pidfd is None and r.status is None for r in self.running.values()):
                    # no pidfd to say when it exits: poll (briefly once it closed its pipe)
                    soon = any(r.eof or r.killed_for for r in self.running.values())
                    timeout = min(timeout, 0.005 if soon else 0.05)
            for key, _ in self.sel.select(timeout):
                if key.data is None:
                    self.read_requests()
                elif isinstance(key.data, _Exited):
                    self.poll_exit(key.data.run)
                else:
                    self.read(key.data)
            self.reap()


class _Exited:
    """Selector data for a run's pidfd."""
    __slots__ = ("run",)

    def __init__(self, run: _Run):
        self.run = run


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Channel:
    """What a child wrote on its result pipe. The tracer writes, in order: {"phase":"call"} when
    the call starts, {"phase":"signal"} notes when the function signals its own process, and
    exactly one trace line followed by {"phase":"end","mac":...}, last (or {"phase":"failed"}
    if the tracer itself failed). Anything else was written by user code, as is a trace line
    without the end line that carries its MAC."""
    __slots__ = ("trace", "in_call", "signals_sent", "failed", "tampered", "unsigned")

    def __init__(self):
        self.trace, self.in_call, self.signals_sent = None, False, set()
        self.failed, self.tampered = None, False
        self.unsigned = False   # a trace line came with no end line: fine only if killed


def _ends_with_trace(buf: bytearray) -> bool:
    """The buffer ends with an end line (the trace before it is complete)."""
    if not buf.endswith(b"}\n"):
        return False
    start = buf.rfind(b"\n", 0, len(buf) - 1) + 1
    return buf.startswith(child.END_PREFIX, start)


def _read_channel(buf: bytearray, key: bytes | None = None) -> _Channel:
    out = _Channel()
    lines = bytes(buf).split(b"\n")
    complete, partial = lines[:-1], lines[-1]
    traces = 0
    pending = None      # a trace line waiting for its end line
    ended = False
    for line in complete:
        if pending is not None:
            if (line.startswith(child.END_PREFIX) and key is not None
                    and _mac_ok(key, pending, line)):
                out.trace, ended = pending, True
            else:
                out.tampered = True          # a trace the tracer did not sign
            pending = None
            continue
        if line.startswith(b'{"phase":'):
            if traces:
                out.tampered = True          # nothing of ours comes after the trace
            if line == _PHASE_CALL:
                out.in_call = True
                continue
            try:
                note = json.loads(line)
                phase = note["phase"]
                if phase == "signal":
                    out.signals_sent.add(int(note["signal"]))
                elif phase == "failed":
                    out.failed = str(note["error"])
                else:
                    out.tampered = True
            except (ValueError, TypeError, KeyError):
                out.tampered = True
        elif line.startswith(b'{"version"'):
            traces += 1
            pending = line
        else:
            out.tampered = True
    if pending is not None:
        out.unsigned = True                  # a trace line without its end line (yet)
    if traces > 1 or (ended and partial):
        out.tampered = True
    if out.tampered:
        out.trace = None
    return out


def _mac_ok(key: bytes, trace: bytes, end: bytes) -> bool:
    got = end[len(child.END_PREFIX):-2]
    return end.endswith(b'"}') and hmac.compare_digest(
        got, child.trace_mac(key, trace).encode("ascii"))


def _checked_trace(line: bytes) -> bytes | None:
    """The trace line if it looks like the tracer's (one JSON object line; parsed by the caller,
    which turns anything unreadable into an error), else None. Not parsed here: for a large
    trace that would double the single-threaded server's work."""
    if line.startswith(b'{"version":') and line.endswith(b"}"):
        return line
    return None


def _check_request(req) -> str | None:
    """Why a run request cannot be run, or None."""
    if not isinstance(req, dict):
        return "the request is not an object"
    if not isinstance(req.get("function"), str) or not req["function"]:
        return "no function name"
    if not isinstance(req.get("source"), str):
        return "no source"
    for key in ("args", "path", "expected"):
        if req.get(key) is not None and not isinstance(req[key], str):
            return f"{key} must be a string"
    timeout = req.get("timeout", _DEFAULTS["timeout"])
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not math.isfinite(timeout) or timeout <= 0:
        return f"timeout must be a positive number of seconds (got {timeout!r})"
    if not isinstance(req.get("record", True), bool):
        return "record must be true or false"
    for key in _INT_FIELDS:
        value = req.get(key, _DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{key} must be a non-negative integer (got {value!r})"
    return None


def _die_with_parent(server_pid: int) -> None:
    """In the child: be killed if the fork server dies (Linux), instead of running on as an
    orphan until its own limits end it."""
    if sys.platform != "linux":
        return
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != server_pid:   # it died before the prctl
        _exit(70)


def _remove_stale_run_dirs() -> None:
    """Temporary directories left by fork servers that were killed (their runs could not clean
    up): each name carries its server's pid; a directory whose server is gone is removed."""
    root = tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if not name.startswith(_TMP_PREFIX):
            continue
        pid = name[len(_TMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue                      # its server is alive (or the pid was reused)
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _result_fd_slot() -> int | None:
    """The high descriptor a child's result pipe moves to (None: the limit is too low)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = min(soft if soft != resource.RLIM_INFINITY else 1024, 1024) - 1
    return top if top > 256 else None


def _private_result_fd(fd: int) -> int:
    """In the child: move the result pipe to a high descriptor, out of the way of the ones user
    code opens or loops over (fds 1-10...), and close everything else the server had open."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = _result_fd_slot()
    if top is not None and fd != top:
        os.dup2(fd, top)
        os.close(fd)
        fd = top
    os.closerange(3, fd)
    os.closerange(fd + 1, max(fd + 1, min(soft if soft != resource.RLIM_INFINITY else 65536,
                                          65536)))
    return fd


def _error(req: dict, kind: str, message: str) -> dict:
    return {"version": SCHEMA_VERSION, "function": req.get("function", "?"),
            "call": f"{req.get('function', '?')}({req.get('args', '')})",
            "path": req.get("path"), "backend": "", "python": child.platform_version(),
            "status": "error", "error": {"kind": kind, "message": message, "line": None}}


def main() -> None:
    for name in _PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    values.prepare()   # which library reprs the encoder may call: fixed before any user code
    # Keep the protocol on private descriptors; fds 0-2 point at /dev/null so that nothing a
    # child (or a preloaded module) prints can corrupt it.
    rx, tx = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _remove_stale_run_dirs()
    slot = _result_fd_slot()
    if slot is not None:
        guards.prepare_seccomp((slot,))   # built once here, patched per child
    parallel = int(os.environ.get("TRACECOT_PARALLEL", "0")) or max(2, (os.cpu_count() or 2) * 2)
    ForkServer(rx, tx, parallel).serve()


if __name__ == "__main__":
    main()
