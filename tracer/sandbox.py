"""The caller's side of the sandbox: a client for the fork server, safe to use from any thread.

    sb = Sandbox()
    trace = sb.run(RunRequest(function="f", args="[1, 2]", path="ex.py"))
    future = sb.submit(request); sb.cancel(future)      # asynchronous use (language server)

User code never runs in the caller's process: the fork server is a separate interpreter
started once, and each run is a child forked from it. Only JSON crosses the boundary.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path

from .schema import RunRequest, Trace, error_trace, trace_from_json

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shim_path() -> str:
    """A folder from which `import tracecot.tracer` works in any interpreter (for other
    Python versions than the caller's: the tracer is standard library only)."""
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tracecot" / "shim"
    link = root / "tracecot" / "tracer"
    if not (link.is_symlink() and link.resolve() == _PACKAGE_DIR):
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(_PACKAGE_DIR, target_is_directory=True)
    return str(root)


class Sandbox:
    def __init__(self, python: str | None = None, max_parallel: int | None = None,
                 env: dict | None = None):
        self.python = python or sys.executable
        self.max_parallel = max_parallel
        self.extra_env = env or {}
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pending: dict[int, tuple[Future, RunRequest]] = {}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle
    def _ensure_started(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", **self.extra_env)
        if self.max_parallel:
            env["TRACECOT_PARALLEL"] = str(self.max_parallel)
        if os.path.realpath(self.python) != os.path.realpath(sys.executable):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [_shim_path(),
                                                              env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            [self.python, "-m", "tracecot.tracer.forkserver"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            start_new_session=True, close_fds=True)
        threading.Thread(target=self._read_answers, args=(self._proc,), daemon=True,
                         name="tracecot-sandbox-reader").start()
        return self._proc

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()
                proc.wait(timeout=5)
            except Exception:
                proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ runs
    def submit(self, request: RunRequest) -> Future:
        """Start a run; the future's result is a Trace (errors are traces too, never raised)."""
        future: Future = Future()
        future.run_id = None
        if request.source is None:
            try:
                request = _with_source(request)
            except OSError as e:
                where = request.path or "(no path)"
                future.set_result(error_trace(request, "file_not_found",
                                              f"cannot read {where}: {e.strerror or e}"))
                return future
        rid = next(self._ids)
        future.run_id = rid
        line = json.dumps({"op": "run", "id": rid, "request": asdict(request)}) + "\n"
        with self._lock:
            self._pending[rid] = (future, request)
            for attempt in (1, 2):
                proc = self._ensure_started()
                try:
                    proc.stdin.write(line.encode())
                    proc.stdin.flush()
                    break
                except (BrokenPipeError, OSError):
                    self._proc = None
                    if attempt == 2:
                        self._pending.pop(rid, None)
                        future.set_result(error_trace(request, "sandbox_error",
                                                      "the sandbox process could not be started"))
        return future

    def cancel(self, future: Future) -> None:
        """Kill the run behind `future` now; its result becomes a 'cancelled' trace."""
        rid = getattr(future, "run_id", None)
        if rid is None or future.done():
            return
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                try:
                    proc.stdin.write((json.dumps({"op": "cancel", "id": rid}) + "\n").encode())
                    proc.stdin.flush()
                except OSError:
                    pass

    def run(self, request: RunRequest) -> Trace:
        return self.submit(request).result()

    def run_many(self, requests: list[RunRequest]) -> list[Trace]:
        return [f.result() for f in [self.submit(r) for r in requests]]

    def _read_answers(self, proc: subprocess.Popen) -> None:
        for raw in proc.stdout:
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            rid = msg.get("id")
            with self._lock:
                entry = self._pending.pop(rid, None)
            if entry is None:
                continue
            future, request = entry
            try:
                trace = trace_from_json(msg["trace"])
            except (KeyError, TypeError, ValueError) as e:
                trace = error_trace(request, "sandbox_error", f"unreadable answer: {e}")
            future.set_result(trace)
        # The fork server is gone: every run still waiting gets an error, never a hang.
        with self._lock:
            lost = [e for rid, e in self._pending.items()]
            self._pending.clear()
            if self._proc is proc:
                self._proc = None
        for future, request in lost:
            future.set_result(error_trace(request, "sandbox_error",
                                          "the sandbox process stopped unexpectedly"))


def _with_source(request: RunRequest) -> RunRequest:
    if not request.path:
        raise FileNotFoundError("no source and no path given")
    text = Path(request.path).read_text(encoding="utf-8")
    return RunRequest(**{**asdict(request), "source": text})


_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandbox()
            atexit.register(_default.close)
        return _default


def run(request: RunRequest) -> Trace:
    """Run one request in the process-wide sandbox."""
    return default_sandbox().run(request)
