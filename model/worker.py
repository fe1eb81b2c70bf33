"""The model worker process: loads the model once and serves JSON-line requests on
stdin/stdout (no pickle):
    -> {"id": "7", "method": "predict_output", "params": {...}}
    <- {"id": "7", "ok": true, "result": {...}}  |  {"id": "7", "ok": false, "error": {...}}
Queued prediction requests with the same settings are run as one batch. `cancel` is handled
by a reader thread at once: a queued request is answered "Cancelled" immediately, a running
batch stops at its next decoding step (its other requests are queued again). A bad model or
adapter path is an error reply; the worker stays up.

Its client, `ModelWorker`, is in worker_client.py (run as `python -m tracecot.model.worker`).
"""

from __future__ import annotations

import collections
import json
import os
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .predict import Predictor

BATCHABLE = ("predict_output", "predict_inputs", "generate")


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
        self.predictor: Predictor | None = None
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
                           "error": {"type": "BadRequest",
                                     "message": f"not a request: {line[:200]!r}"}})
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
        # ping, load and info return one result, not one per request.
        for rid, res in zip(ids, results, strict=False):
            if rid in self.cancelled:
                self.reply(rid, error=("Cancelled", "cancelled while running"))
            else:
                self.reply(rid, res)

    def need_model(self):
        if self.predictor is None:
            raise RuntimeError(f"no model loaded: {self.load_error or 'send a load request'}")
        return self.predictor

    def execute(self, method: str, params: list[dict], ids: list[str]) -> list:
        def cancel() -> bool:
            return any(i in self.cancelled for i in ids)

        if method == "ping":
            return [{"pong": True, "pid": os.getpid()}]
        if method == "load":
            keys = ("model", "adapter", "device", "dtype")
            return [self.load(**{k: params[0].get(k) for k in keys})]
        if method == "info":
            loaded = self.predictor
            return [{"model": loaded.engine.lm.describe() if loaded else None,
                     "error": self.load_error,
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
            in_tasks = [InputTask(p["code"], p.get("function") or default_function(p["code"]),
                                  p["target_output"]) for p in params]
            res = pred.predict_input_batch(in_tasks, mode, samples, temp, cancel,
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


def __getattr__(name):
    # The client's names, for callers that import them from here (the process stays lean).
    if name in ("ModelWorker", "WorkerError", "WorkerTimeout", "WorkerCancelled"):
        from . import worker_client
        return getattr(worker_client, name)
    raise AttributeError(name)


if __name__ == "__main__":
    raise SystemExit(serve_main())
