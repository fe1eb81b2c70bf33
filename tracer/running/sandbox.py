"""The caller's side of the sandbox: a client for the fork server, safe to use from any thread.

    sb = Sandbox()
    trace = sb.run(RunRequest(function="f", args="[1, 2]", path="ex.py"))
    future = sb.submit(request); sb.cancel(future)      # asynchronous use (language server)

User code never runs in the caller's process: the fork server is a separate interpreter
started once, and each run is a child forked from it. Only JSON crosses the boundary.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, InvalidStateError
from dataclasses import asdict
from pathlib import Path
from typing import IO

from ..schema import RunRequest, Trace, error_trace, trace_from_json

_PACKAGE_DIR = Path(__file__).resolve().parent.parent   # tracer/, the package root


def _shim_path() -> str:
    """A folder from which `import tracecot.tracer` works in any interpreter (for other
    Python versions than the caller's: the tracer is standard library only)."""
    # One folder per checkout: two checkouts (or versions) never re-point each other's link.
    key = hashlib.sha256(str(_PACKAGE_DIR).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    root = cache / "tracecot" / "shim" / key
    link = root / "tracecot" / "tracer"
    if not (link.is_symlink() and link.resolve() == _PACKAGE_DIR):
        link.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: processes starting sandboxes at once never see a missing link.
        tmp = link.with_name(f".tracer-{os.getpid()}-{threading.get_ident()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(_PACKAGE_DIR, target_is_directory=True)
        os.replace(tmp, link)
    return str(root)


class _RunFuture(Future):
    """A run's future, with the id that `Sandbox.cancel` stops it by (None: never sent)."""
    run_id: int | None = None


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A stream of the fork server's process: opened as a pipe, so never None."""
    assert stream is not None, "the fork server is started with stdin and stdout pipes"
    return stream


class Sandbox:
    def __init__(self, python: str | None = None, max_parallel: int | None = None,
                 env: dict | None = None):
        self.python = python or sys.executable
        self.max_parallel = max_parallel
        self.extra_env = env or {}
        # _lock guards _proc and _pending; _write_lock serialises writes to the fork server.
        # A write can block (the pipe is full while the server writes answers), so it never
        # holds _lock, which the reader thread needs to hand those answers out.
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        # run id -> (future, request, fork server process it was sent to)
        self._pending: dict[int, tuple[Future, RunRequest, subprocess.Popen | None]] = {}
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
            [self.python, "-m", "tracecot.tracer.running.forkserver"], stdin=subprocess.PIPE,
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
                _pipe(proc.stdin).close()
                proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - shutting down: whatever failed, the process is killed
                proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ runs
    def submit(self, request: RunRequest) -> Future:
        """Start a run; the future's result is a Trace (errors are traces too, never raised).

        `sb.cancel(future)` and `future.cancel()` both stop the run."""
        future = _RunFuture()
        if request.source is None:
            try:
                request = _with_source(request)
            except (OSError, UnicodeDecodeError) as e:
                where = request.path or "(no path)"
                why = e.strerror if isinstance(e, OSError) and e.strerror else e
                future.set_result(error_trace(request, "file_not_found",
                                              f"cannot read {where}: {why}"))
                return future
        rid = next(self._ids)
        try:
            line = json.dumps({"op": "run", "id": rid, "request": asdict(request)}) + "\n"
        except (TypeError, ValueError) as e:
            future.set_result(error_trace(request, "bad_arguments",
                                          f"the request cannot be sent to the sandbox: {e}"))
            return future
        future.run_id = rid
        with self._lock:
            self._pending[rid] = (future, request, None)
        with self._write_lock:
            proc = None
            for attempt in (1, 2):
                try:
                    with self._lock:
                        proc = self._ensure_started()
                        self._pending[rid] = (future, request, proc)
                    stdin = _pipe(proc.stdin)
                    stdin.write(line.encode())
                    stdin.flush()
                    break
                except (BrokenPipeError, OSError, ValueError) as e:
                    with self._lock:
                        if self._proc is proc:
                            self._proc = None
                        if attempt == 2:
                            self._pending.pop(rid, None)
                    if attempt == 2:
                        _resolve(future, error_trace(
                            request, "sandbox_error",
                            f"the sandbox process could not be started: {e}"))
        # future.cancel() (from concurrent.futures' API) also kills the run.
        def cancel_if_cancelled(f: Future) -> None:
            if f.cancelled():
                self._cancel_id(rid)
        future.add_done_callback(cancel_if_cancelled)
        return future

    def cancel(self, future: Future) -> None:
        """Kill the run behind `future` now; its result becomes a 'cancelled' trace."""
        rid = getattr(future, "run_id", None)
        if rid is None or future.done():
            return
        self._cancel_id(rid)

    def _cancel_id(self, rid: int) -> None:
        with self._lock:
            entry = self._pending.get(rid)
        proc = entry[2] if entry is not None else None
        if proc is not None and proc.poll() is None:
            with self._write_lock:
                try:
                    stdin = _pipe(proc.stdin)
                    stdin.write((json.dumps({"op": "cancel", "id": rid}) + "\n").encode())
                    stdin.flush()
                except (OSError, ValueError):
                    pass

    def run(self, request: RunRequest) -> Trace:
        return self.submit(request).result()

    def run_many(self, requests: list[RunRequest]) -> list[Trace]:
        return [f.result() for f in [self.submit(r) for r in requests]]

    def _read_answers(self, proc: subprocess.Popen) -> None:
        # Nothing the fork server sends (a trace is data the sandboxed code influenced) may stop
        # this thread: every run waiting on it would hang.
        try:
            lines = iter(_pipe(proc.stdout))
            for raw in lines:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(msg, dict):
                    continue
                if msg.get("raw") is True:   # the trace follows on its own line, as written
                    msg["trace"] = next(lines, b"")
                try:
                    self._answer(msg)
                except Exception:  # noqa: BLE001 - one bad answer must not stop the reader thread
                    continue
        except (OSError, ValueError):
            pass
        try:   # reap it (a zombie would look alive to the next server's clean-up)
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
        # The fork server is gone: every run still waiting on it gets an error, never a hang.
        # (Runs already sent to a newer server are not this thread's business.)
        with self._lock:
            lost = [rid for rid, e in self._pending.items() if e[2] is proc or e[2] is None]
            entries = [self._pending.pop(rid) for rid in lost]
            if self._proc is proc:
                self._proc = None
        for future, request, _ in entries:
            _resolve(future, error_trace(request, "sandbox_error",
                                         "the sandbox process stopped unexpectedly"))

    def _answer(self, msg: dict) -> None:
        rid = msg.get("id")
        with self._lock:
            entry = self._pending.pop(rid, None) if isinstance(rid, int) else None
        if entry is None:
            return
        future, request, _ = entry
        try:
            data = msg["trace"]
            if isinstance(data, bytes):
                data = json.loads(data)
            trace = trace_from_json(data)
            # What was asked, whatever the sandboxed process claims.
            trace.function, trace.path = request.function, request.path
            trace.call = f"{request.function}({request.args})"
        except Exception as e:  # noqa: BLE001 - whatever the sandboxed process wrote
            trace = error_trace(request, "sandbox_error",
                                f"unreadable answer: {type(e).__name__}: {e}")
        _resolve(future, trace)


def _resolve(future: Future, trace: Trace) -> None:
    try:
        future.set_result(trace)
    except InvalidStateError:   # cancelled by the caller meanwhile
        pass


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
