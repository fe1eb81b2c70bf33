"""Many candidate inputs in one sandboxed run: a probe driver appended to the user's module.

One sandbox run (a fork, ~20 ms here) per candidate caps a 2 s search at about a hundred
candidates. So the finder sends a batch: the user's source with a small driver function
appended, called in the sandbox like any other function (traced, step- and time-capped,
locked down). The driver calls the target once per candidate, compares the result with the
target by `==` (as an assert would), and writes one line per candidate to stdout. A candidate
that hangs or crashes the process ends the run: the lines written before it are kept, that
candidate is marked `hang`, and the rest go in the next batch. Nothing runs in our process.

Answers found this way are proven again by a plain single run (see search.verify).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable

from tracecot.tracer.schema import RunRequest, Trace

DRIVER = "__tracecot_probe__"
# A candidate that grows a value without end (s.replace('', s) in a loop) does it inside
# single C calls the CPU timer cannot stop; a smaller memory limit ends it sooner
# (MemoryError, and the batch goes on). Answers are proven with the default limit.
BATCH_MEMORY_MB = 256
_MARK = "\x00TC"
_REPR_LIMIT = 300

# Appended after the user's code. Reads the target once, silences user output (so that it
# cannot forge result lines), and reports "index, kind, equal, repr" per candidate. A
# candidate that spends `per` CPU seconds is stopped (SIGVTALRM) and reported "hang", and the
# batch goes on: a loop that never ends no longer costs the whole batch's timeout.
_DRIVER_SRC = '''

def __tracecot_probe__(callee_src, cands, target_src, per=0.0):
    import signal
    import sys
    import time
    cpu = time.thread_time
    real = sys.stdout

    class Slow(BaseException):
        pass

    def slow(signum, frame):
        raise Slow()
    try:
        if per:
            signal.signal(signal.SIGVTALRM, slow)
    except Exception:
        per = 0.0

    class Quiet:
        def write(self, s):
            return len(s)

        def flush(self):
            pass
    quiet = Quiet()
    g = globals()
    target = eval(target_src, g)
    for i, c in enumerate(cands):
        sys.stdout = sys.stderr = quiet
        kind = "r"
        t0 = cpu()
        try:
            if per:     # CPU seconds, re-armed: a loop that swallows it is stopped again
                signal.setitimer(signal.ITIMER_VIRTUAL, per, per / 4)
            try:
                r = eval(callee_src + "(" + c + ")", g)
            finally:
                if per:
                    signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        except Slow:
            kind, r = "hang", "slow"
        except RecursionError:
            kind, r = "x", "RecursionError"
        except Exception as e:
            kind, r = "x", type(e).__name__
            if type(e) is KeyError and e.args:     # the key it wanted (search: repairs)
                try:
                    r = "KeyError:" + repr(e.args[0])[:80]
                except Exception:
                    pass
        took = cpu() - t0
        eq = 0
        text = r
        if kind == "r":
            try:
                eq = 1 if bool(r == target) else 0
            except Exception:
                eq = 0
            try:
                text = repr(r)
                if " object at 0x" in text and hasattr(r, "__dict__"):
                    text = type(r).__name__ + "(" + ", ".join(
                        "%s=%r" % kv for kv in vars(r).items()) + ")"
            except Exception:
                text = "<repr failed>"
            if not eq:
                try:
                    same = type(r) is type(target) and (
                        repr(r) == repr(target) if not hasattr(r, "__dict__")
                        else vars(r) == vars(target))
                except Exception:
                    same = False
                eq = 2 if same else 0
        sys.stdout = real
        real.write("%s%d\\t%s\\t%d\\t%.6f\\t%s\\n" % ("\\x00TC", i, kind, eq, took,
                                                    text[:300].replace("\\n", "\\\\n")))
    return len(cands)
'''


@dataclass
class Outcome:
    """What one candidate did: kind "r" (returned), "x" (raised), "hang" (ended the run:
    timeout, step cap, memory, exit), "bad" (the batch could not run it)."""
    args: str
    kind: str
    equal: bool = False
    lookalike: bool = False     # repr equal to the target's but `==` False
    text: str = ""              # repr of the result, or the exception's type name
    cpu: float = 0.0            # CPU seconds the call took (in the traced child)


RunRequestFn = Callable[[RunRequest], Awaitable[Trace]]


@dataclass
class Problem:
    """What the finder is given: code, the function (or a call prefix on an instance), the
    target output as Python source. Nothing else: no recorded input."""
    source: str
    function: str
    target: str
    path: str | None = None
    callee: str | None = None     # call prefix when not the plain function, e.g. "C(1).m"


def batch_request(problem: Problem, cands: list[str], timeout: float,
                  max_steps: int, per: float = 0.0) -> RunRequest:
    callee = problem.callee or problem.function
    return RunRequest(function=DRIVER,
                      args=f"{callee!r}, {cands!r}, {problem.target!r}, {per!r}",
                      source=problem.source.rstrip() + "\n" + _DRIVER_SRC, path=problem.path,
                      timeout=timeout, max_steps=max_steps, max_events=1, record=False,
                      memory_mb=BATCH_MEMORY_MB,
                      output_bytes=(_REPR_LIMIT + 40) * len(cands) + 4096)


def parse_lines(stdout: str, cands: list[str]) -> dict[int, Outcome]:
    out: dict[int, Outcome] = {}
    for line in stdout.split("\n"):
        if not line.startswith(_MARK):
            continue
        parts = line[len(_MARK):].split("\t", 4)
        if len(parts) != 5 or not parts[0].isdigit():
            continue
        i = int(parts[0])
        try:
            took = float(parts[3])
        except ValueError:
            continue
        if 0 <= i < len(cands) and i not in out:
            out[i] = Outcome(cands[i], parts[1], parts[2] == "1", parts[2] == "2", parts[4],
                             took)
    return out


async def run_batch(run: RunRequestFn, problem: Problem, cands: list[str],
                    timeout: float = 1.0, max_steps: int = 400_000,
                    per: float = 0.0) -> list[Outcome]:
    """Outcomes of a prefix of `cands` (at least one when anything ran): the candidate that
    ended the run is `hang`; those after it are left out, for the caller to send again.
    `per`: CPU seconds a candidate may take before it is stopped (0: the run's timeout)."""
    if not cands:
        return []
    trace = await run(batch_request(problem, cands, timeout, max_steps, per))
    got = parse_lines(trace.stdout or "", cands)
    if trace.status == "returned" and len(got) == len(cands):
        return [got[i] for i in range(len(cands))]
    if trace.status == "error" and trace.error is not None and \
            trace.error.kind in ("syntax_error", "load_error", "function_not_found",
                                 "bad_arguments", "arity", "sandbox_error", "cancelled"):
        if not got:
            return [Outcome(c, "bad", text=trace.error.message) for c in cands]
    if trace.status == "raised" and not got:      # the target's source itself failed
        return [Outcome(c, "bad", text="the target could not be evaluated") for c in cands]
    n = 0
    while n in got:
        n += 1
    out = [got[i] for i in range(n)]
    if n < len(cands):
        out.append(Outcome(cands[n], "hang", text=trace.error.kind if trace.error else "?"))
    return out


def sandbox_runner(sandbox) -> RunRequestFn:
    """An async run function over a tracecot Sandbox (CLI, benchmark): cancelling the
    awaiting task cancels the sandbox run."""
    async def run(req: RunRequest) -> Trace:
        fut = sandbox.submit(req)
        try:
            return await asyncio.wrap_future(fut)
        except asyncio.CancelledError:
            sandbox.cancel(fut)
            raise
    return run
