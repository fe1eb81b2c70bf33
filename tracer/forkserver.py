"""The pre-started parent: imports the tracer once, then forks one child per run.

Protocol on stdin/stdout, one JSON object per line:
  -> {"op": "run", "id": 7, "request": {RunRequest fields, source included}}
  -> {"op": "cancel", "id": 7}
  <- {"id": 7, "trace": {Trace JSON}, "elapsed_ms": 3.1}
Every run gets exactly one answer. Single-threaded (a selector loop), so forking is safe; it
enforces each run's wall-clock deadline, kills the child's whole process group, caps what it
reads, and survives any way a child can die.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import sys
import tempfile
import time

from . import child
from .schema import SCHEMA_VERSION

# Modules user code commonly imports: loaded once here, shared by every child.
_PRELOAD = ("collections", "itertools", "functools", "math", "re", "string", "heapq", "bisect",
            "operator", "copy", "json", "typing", "dataclasses", "random", "statistics",
            "fractions", "decimal", "datetime", "textwrap", "unicodedata", "ast", "inspect")
READ_CAP = child.RESULT_CAP + 1024 * 1024
_PHASE_CALL = b'{"phase":"call"}\n'


class _Run:
    __slots__ = ("id", "req", "pid", "fd", "tmpdir", "start", "deadline", "buf", "eof",
                 "status", "killed_for")

    def __init__(self, rid, req):
        self.id, self.req = rid, req
        self.pid = self.fd = None
        self.buf = bytearray()
        self.eof = False
        self.status = None          # waitpid status once reaped
        self.killed_for = None      # "timeout" | "cancelled" | "result_too_large"


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
            self.queue.append(_Run(msg["id"], msg["request"]))
        elif op == "cancel":
            rid = msg.get("id")
            for run in self.queue:
                if run.id == rid:
                    self.queue.remove(run)
                    self.reply(run, _error(run.req, "cancelled", "the run was cancelled"))
                    return
            run = self.running.get(rid)
            if run is not None and run.killed_for is None:
                self.kill(run, "cancelled")
        elif op == "ping":
            self.send({"pong": True, "pid": os.getpid()})

    def start_queued(self) -> None:
        while self.queue and len(self.running) < self.max_parallel:
            run = self.queue.pop(0)
            run.tmpdir = tempfile.mkdtemp(prefix="tracecot-run-")
            r, w = os.pipe()
            run.start = time.monotonic()
            run.deadline = run.start + float(run.req.get("timeout", 2.0))
            pid = os.fork()
            if pid == 0:   # child
                try:
                    os.close(r)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    child.main(run.req, w, run.tmpdir)
                finally:
                    os._exit(70)
            os.close(w)
            os.set_blocking(r, False)
            run.pid, run.fd = pid, r
            self.running[run.id] = run
            self.sel.register(r, selectors.EVENT_READ, run)

    # ----------------------------------------------------------------- children
    def read(self, run: _Run) -> None:
        try:
            chunk = os.read(run.fd, 1 << 16)
        except BlockingIOError:
            return
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
                try:
                    pid, status = os.waitpid(run.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status = run.pid, 0
                if pid:
                    run.status = status
            if run.killed_for is None and now > run.deadline:
                self.kill(run, "timeout")
            if run.status is not None and not run.eof and run.killed_for is not None:
                self.sel.unregister(run.fd)   # killed: stop waiting for the pipe
                os.close(run.fd)
                run.eof = True
            if run.status is not None and run.eof:
                self.finish(run)

    def finish(self, run: _Run) -> None:
        del self.running[run.id]
        try:
            os.killpg(run.pid, signal.SIGKILL)   # whatever the child left behind
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(run.tmpdir, ignore_errors=True)
        self.reply(run, self.outcome(run))

    def outcome(self, run: _Run) -> dict:
        req, timeout = run.req, float(run.req.get("timeout", 2.0))
        if run.killed_for == "cancelled":
            return _error(req, "cancelled", "the run was cancelled")
        if run.killed_for == "result_too_large":
            return _error(req, "result_too_large",
                          f"the trace was larger than {READ_CAP // (1024 * 1024)} MB")
        trace = _last_trace(run.buf)
        if trace is not None:
            return trace
        in_call = _PHASE_CALL in run.buf
        if run.killed_for == "timeout":
            where = "" if in_call else " while loading the module (top-level code)"
            return _error(req, "timeout", f"stopped after {timeout:g} s{where}: the run did not "
                                          "finish in time (stuck in a long-running builtin "
                                          "call or a loop outside traced code)")
        st = run.status or 0
        if os.WIFSIGNALED(st):
            sig = os.WTERMSIG(st)
            if sig == signal.SIGXCPU:
                return _error(req, "timeout", f"stopped after using its CPU time limit "
                                              f"({int(timeout) + 2} s)")
            if sig == signal.SIGKILL:
                return _error(req, "memory_limit", "the run was killed (SIGKILL), most likely "
                                                   "for using too much memory")
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            what = {"SIGSEGV": "a segmentation fault", "SIGBUS": "a bus error",
                    "SIGABRT": "an abort", "SIGFPE": "a floating-point exception"}.get(name)
            return _error(req, "crash", f"the run crashed with {what} ({name})" if what
                          else f"the run was ended by signal {name}")
        code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else st
        return _error(req, "crash", f"the process exited with status {code} before the "
                                    "function returned")

    # ----------------------------------------------------------------- I/O
    def reply(self, run: _Run, trace: dict) -> None:
        elapsed = (time.monotonic() - run.start) * 1000 if run.start else 0.0
        self.send({"id": run.id, "trace": trace, "elapsed_ms": round(elapsed, 3)})

    def send(self, msg: dict) -> None:
        data = (json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.tx, view):]
            except BlockingIOError:
                time.sleep(0.001)
            except BrokenPipeError:
                os._exit(0)

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
            except (ValueError, KeyError, TypeError) as e:
                self.send({"error": f"bad request: {e}"})

    def serve(self) -> None:
        while self.open or self.running or self.queue:
            self.start_queued()
            timeout = 0.005 if any(r.eof or r.killed_for for r in self.running.values()) else None
            if self.running:
                nearest = min(r.deadline for r in self.running.values())
                wait = max(0.0, nearest - time.monotonic()) + 0.001
                timeout = wait if timeout is None else min(timeout, wait)
                timeout = min(timeout, 0.05)   # also polls for children that exited early
            for key, _ in self.sel.select(timeout):
                if key.data is None:
                    self.read_requests()
                else:
                    self.read(key.data)
            self.reap()


def _last_trace(buf: bytearray) -> dict | None:
    for line in reversed(bytes(buf).split(b"\n")):
        if line.startswith(b'{"version"'):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


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
    # Keep the protocol on private descriptors; fds 0-2 point at /dev/null so that nothing a
    # child (or a preloaded module) prints can corrupt it.
    rx, tx = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parallel = int(os.environ.get("TRACECOT_PARALLEL", "0")) or max(2, (os.cpu_count() or 2) * 2)
    ForkServer(rx, tx, parallel).serve()


if __name__ == "__main__":
    main()
