"""Stage "solver": CrossHair (symbolic execution) and Hypothesis (generation with shrinking).

Both libraries must call the user's function, so neither runs in the server (or CLI)
process: each runs in its own short-lived child, `python -m
tracecot.server.finder.solver_worker`, which locks itself down with the tracer's sandbox
layers (tracecot.tracer.running.guards: rlimits, seccomp, Landlock, audit hook) after
importing the library and before loading the user's code; the parent only reads JSON from
its stdout and kills it at the deadline (or when the search is cancelled). What a solver
proposes is then run in the ordinary sandbox like any other candidate, so an answer is
proven the same way whichever stage found it.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import json
import os
import subprocess
import sys
import threading

from .types import Param, kind_of_value

SOLVERS = ("hypothesis", "crosshair")


def descriptor(p: Param) -> dict:
    return {"kind": p.kinds[0] if p.kinds else "int", "elem": p.elem, "key": p.key,
            "value": p.value}


def descriptor_of_value(v) -> dict:
    """Types read off a value (the benchmark's peers get them from the recorded input)."""
    d = {"kind": kind_of_value(v) or "int", "elem": None, "key": None, "value": None}
    if isinstance(v, (list, tuple, set)) and v:
        d["elem"] = kind_of_value(next(iter(v)))
    if isinstance(v, dict) and v:
        k, x = next(iter(v.items()))
        d["key"], d["value"] = kind_of_value(k), kind_of_value(x)
    return d


def _request(solver: str, source: str, function: str, target: str, types: list[dict],
             budget: float) -> bytes:
    return json.dumps({"solver": solver, "source": source, "function": function,
                       "target": target, "types": types, "budget": budget}).encode()


def _argv(solver: str) -> list[str]:
    return [sys.executable, "-m", "tracecot.server.finder.solver_worker", solver]


class _Warm:
    """One idle worker per solver, its library already imported, waiting for its request
    (starting Python and importing CrossHair or Hypothesis takes most of a 2 s budget on a
    busy machine). A worker serves one request, locked down, and exits; taking one starts
    the next."""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: dict[str, subprocess.Popen] = {}
        atexit.register(self.close)

    def _spawn(self, solver: str) -> subprocess.Popen:
        return subprocess.Popen(_argv(solver), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=_env(), start_new_session=True)

    def take(self, solver: str) -> subprocess.Popen:
        with self._lock:
            proc = self._idle.pop(solver, None)
            if proc is None or proc.poll() is not None:
                proc = self._spawn(solver)
            self._idle[solver] = self._spawn(solver)
            return proc

    def close(self) -> None:
        with self._lock:
            for proc in self._idle.values():
                proc.kill()
            self._idle.clear()


WARM = _Warm()


def _env() -> dict:
    return dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")


def _answer(out: bytes) -> list[str]:
    try:
        got = json.loads(out.decode() or "{}").get("inputs") or []
    except (ValueError, UnicodeDecodeError):
        return []
    return [a for a in got if isinstance(a, str)]


async def run_solver(solver: str, source: str, function: str, target: str,
                     types: list[dict], budget: float) -> list[str]:
    """Argument sources the solver proposes within `budget` seconds (killed after)."""
    proc = WARM.take(solver)
    request = _request(solver, source, function, target, types, budget)
    try:
        out, _ = await asyncio.to_thread(proc.communicate, request, budget + 0.5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return []
    except asyncio.CancelledError:
        proc.kill()
        raise
    return _answer(out)


async def solve(problem, params: list[Param], budget: float) -> list[str]:
    """Both solvers at once on the inferred types; every proposal, to be run and proven."""
    if not params or budget < 0.3:
        return []
    types = [descriptor(p) for p in params]
    which = SOLVERS if budget > 1.0 else SOLVERS[:1]
    tasks = {asyncio.ensure_future(run_solver(s, problem.source, problem.function,
                                              problem.target, types, budget)) for s in which}
    try:
        while tasks:          # the first solver with an answer wins
            done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                got = t.result() if not t.exception() else []
                if got:
                    return list(dict.fromkeys(got))
        return []
    finally:
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def peer(solver: str, code: str, function: str, output: str, input_src: str,
         budget: float) -> str | None:
    """A solver alone (benchmark peers), given the types of the recorded input."""
    try:
        call = ast.parse(f"f({input_src})", mode="eval").body
        if not isinstance(call, ast.Call):     # e.g. `1) + (2`
            raise ValueError(input_src)
        vals = [ast.literal_eval(a) for a in call.args]
    except (SyntaxError, ValueError):
        return None
    types = [descriptor_of_value(v) for v in vals]
    proc = WARM.take(solver)      # warm, as in the finder: startup is not counted
    try:
        out, _ = proc.communicate(_request(solver, code, function, output, types, budget),
                                  timeout=budget + 0.5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    got = _answer(out)
    return got[0] if got else None
