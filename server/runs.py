"""Runs in the sandbox from the event loop, a bounded cache of their traces, and the runs the
user asked for before (`.tracecot/runs.json` in the workspace).

User code never runs in this process: `Sandbox.submit` hands the request to the fork server
and we only await its future (`asyncio.wrap_future`), so the event loop never blocks on it.
Identical requests in flight are shared; a run is cancelled in the sandbox (not waited for)
as soon as the last request waiting on it is cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tracecot.tracer.schema import RunRequest, Trace, error_trace

log = logging.getLogger(__name__)

_NOT_CACHED = ("cancelled", "sandbox_error")


@dataclass
class _Inflight:
    future: Future | None             # from Sandbox.submit
    waiting: asyncio.Future           # asyncio view of it
    waiters: int = 0


def request_key(req: RunRequest) -> tuple:
    d = asdict(req)
    return tuple(sorted((k, v if not isinstance(v, (list, dict)) else repr(v))
                        for k, v in d.items()))


class Runner:
    """Async front of a Sandbox: cache, sharing, cancellation, counters."""

    def __init__(self, sandbox, max_traces: int = 256, max_events: int = 100_000):
        self.sandbox = sandbox
        self._cache: OrderedDict[tuple, Trace] = OrderedDict()
        self._events = 0
        self.max_traces, self.max_events = max_traces, max_events
        self._inflight: dict[tuple, _Inflight] = {}
        self.started = self.cancelled = self.hits = 0
        # called with (request, trace) when a new run of a cached request finishes and is
        # kept (not for the one-off runs of the input finder or of verification)
        self.listeners: list = []

    def cached(self, req: RunRequest) -> Trace | None:
        key = request_key(req)
        trace = self._cache.get(key)
        if trace is not None:
            self._cache.move_to_end(key)
        return trace

    @property
    def busy(self) -> int:
        return len(self._inflight)

    async def run(self, req: RunRequest, cache: bool = True) -> Trace:
        """The trace of `req`; cancelling the awaiting task cancels the sandbox run when no
        one else waits for it."""
        key = request_key(req)
        if cache:
            hit = self.cached(req)
            if hit is not None:
                self.hits += 1
                return hit
        for _attempt in (1, 2):
            entry = self._inflight.get(key) if cache else None
            if entry is None:
                entry = self._start(req, key if cache else None)
            entry.waiters += 1
            try:
                trace = await asyncio.shield(entry.waiting)
            except asyncio.CancelledError:
                entry.waiters -= 1
                if entry.waiters <= 0:
                    self._cancel(entry)
                raise
            entry.waiters -= 1
            # Someone else's cancellation killed a run we still want: start it again once.
            if not (trace.error and trace.error.kind == "cancelled"):
                return trace
        return trace

    def _start(self, req: RunRequest, key: tuple | None) -> _Inflight:
        self.started += 1
        try:
            cf = self.sandbox.submit(req)
        except Exception as e:  # noqa: BLE001 - a broken sandbox is an error trace, not a crash
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            fut.set_result(error_trace(req, "sandbox_error", f"the sandbox failed: {e}"))
            return _Inflight(None, fut)
        entry = _Inflight(cf, asyncio.wrap_future(cf))
        if key is not None:
            self._inflight[key] = entry
        entry.waiting.add_done_callback(lambda f: self._finished(req, key, entry, f))
        return entry

    def _cancel(self, entry: _Inflight) -> None:
        if entry.future is not None and not entry.future.done():
            log.debug("cancelling run %s", getattr(entry.future, "run_id", "?"))
            self.cancelled += 1
            try:
                self.sandbox.cancel(entry.future)
            except Exception:
                log.exception("cancelling a run failed")

    def _finished(self, req: RunRequest, key, entry: _Inflight, fut: asyncio.Future) -> None:
        if key is not None and self._inflight.get(key) is entry:
            del self._inflight[key]
        if fut.cancelled() or fut.exception() is not None:
            return
        trace = fut.result()
        if key is None or (trace.error and trace.error.kind in _NOT_CACHED):
            return
        # A run that failed (timeout, step or memory limit) is shown by its error only:
        # its events, up to max_events of an endless loop, are not worth keeping.
        self._store(key, replace(trace, events=[]) if not trace.ok else trace)
        # Only runs that were kept: asking again gives the cached run, so a listener that
        # makes the editor ask again cannot start a loop of new runs.
        for listener in list(self.listeners):
            try:
                listener(req, trace)
            except Exception:
                log.exception("run listener failed")

    def _store(self, key: tuple, trace: Trace) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._events -= len(old.events)
        self._cache[key] = trace
        self._events += len(trace.events)
        while self._cache and (len(self._cache) > self.max_traces
                               or self._events > self.max_events):
            _, dropped = self._cache.popitem(last=False)
            self._events -= len(dropped.events)

    def clear(self) -> None:
        self._cache.clear()
        self._events = 0

    def cancel_all(self) -> None:
        for entry in list(self._inflight.values()):
            self._cancel(entry)


def make_request(source: str, path: str | None, function: str, args: str, settings,
                 expected: str | None = None) -> RunRequest:
    return RunRequest(function=function, args=args, source=source, path=path,
                      timeout=float(settings.timeout), max_steps=int(settings.step_cap),
                      expected=expected)


# --------------------------------------------------------------------------- history


class History:
    """Arguments the user ran each function with, most recent first, per workspace file.

    Stored as `.tracecot/runs.json` under the workspace root:
        {"version": 1, "runs": {"<relative path>": {"<function>": ["<args>", ...]}}}
    """

    MAX_PER_FUNCTION = 8

    def __init__(self, root: str | None):
        self.root = Path(root) if root else None
        self._data: dict[str, dict[str, list[str]]] = {}
        self._loaded = False

    @property
    def path(self) -> Path | None:
        return self.root / ".tracecot" / "runs.json" if self.root else None

    def _key(self, file: str) -> str:
        if self.root:
            try:
                return str(Path(file).resolve().relative_to(self.root.resolve()))
            except (ValueError, OSError):
                pass
        return file

    def load(self) -> None:
        self._loaded = True
        p = self.path
        if p is None or not p.is_file():
            return
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            runs = data.get("runs", {}) if isinstance(data, dict) else {}
            self._data = {str(f): {str(fn): [a for a in args if isinstance(a, str)]
                                   for fn, args in funcs.items() if isinstance(args, list)}
                          for f, funcs in runs.items() if isinstance(funcs, dict)}
        except (OSError, ValueError, AttributeError) as e:
            log.warning("ignoring unreadable %s: %s", p, e)

    def get(self, file: str, function: str) -> list[str]:
        if not self._loaded:
            self.load()
        return list(self._data.get(self._key(file), {}).get(function, []))

    def add(self, file: str, function: str, args: str) -> None:
        if not self._loaded:
            self.load()
        funcs = self._data.setdefault(self._key(file), {})
        runs = [a for a in funcs.get(function, []) if a != args]
        funcs[function] = ([args] + runs)[: self.MAX_PER_FUNCTION]
        self.save()

    def save(self) -> None:
        p = self.path
        if p is None:
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".runs-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "saved": time.time(), "runs": self._data}, fh,
                          indent=1, ensure_ascii=False)
            os.replace(tmp, p)
        except OSError as e:
            log.warning("could not save %s: %s", p, e)
