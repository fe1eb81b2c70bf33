"""The model, behind the `model.enabled` setting: a worker process, never this process.

States: disabled | loading | ready | unavailable (with the reason). Every failure (load,
worker crash) degrades to "model not available: <why>"; nothing else depends on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable

from tracecot.model.worker_client import ModelWorker

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    pass


def _cancel(worker, request_id) -> None:
    try:
        worker.cancel(request_id)
    except Exception:
        log.debug("cancelling a model request failed", exc_info=True)


def _close(worker) -> None:
    try:
        worker.close()
    except Exception:
        log.exception("closing the model worker failed")


class ModelService:
    def __init__(self, on_state: Callable[[str, str | None], None] | None = None):
        self.enabled = False
        self.path = ""
        self.adapter = ""
        self.state = "disabled"
        self.error: str | None = None
        self.info: dict | None = None      # the worker's description of the loaded model
        self._worker: ModelWorker | None = None
        self._ready: asyncio.Task | None = None
        self._on_state = on_state or (lambda s, m: None)

    @property
    def message(self) -> str:
        if self.state == "unavailable":
            return f"model not available: {self.error}"
        return {"disabled": "model disabled (setting tracecot.model.enabled)",
                "loading": "model loading…", "ready": "model ready"}.get(self.state, self.state)

    def configure(self, enabled: bool, path: str, adapter: str, allowed: bool) -> None:
        """Apply settings; starts loading in the background when enabled and allowed."""
        changed = (path, adapter) != (self.path, self.adapter)
        self.path, self.adapter = path, adapter
        want = bool(enabled and allowed)
        if not want:
            self.enabled = False
            self._stop()
            self._set("disabled", None)
            return
        if self.enabled and not changed and self.state in ("loading", "ready"):
            return
        self.enabled = True
        self._stop()
        self._ready = asyncio.ensure_future(self._load())

    def _set(self, state: str, error: str | None) -> None:
        self.state, self.error = state, error
        try:
            self._on_state(state, self.message)
        except Exception:
            log.exception("model state listener failed")

    async def _load(self) -> None:
        self._set("loading", None)
        try:
            worker = ModelWorker(model=self.path or None, adapter=self.adapter or None,
                                 timeout=300.0)
            self._worker = worker
            loop = asyncio.get_running_loop()
            msg = await loop.run_in_executor(None, worker.wait_ready, 600.0)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self._set("unavailable", f"{type(e).__name__}: {e}")
            return
        if not isinstance(msg, dict) or msg.get("model") is None:
            err = (msg or {}).get("error") if isinstance(msg, dict) else None
            self._set("unavailable", err or "the model did not load")
            return
        self.info = msg["model"]
        self._set("ready", None)

    def _stop(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        self._ready = None
        self.info = None
        worker, self._worker = self._worker, None
        if worker is not None:
            # Closing waits for the worker process to exit (up to seconds while it loads or
            # generates): never on the event loop.
            threading.Thread(target=_close, args=(worker,), name="tracecot-model-close",
                             daemon=True).start()

    def close(self) -> None:
        self._stop()

    async def ready(self):
        if not self.enabled:
            raise ModelUnavailable(self.message)
        if self._ready is not None:
            await asyncio.shield(self._ready)
        if self.state != "ready" or self._worker is None:
            raise ModelUnavailable(self.message)
        return self._worker

    async def _call(self, method: str, **params) -> list[dict]:
        worker = await self.ready()
        try:
            # The worker's lock is shared with its watchdog and reader threads: sending is
            # done from a thread too, so the event loop never waits for it.
            sending = asyncio.get_running_loop().run_in_executor(
                None, worker.request, method, params)
            fut = await asyncio.shield(sending)
        except asyncio.CancelledError:
            def sent(f):             # cancelled while sending: cancel it once it is sent
                if not f.cancelled() and f.exception() is None:
                    threading.Thread(target=_cancel, args=(worker, f.result().request_id),
                                     daemon=True).start()
            sending.add_done_callback(sent)
            raise
        except Exception as e:  # e.g. closed by a settings change meanwhile
            raise ModelUnavailable(f"model not available: {type(e).__name__}: {e}") from e
        try:
            out = await asyncio.wrap_future(fut)
        except asyncio.CancelledError:
            # The worker may hold its lock while it closes: cancel from a thread.
            threading.Thread(target=_cancel, args=(worker, fut.request_id),
                             name="tracecot-model-cancel", daemon=True).start()
            raise
        except Exception as e:
            raise ModelUnavailable(f"model not available: {type(e).__name__}: {e}") from e
        return out if isinstance(out, list) else [out]

    async def predict_output(self, code: str, function: str, args: str,
                             mode: str = "direct") -> dict:
        rows = await self._call("predict_output", code=code, call_or_args=args,
                                function=function, mode=mode)
        return rows[0] if rows and isinstance(rows[0], dict) else {}

    async def predict_inputs(self, code: str, function: str, target: str, k: int = 4) -> list[dict]:
        rows = await self._call("predict_inputs", code=code, function=function,
                                target_output=target, samples=k, mode="direct",
                                temperature=0.8 if k > 1 else None)
        return [r for r in rows if isinstance(r, dict)]
