"""A model worker process and its non-blocking client.

The worker loads the model once and serves JSON-line requests on stdin/stdout (no pickle):
    -> {"id": "7", "method": "predict_output", "params": {...}}
    <- {"id": "7", "ok": true, "result": {...}}  |  {"id": "7", "ok": false, "error": {...}}
Queued prediction requests with the same settings are run as one batch. `cancel` is handled
by a reader thread at once: a queued request is answered "Cancelled" immediately, a running
batch stops at its next decoding step (its other requests are queued again).

The client (`ModelWorker`) returns futures and has asyncio wrappers, so callers never block.
A request past its timeout is cancelled; a worker that does not acknowledge within
`kill_grace` seconds (a hung generation) is killed and restarted, and the requests it still
held are sent again. A bad model or adapter path is an error reply; the worker stays up.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import Future
from dataclasses import dataclass, field

BATCHABLE = ("predict_output", "predict_inputs", "generate")


class WorkerError(RuntimeError):
    """The worker answered with an error (type and message come from the worker)."""

    def __init__(self, type_: str, message: str):
        self.type, self.message = type_, message
        super().__init__(f"{type_}: {message}")


class WorkerTimeout(TimeoutError):
    pass


class WorkerCancelled(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Server side (runs in the worker process)


class _Server:
    def __init__(self, model: str | None, adapter: str | None, device: str | None,
                 dtype: str | None, max_batch: int, out):
        self.spec = dict(model=model, adapter=adapter, device=device, dtype=dtype)
        self.max_batch, self.out = max_batch, out
        self.queue: collections.deque = collections.deque()
        self.cv = threading.Condition()
        self.cancelled: set[str] = set()
        self.running: set[str] = set()
        self.write_lock = threading.Lock()
        self.predictor = None
        self.load_error: str | None = None
        self.debug = os.environ.get("TRACECOT_WORKER_DEBUG") == "1"
        self.stats = {"requests": 0, "batches": 0, "largest_batch": 0}

    def send(self, msg: dict) -> None:
        data = (json.dumps(msg) + "\n").encode()
        with self.write_lock:
            self.out.write(data)
            self.out.flush()

    def reply(self, rid, result=None, error: tuple[str, str] | None = None) -> None:
        if error:
            self.send({"id": rid, "ok": False, "error": {"type": error[0], "message": error[1]}})
        else:
            self.send({"id": rid, "ok": True, "result": result})

    def load(self, **spec) -> dict:
        from .loading import load_model
        from .predict import Predictor
        lm = load_model(spec.get("model"), spec.get("adapter"), spec.get("device"),
                        spec.get("dtype"))      # raises ModelLoadError; old model kept
        self.predictor = Predictor(lm=lm, batch_size=self.max_batch)
        self.load_error = None
        return lm.describe()

    def reader(self, stdin) -> None:
        for line in stdin:
            try:
                msg = json.loads(line)
                rid, method = msg["id"], msg["method"]
            except (ValueError, KeyError, TypeError):
                self.send({"id": None, "ok": False,
                           "error": {"type": "BadRequest", "message": f"not a request: {line[:200]!r}"}})
                continue
            if method == "cancel":
                target = str((msg.get("params") or {}).get("target"))
                with self.cv:
                    self.cancelled.add(target)
                    queued = [m for m in self.queue if m["id"] == target]
                    for m in queued:
                        self.queue.remove(m)
                    is_running = target in self.running
                if queued and not is_running:
                    self.reply(target, error=("Cancelled", "cancelled while queued"))
                self.reply(rid, {"target": target, "running": is_running})
                continue
            with self.cv:
                self.queue.append(msg)
                self.cv.notify()
        with self.cv:                    # stdin closed: the client is gone
            self.queue.append({"id": None, "method": "shutdown"})
            self.cv.notify()

    def take(self) -> list[dict]:
        """The next request, plus queued ones that can share its batch."""
        with self.cv:
            while not self.queue:
                self.cv.wait()
            first = self.queue.popleft()
            batch = [first]
            if first["method"] in BATCHABLE:
                key = _batch_key(first)
                for m in list(self.queue):
                    if len(batch) >= self.max_batch:
                        break
                    if m["method"] == first["method"] and _batch_key(m) == key:
                        self.queue.remove(m)
                        batch.append(m)
            batch = [m for m in batch if m["id"] not in self.cancelled]
            self.running = {m["id"] for m in batch}
            return batch

    def serve(self) -> None:
        if self.spec.get("model") != "none":
            try:
                info = self.load(**self.spec)
                self.send({"event": "ready", "model": info})
            except Exception as e:  # noqa: BLE001 - reported to every request needing it
                self.load_error = str(e)
                self.send({"event": "ready", "model": None, "error": self.load_error})
        else:
            self.send({"event": "ready", "model": None})
        while True:
            batch = self.take()
            if not batch:
                continue
            if batch[0]["method"] == "shutdown":
                for m in batch:
                    if m["id"] is not None:
                        self.reply(m["id"], {"bye": True})
                return
            try:
                self.dispatch(batch)
            finally:
                with self.cv:
                    self.running = set()

    def dispatch(self, batch: list[dict]) -> None:
        from .generate import Cancelled
        method = batch[0]["method"]
        ids = [m["id"] for m in batch]
        if method in BATCHABLE:
            st = self.stats
            st["requests"] += len(batch)
            st["batches"] += 1
            st["largest_batch"] = max(st["largest_batch"], len(batch))
        try:
            results = self.execute(method, [m.get("params") or {} for m in batch], ids)
        except Cancelled:
            with self.cv:
                again = [m for m in batch if m["id"] not in self.cancelled]
                self.queue.extendleft(reversed(again))
            for m in batch:
                if m["id"] in self.cancelled:
                    self.reply(m["id"], error=("Cancelled", "cancelled while running"))
            return
        except Exception as e:  # noqa: BLE001 - every failure becomes an error reply
            kind = type(e).__name__
            msg = str(e) if kind in ("ModelLoadError", "ValueError", "TypeError", "KeyError") \
                else f"{e}\n{traceback.format_exc(limit=4)}"
            for rid in ids:
                self.reply(rid, error=(kind, msg))
            return
        for rid, res in zip(ids, results):
            if rid in self.cancelled:
                self.reply(rid, error=("Cancelled", "cancelled while running"))
            else:
                self.reply(rid, res)

    def need_model(self):
        if self.predictor is None:
            raise RuntimeError(f"no model loaded: {self.load_error or 'send a load request'}")
        return self.predictor

    def execute(self, method: str, params: list[dict], ids: list[str]) -> list:
        cancel = lambda: any(i in self.cancelled for i in ids)  # noqa: E731
        if method == "ping":
            return [{"pong": True, "pid": os.getpid()}]
        if method == "load":
            return [self.load(**{k: params[0].get(k) for k in ("model", "adapter", "device", "dtype")})]
        if method == "info":
            p = self.predictor
            return [{"model": p.engine.lm.describe() if p else None, "error": self.load_error,
                     "stats": dict(self.stats, cancelled=len(self.cancelled))}]
        if method == "sleep" and self.debug:      # test hook: an uninterruptible hang
            time.sleep(float(params[0].get("seconds", 1)))
            return [{"slept": True}]
        pred = self.need_model()
        first = params[0]
        mode, samples = first.get("mode", "direct"), int(first.get("samples", 1))
        temp = first.get("temperature")
        if method == "predict_output":
            from .predict import OutputTask, parse_call
            tasks = []
            for p in params:
                fn, args = parse_call(p["code"], p["call_or_args"], p.get("function"))
                tasks.append(OutputTask(p["code"], fn, args))
            res = pred.predict_output_batch(tasks, mode, samples, temp, cancel,
                                            first.get("max_new_tokens"))
            return [[x.to_json() for x in row] for row in res]
        if method == "predict_inputs":
            from .predict import InputTask, default_function
            tasks = [InputTask(p["code"], p.get("function") or default_function(p["code"]),
                               p["target_output"]) for p in params]
            res = pred.predict_input_batch(tasks, mode, samples, temp, cancel,
                                           first.get("max_new_tokens"))
            return [[x.to_json() for x in row] for row in res]
        if method == "generate":
            from .generate import GenConfig
            cfg = GenConfig(max_new_tokens=int(first.get("max_new_tokens", 64)),
                            min_new_tokens=int(first.get("min_new_tokens", 0)),
                            temperature=float(temp or 0.0), stop=tuple(first.get("stop") or ()))
            gens = pred.engine.generate([p["prompt"] for p in params], cfg, samples, cancel)
            return [[{"text": g.text, "tokens": g.tokens, "finish": g.finish,
                      "first_token_s": g.first_token_s, "total_s": g.total_s} for g in row]
                    for row in gens]
        raise ValueError(f"unknown method {method!r}")


def _batch_key(msg: dict) -> tuple:
    p = msg.get("params") or {}
    return (p.get("mode"), p.get("samples"), p.get("temperature"), p.get("max_new_tokens"),
            p.get("min_new_tokens"), tuple(p.get("stop") or ()))


def serve_main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m tracecot.model.worker")
    ap.add_argument("--model")
    ap.add_argument("--adapter")
    ap.add_argument("--device")
    ap.add_argument("--dtype")
    ap.add_argument("--max-batch", type=int, default=16)
    a = ap.parse_args(argv)
    # Keep the protocol on a private descriptor: anything printed by libraries (or inherited
    # by sandbox children) goes to stderr instead of corrupting the JSON stream.
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    server = _Server(a.model, a.adapter, a.device, a.dtype, a.max_batch, proto)
    threading.Thread(target=server.reader, args=(sys.stdin,), daemon=True).start()
    server.serve()
    return 0


# ---------------------------------------------------------------------------------------------
# Client side


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
            cmd = [sys.executable, "-m", "tracecot.model.worker", "--max-batch", str(self.max_batch)]
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
                timeout: float | None = ...) -> Future:  # type: ignore[assignment]
        """Send a request; returns a Future with `.request_id` (for `cancel`)."""
        if self._closed:
            raise WorkerError("Closed", "worker closed")
        timeout = self.timeout if timeout is ... else timeout
        rid = str(next(self._ids))
        fut: Future = Future()
        fut.request_id = rid  # type: ignore[attr-defined]
        msg = {"id": rid, "method": method, "params": params or {}}
        with self._lock:
            self.start()
            self._pending[rid] = _Pending(fut, msg, time.monotonic() + timeout if timeout else None)
            self._write(msg)
        return fut

    def call(self, method: str, params: dict | None = None, timeout: float | None = ...):
        """Blocking convenience (not for event loops: use `acall`)."""
        return self.request(method, params, timeout).result()

    async def acall(self, method: str, params: dict | None = None, timeout: float | None = ...):
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
            self._write({"id": f"c{request_id}", "method": "cancel", "params": {"target": request_id}})
        return True

    def predict_output(self, code: str, call_or_args: str, mode: str = "direct",
                       timeout: float | None = ..., **kw) -> Future:  # type: ignore[assignment]
        return self.request("predict_output", dict(code=code, call_or_args=call_or_args,
                                                   mode=mode, **kw), timeout)

    def predict_inputs(self, code: str, function: str | None, target_output: str, k: int = 1,
                       mode: str = "direct", timeout: float | None = ..., **kw) -> Future:  # type: ignore[assignment]
        return self.request("predict_inputs", dict(code=code, function=function,
                                                   target_output=target_output, samples=k,
                                                   mode=mode, **kw), timeout)

    def load(self, model: str | None = None, adapter: str | None = None,
             timeout: float | None = None) -> Future:
        """Switch model/adapter; on failure the worker keeps the previous one."""
        return self.request("load", {"model": model, "adapter": adapter}, timeout)

    # -- background threads --------------------------------------------------------------

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
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
                                       WorkerError(err.get("type", "Error"), err.get("message", "")))
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
                        self._write({"id": f"c{rid}", "method": "cancel", "params": {"target": rid}})
                    if p.cancel_sent is not None and now - p.cancel_sent > self.kill_grace:
                        kill = True
                if kill:
                    for rid in [r for r, p in self._pending.items() if p.cancel_sent is not None]:
                        del self._pending[rid]
                    self.restart()


if __name__ == "__main__":
    raise SystemExit(serve_main())
