"""Runs and their explanations: the function's first known input run in the sandbox, its
narrative told in a thread while a fresh run goes on, every claim checked against that fresh
run; explanations cached (256) and shared by the requests that wait for the same one."""

from __future__ import annotations

import asyncio
import dataclasses

from tracecot.tracer.verification.verify import fresh_request

from .document import Document, Example, FunctionInfo
from .examples import examples
from .explain import Explanation, check, narrate_trace
from .runs import request_key
from .state import Run, State


async def run(st: State, uri: str, doc: Document, e: Example) -> Run:
    req = st.request(uri, doc, e)
    return Run(e, req, await st.runner.run(req))

async def primary(st: State, uri: str, doc: Document, fn: FunctionInfo) -> Run | None:
    exs = examples(st, uri, doc, fn)
    return await run(st, uri, doc, exs[0]) if exs else None

async def explained_primary(st: State, uri: str, doc: Document, fn: FunctionInfo):
    """(run, explanation) of the function's first known input. When nothing is cached the
    run and the fresh run that checks its narrative start together (one run's latency)."""
    exs = examples(st, uri, doc, fn)
    if not exs:
        return None, None
    req = st.request(uri, doc, exs[0])
    fresh = None
    # Only when the sandbox has room: under load a run that never ends would hold two slots.
    if st.runner.cached(req) is None and st.runner.busy < 2:
        fresh = asyncio.ensure_future(st.runner.run(fresh_request(req), cache=False))
    handed = False
    try:
        run = Run(exs[0], req, await st.runner.run(req))
        if not run.trace.ok:
            return run, None
        handed = True
        return run, await explanation(st, run, fresh)
    finally:
        if fresh is not None and not handed:
            fresh.cancel()

async def explanation(st: State, run: Run, fresh: asyncio.Future | None = None) -> Explanation:
    """Narrative of the run with every claim checked against a fresh run (cached).
    Narration runs in a thread while the fresh run goes on in the sandbox."""
    key = request_key(run.request)
    hit = st.explanations.get(key)
    fut = st.explaining.get(key)
    if fresh is not None and (hit is not None or fut is not None):
        fresh.cancel()            # an explanation exists or is on its way: not needed
    if hit is not None:
        st.explanations.move_to_end(key)
        return hit
    if fut is None:
        fut = asyncio.ensure_future(_explain(st, run, fresh))
        st.explaining[key] = fut

        def done(f, key=key):
            st.explaining.pop(key, None)
            if not f.cancelled() and f.exception() is None:
                st.explanations[key] = f.result()
                while len(st.explanations) > 256:
                    st.explanations.popitem(last=False)
        fut.add_done_callback(done)
    return await asyncio.shield(fut)

async def _explain(st: State, run: Run, fresh_run: asyncio.Future | None = None) -> Explanation:
    loop = asyncio.get_running_loop()
    # Told as the user wrote the call (`Stack([1]).top`, `s.pop()`), not as the sandbox
    # makes it (`Stack.top(Stack([1]))`).
    shown = dataclasses.replace(run.trace, call=run.example.call)
    narrating = loop.run_in_executor(st.pool, narrate_trace, shown, run.request)
    fresh = None
    if run.trace.ok:
        fresh = await (fresh_run or st.runner.run(fresh_request(run.request), cache=False))
    elif fresh_run is not None:
        fresh_run.cancel()
    narrative = await narrating
    return await loop.run_in_executor(st.pool, check, narrative, fresh)
