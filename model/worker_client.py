"""The client of the model worker process (worker.py): non-blocking, so callers never wait.

`ModelWorker` returns futures and has asyncio wrappers. A request past its timeout is
cancelled; a worker that does not acknowledge within `kill_grace` seconds (a hung generation)
is killed and restarted, and the requests it still held are sent again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import EllipsisType

__all__ = ["ModelWorker", "WorkerError", "WorkerTimeout", "WorkerCancelled"]


class WorkerError(RuntimeError):
    """The worker answered with an error (type and message come from the worker)."""

    def __init__(self, type_: str, message: str):
        self.type, self.message = type_, message
        super().__init__(f"{type_}: {message}")


class WorkerTimeout(TimeoutError):
    pass


class WorkerCancelled(Exception):
    pass


class RequestFuture(Future):
    """A request's future, with the id that `ModelWorker.cancel` takes."""
    request_id: str = ""


@dataclass
class _Pending:
    future: Future
    msg: dict
    deadline: float | None
    cancel_sent: float | None = None
    done: bool = False


@dataclass
class ModelWorker:
    """Client of a worker process. All calls return at once (futures or awaitables)."""
    model: str | None = None
    adapter: str | None = None
    device: str | None = None
    dtype: str | None = None
    timeout: float | None = 120.0        # default per-request timeout (None: no limit)
    kill_grace: float = 5.0              # seconds a cancelled request may take to stop
    max_batch: int = 16
    env: dict | None = None
    restarts: int = 0
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _pending: dict = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _ready_msg: dict = field(default_factory=dict, repr=False)
    _closed: bool = False

    def __post_init__(self):
        self._log = tempfile.NamedTemporaryFile(prefix="tracecot-worker-", suffix=".log",
                                                delete=False)
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()

    # -- process management --------------------------------------------------------------

    def start(self) -> "ModelWorker":
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return self
            cmd = [sys.executable, "-m", "tracecot.model.worker",
                   "--max-batch", str(self.max_batch)]
            for flag, val in (("--model", self.model), ("--adapter", self.adapter),
                              ("--device", self.device), ("--dtype", self.dtype)):
                if val:
                    cmd += [flag, str(val)]
            env = dict(os.environ, **(self.env or {}))
            self._ready.clear()
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=self._log, env=env)
            threading.Thread(target=self._read, args=(self._proc,), daemon=True).start()
            for p in self._pending.values():        # requests a killed worker still held
                if not p.done:
                    self._write(p.msg)
        return self

    def wait_ready(self, timeout: float | None = None) -> dict:
        """Block until the model is loaded (or failed to load); returns the ready message."""
        self.start()
        if not self._ready.wait(timeout):
            raise WorkerTimeout("worker did not become ready")
        return self._ready_msg

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        with self._lock:
            self._kill()
            self._proc = None
            self.restarts += 1
            self.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            proc = self._proc
            if proc is not None and proc.poll() is None:
                try:
                    if proc.stdin is not None:
                        proc.stdin.close()
                    proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._kill()
            for p in self._pending.values():
                if not p.future.done():
                    p.future.set_exception(WorkerError("Closed", "worker closed"))
            self._pending.clear()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            with open(self._log.name, "rb") as fh:
                fh.seek(max(0, os.path.getsize(self._log.name) - chars))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    # -- requests ------------------------------------------------------------------------

    def _write(self, msg: dict) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write((json.dumps(msg) + "\n").encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass    # the reader notices the exit and fails what is pending

    def request(self, method: str, params: dict | None = None,
                timeout: float | None | EllipsisType = ...) -> RequestFuture:
        """Send a request; returns a Future with `.request_id` (for `cancel`)."""
        if self._closed:
            raise WorkerError("Closed", "worker closed")
        timeout = self.timeout if timeout is ... else timeout
        rid = str(next(self._ids))
        fut = RequestFuture()
        fut.request_id = rid
        msg = {"id": rid, "method": method, "params": params or {}}
        with self._lock:
            self.start()
            self._pending[rid] = _Pending(fut, msg, time.monotonic() + timeout if timeout else None)
            self._write(msg)
        return fut

    def call(self, method: str, params: dict | None = None,
             timeout: float | None | EllipsisType = ...):
        """Blocking convenience (not for event loops: use `acall`)."""
        return self.request(method, params, timeout).result()

    async def acall(self, method: str, params: dict | None = None,
                    timeout: float | None | EllipsisType = ...):
        return await asyncio.wrap_future(self.request(method, params, timeout))

    def cancel(self, request_id: str) -> bool:
        """Cancel a request by id; its future fails with WorkerCancelled. False if finished."""
        with self._lock:
            p = self._pending.get(request_id)
            if p is None or p.done:
                return False
            p.done = True
            p.cancel_sent = time.monotonic()
            p.future.set_exception(WorkerCancelled(f"request {request_id} cancelled"))
            self._write({"id": f"c{request_id}", "method": "cancel",
                         "params": {"target": request_id}})
        return True

    def predict_output(self, code: str, call_or_args: str, mode: str = "direct",
                       timeout: float | None | EllipsisType = ..., **kw) -> RequestFuture:
        return self.request("predict_output", dict(code=code, call_or_args=call_or_args,
                                                   mode=mode, **kw), timeout)

    def predict_inputs(self, code: str, function: str | None, target_output: str, k: int = 1,
                       mode: str = "direct", timeout: float | None | EllipsisType = ...,
                       **kw) -> RequestFuture:
        return self.request("predict_inputs", dict(code=code, function=function,
                                                   target_output=target_output, samples=k,
                                                   mode=mode, **kw), timeout)

    def load(self, model: str | None = None, adapter: str | None = None,
             timeout: float | None = None) -> Future:
        """Switch model/adapter; on failure the worker keeps the previous one."""
        return self.request("load", {"model": model, "adapter": adapter}, timeout)

    # -- background threads --------------------------------------------------------------

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout or ():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "event" in msg:
                if msg["event"] == "ready":
                    self._ready_msg = msg
                    self._ready.set()
                continue
            rid = msg.get("id")
            with self._lock:
                p = self._pending.pop(rid, None) if rid is not None else None
            if p is None or p.future.done():
                continue            # answer to a timed-out/cancelled request, or a cancel ack
            if msg.get("ok"):
                p.future.set_result(msg.get("result"))
            else:
                err = msg.get("error") or {}
                exc_cls = WorkerCancelled if err.get("type") == "Cancelled" else None
                p.future.set_exception(exc_cls(err.get("message")) if exc_cls else
                                       WorkerError(err.get("type", "Error"),
                                                   err.get("message", "")))
        code = proc.wait()
        with self._lock:
            if proc is not self._proc or self._closed:
                return              # killed on purpose: pending requests are resent
            self._proc = None
            tail = self.log_tail(1500)
            for p in self._pending.values():
                if not p.future.done():
                    p.future.set_exception(WorkerError(
                        "WorkerExited", f"worker exited with code {code}; log tail:\n{tail}"))
            self._pending.clear()
            self._ready_msg = {"event": "ready", "model": None, "error": f"exited with {code}"}
            self._ready.set()

    def _watch(self) -> None:
        while not self._closed:
            time.sleep(0.05)
            now = time.monotonic()
            kill = False
            with self._lock:
                for rid, p in list(self._pending.items()):
                    if p.deadline is not None and not p.done and now > p.deadline:
                        p.done = True
                        p.cancel_sent = now
                        p.future.set_exception(WorkerTimeout(f"request {rid} timed out"))
                        self._write({"id": f"c{rid}", "method": "cancel",
                                     "params": {"target": rid}})
                    if p.cancel_sent is not None and now - p.cancel_sent > self.kill_grace:
                        kill = True
                if kill:
                    for rid in [r for r, p in self._pending.items() if p.cancel_sent is not None]:
                        del self._pending[rid]
                    self.restart()
