"""The input finder: candidates from every stage, run in sandboxed batches, answers proven.

Stages, in the order their candidates are tried:
- "model": inputs the local model proposes (only when a model is passed in);
- "known": inputs seen before (doctests, asserts, earlier runs) and their neighbours;
- "inverse": the target undone (reversed, sorted, joined, split, ...) as the first argument,
  the others from the building blocks of their inferred type;
- "typed": typed values from the building blocks (code constants, target pieces), all
  parameters together, simplest combinations first;
- "search": best-first mutation of the candidates whose outputs came closest to the target;
- "solver": Hypothesis, then CrossHair, in a locked-down process (solvers.py), when the
  budget is not spent.
Every candidate runs in the sandbox (batch.py); every answer is then shrunk (smaller
neighbours that still give the target) and proven by a single plain run with `expected`.
"""

from __future__ import annotations

import ast
import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tracecot.tracer.schema import RunRequest

from . import blocks as blk
from . import types as ty
from . import undo
from .hangs import HangCap, LoopValues
from .edits import diff_edits, edits, pieces_for, repairs
from .batch import Outcome, Problem, RunRequestFn, run_batch
from .mutate import (Found, candidates, closeness, format_args, hashable, parse_args,
                     parse_target)

Progress = Callable[[int, int, float], None]


@dataclass
class FindResult:
    found: list[Found] = field(default_factory=list)     # proven, simplest first
    tried: int = 0                   # candidates run
    runs: int = 0                    # sandbox runs (batches + proofs)
    elapsed: float = 0.0
    exhausted: bool = False          # every candidate was tried before the budget ran out
    cancelled: bool = False
    first_at: float | None = None
    lookalike: Found | None = None   # repr equal to the target's, `==` False
    closest: list[Found] = field(default_factory=list)   # when nothing was found
    arity: int = 0
    all_failed: str | None = None    # "hang" / "raised" when every candidate did that
    stages: dict[str, int] = field(default_factory=dict)   # candidates tried per stage


# --------------------------------------------------------------------------- candidates

def _pool(p: ty.Param, b: blk.Blocks, target, limit: int = 40) -> list:
    """Values for one parameter, its likeliest kinds first, simplest first within a kind."""
    kinds = [k for k in p.kinds if k in ty.KINDS][:3] or ["str", "int", "list"]
    for k in ("str", "int", "list", "dict"):
        if k not in kinds:
            kinds.append(k)
    per: list[list] = []
    for k in kinds:
        per.append(_values(k, p, b, target)[:limit])
    out, seen = [], set()
    # the best kind gets most of the room: its whole list, then the others interleaved
    for v in itertools.chain(per[0][:limit], *itertools.zip_longest(*per[1:])):
        key = repr(v)
        if v is not None or key == "None":
            if key not in seen and v is not _SKIP:
                seen.add(key)
                out.append(v)
    return out


_SKIP = object()


def _values(kind: str, p: ty.Param, b: blk.Blocks, target) -> list:
    elem = p.elem
    if kind == "str":
        return sorted(b.strs, key=len)[:12] + b.strs
    if kind == "int":
        return b.ints
    if kind == "float":
        return b.floats + [0.5, 1.0, 2.5]
    if kind == "bool":
        return [True, False]
    if kind == "none":
        return [None]
    if kind == "func":
        return blk.functions(b)
    if kind in ("list", "tuple", "set"):
        items: list[Any] | None = b.ints if elem == "int" else b.strs if elem == "str" else None
        vals: list = [[]]
        vals += b.lists
        if elem in ("list", "tuple"):     # a list of lists: of the target's pieces
            items = [[], *b.lists[:4], *[[x] for x in b.strs[:4]], b.strs[:3]]
        if items is None:
            items = [*b.ints[:6], *b.strs[:6]]
        vals += [[x] for x in items[:8]] + [list(items[:n]) for n in (2, 3, 4, 5)]
        if isinstance(target, (list, tuple)):
            vals += [list(target)]
        if kind == "tuple":
            return [tuple(v) for v in vals]
        if kind == "set":
            return [set(v) for v in vals if all(hashable(x) for x in v)]
        return vals
    if kind == "dict":
        vals = [{}] + b.dicts
        ks = b.strs[:6] if p.key != "int" else b.ints[:6]
        vs = b.ints[:6] if p.value != "str" else b.strs[:6]
        if p.value in ("list", "tuple"):      # values that are sequences: of the known lengths
            vs = [[0] * n for n in b.ints[:6] if 0 <= n <= 40] + b.lists[:3]
        vals += [{k: v} for k in ks[:4] for v in vs[:3]]
        vals += [dict(zip(ks, vs, strict=False))]
        return vals
    return []


def _diagonal(pools: list[list], limit: int):
    """Index combinations in order of their sum: the simplest combinations first."""
    n = len(pools)
    if n == 0:
        yield []
        return
    sizes = [len(p) for p in pools]
    if 0 in sizes:
        return
    count = 0
    for s in range(sum(sizes)):
        for combo in _compositions(s, sizes):
            yield [pools[i][j] for i, j in enumerate(combo)]
            count += 1
            if count >= limit:
                return


def _compositions(s: int, sizes: list[int]):
    if len(sizes) == 1:
        if s < sizes[0]:
            yield (s,)
        return
    for j in range(min(s, sizes[0] - 1) + 1):
        for rest in _compositions(s - j, sizes[1:]):
            yield (j,) + rest


_SAME = {"tuple": "list", "set": "list"}


def _fitting(values: list, p: ty.Param) -> list:
    """The values of a kind the parameter's use allows first (its two likeliest kinds),
    the others after, each group in its order: a guess of the wrong kind only raises."""
    def kind(v) -> str | None:
        k = ty.kind_of_value(v)
        return _SAME.get(k, k) if k else None
    likely = {_SAME.get(k, k) for k in p.kinds[:2]}
    if not likely:
        return values
    return [v for v in values if kind(v) in likely] + \
        [v for v in values if kind(v) not in likely]


def _unique(values) -> list:
    seen: set[str] = set()
    out = []
    for v in values:
        key = repr(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _interleave(*streams):
    """Items from (weight, iterator) streams in turn, `weight` at a time from each, until
    all run dry: a stage that is rarely right still gets tried early, a little."""
    live = [(w, iter(s)) for w, s in streams]
    while live:
        for w, it in list(live):
            for _ in range(w):
                try:
                    yield next(it)
                except StopIteration:
                    live.remove((w, it))
                    break


def stage_candidates(tree: ast.AST, func: str, target_src: str, known: list[str]):
    """(stage, args source) pairs, lazily, in the order they should be tried."""
    t = parse_target(target_src)
    known_vals = [p[0] for p in map(parse_args, known) if p is not None]
    params = ty.infer(tree, func, known_vals, target=t)
    arity = len(params)
    b = blk.blocks(tree, t)
    for k in known:
        yield "known", k
    pools = [_pool(p, b, t) for p in params]
    typed = (("typed", format_args(c, {})) for c in _diagonal(pools, 20_000))
    if arity == 0 or t is None:
        yield from typed
        return
    # one from each list in turn: the guesses from the target alone and those reading the code
    inv = _unique(x for pair in itertools.zip_longest(blk.inverses(t, b.code_strs),
                                                       undo.more(t, b), fillvalue=_SKIP)
                  for x in pair if x is not _SKIP)
    if arity in (2, 3) and isinstance(t, (list, tuple)):
        # the output is the input with one element inserted: (rest, index, element)
        seq = list(t)
        for j in range(min(len(seq), 12)):
            rest = seq[:j] + seq[j + 1:]
            shapes = ([[rest, j, seq[j]], [rest, seq[j], j]] if arity == 3
                      else [[rest, seq[j]], [rest, j]])
            for shape in shapes:
                yield "inverse", format_args(shape, {})
    for shape in undo.joint(t, arity):
        yield "inverse", format_args(shape, {})
    first = (("inverse", format_args(c, {}))
             for c in _diagonal([_fitting(inv, params[0])] + pools[1:], 4000))
    # the target's pieces in other positions too
    others = [(1, (("inverse", format_args(c, {}))
                   for c in _diagonal(pools[:i] + [_fitting(inv, params[i])[:8]]
                                      + pools[i + 1:], 300)))
              for i in range(1, arity)]
    yield from _interleave((6, first), *others, (2, typed))


# --------------------------------------------------------------------------- search

async def find(problem: Problem, run: RunRequestFn, budget: float = 2.0,
               known: list[str] | None = None, want: int = 3, max_runs: int = 10_000,
               progress: Progress | None = None, model=None, solvers: bool = True,
               linger: float = 0.3, batch: int = 120, parallel: int = 2,
               solver_after: float = 0.08, slow_after: float = 0.1) -> FindResult:
    """Inputs that make `problem.function` return `problem.target`, proven in the sandbox.

    Budget-bounded in seconds and in sandbox runs; cancelling the awaiting task cancels the
    runs in flight. `model` (optional) has `async predict_inputs(source, function, target)`.
    `slow_after`: CPU seconds one candidate may take in a batch before it counts as a hang."""
    start = time.monotonic()
    deadline = start + max(budget, 0.2)
    res = FindResult()
    known = list(known or [])
    try:
        tree = ast.parse(problem.source)
    except SyntaxError:
        res.elapsed = time.monotonic() - start
        return res
    t = parse_target(problem.target)
    params = ty.infer(tree, problem.function, target=t)
    res.arity = len(params)
    pieces = pieces_for(blk.blocks(tree, t))
    stage_of: dict[str, str] = {}
    hits: dict[str, Outcome] = {}
    frontier: list = []
    tie = itertools.count()
    kinds_seen = {"r": 0, "x": 0, "hang": 0, "bad": 0}
    cap = HangCap(slow_after)
    loops = LoopValues()
    best: list[tuple[float, str, str]] = []

    model_set: set[str] = set()
    if model is not None:
        proposals = await _model_candidates(model, problem, budget)
        model_set = set(proposals)
        known = proposals + known
    gen = stage_candidates(tree, problem.function, problem.target, known)

    def next_batch(n: int) -> list[str]:
        out: list[str] = loops.aside[:max(1, n // 10)]    # a tenth from what was put aside
        del loops.aside[:len(out)]

        def take(args: str, stage: str) -> None:
            stage_of[args] = stage
            if not loops.holds_looping(args):
                out.append(args)
        # from the mutation frontier once there is one: half, or three quarters once an
        # output came close to the target; the rest from the stages
        share = n * 3 // 4 if best and max(best)[0] > 0.75 else n // 2
        while frontier and len(out) < share:
            _, _, args = heapq.heappop(frontier)
            if args not in stage_of:
                take(args, "search")
        for stage, args in gen:
            if args in stage_of or len(args) > 2000:
                continue
            take(args, "model" if args in model_set else stage)
            if len(out) >= n:
                break
        while frontier and len(out) < n:
            _, _, args = heapq.heappop(frontier)
            if args not in stage_of:
                take(args, "search")
        return out

    def absorb(outs: list[Outcome]) -> None:
        loops.saw(outs)
        for o in outs:
            res.tried += 1
            kinds_seen[o.kind] = kinds_seen.get(o.kind, 0) + 1
            cap.saw(o)
            st = stage_of.get(o.args, "search")
            res.stages[st] = res.stages.get(st, 0) + 1
            if o.equal:
                hits.setdefault(o.args, o)
                continue
            if o.lookalike and res.lookalike is None:
                res.lookalike = Found(o.args, o.text, st)
            if o.kind == "r":
                score = closeness(o.text, problem.target)
                heapq.heappush(best, (score, o.args, o.text))
                if len(best) > 5:
                    heapq.heappop(best)
            elif o.kind == "x":
                score = 0.05
                for c in repairs(o.args, o.text):      # KeyError: the key it wanted
                    if c not in stage_of:
                        heapq.heappush(frontier, (-0.9, next(tie), c))
            else:
                continue
            if len(frontier) < 20_000:
                if o.kind == "r" and score > 0.5:
                    # the output's difference carried back into the input: tried first
                    for c in diff_edits(o.args, o.text, problem.target)[:60]:
                        if c not in stage_of:
                            heapq.heappush(frontier, (-score - 0.2, next(tie), c))
                for c in candidates(o.args, t)[:40] + edits(o.args, pieces, 16):
                    if c not in stage_of:
                        heapq.heappush(frontier, (-score, next(tie), c))

    # with a per-candidate CPU cap the batch's step cap only has to stop what that misses
    steps = 2_000_000 if slow_after else 400_000
    pending: dict[asyncio.Future[Any], list[str]] = {}   # batch task -> its candidates
    solver_task: asyncio.Future | None = None
    leftover: list[str] = []
    size = max(8, batch // 3)      # the first batch small: an answer is often among them
    try:
        while time.monotonic() < deadline and res.runs < max_runs:
            if (hits or res.lookalike) and res.first_at is None:
                res.first_at = time.monotonic()
                deadline = min(deadline, res.first_at + linger)
            if len(hits) >= want:
                break
            while len(pending) < parallel and res.runs < max_runs:
                cands = leftover[:size] or next_batch(size)
                leftover = leftover[len(cands):] if leftover else leftover
                if not cands:
                    break
                left = deadline - time.monotonic()
                task = asyncio.ensure_future(run_batch(run, problem, cands,
                                                       timeout=max(0.2, min(1.0, left)),
                                                       per=cap.per(),
                                                       max_steps=steps))
                pending[task] = cands
                res.runs += 1
                # where many candidates loop, smaller batches: what they teach comes back sooner
                size = batch if kinds_seen["hang"] * 10 <= res.tried else max(8, batch // 4)
            now = time.monotonic()
            if solver_task is None and solvers and not hits and params and \
                    now - start > solver_after * budget and deadline - now > 0.5:
                from .solvers import solve
                solver_task = asyncio.ensure_future(solve(problem, params, deadline - now - 0.25))
            if not pending and (solver_task is None or solver_task.done()):
                res.exhausted = solver_task is None or not solvers
                break
            waiting = set(pending) | ({solver_task} if solver_task is not None
                                      and not solver_task.done() else set())
            done, _ = await asyncio.wait(waiting, timeout=max(0.01, deadline - time.monotonic()),
                                         return_when=asyncio.FIRST_COMPLETED)
            if solver_task is not None and solver_task in done:
                done.discard(solver_task)
                proposals = [] if solver_task.exception() else solver_task.result()
                for a in proposals:
                    stage_of.setdefault(a, "solver")
                leftover = proposals + leftover
            for finished in done:
                cands = pending.pop(finished)
                try:
                    outs = finished.result()
                except Exception:  # noqa: BLE001 - a failed batch: its candidates are dropped
                    continue
                absorb(outs)
                leftover = cands[len(outs):] + leftover
            if progress is not None:
                progress(res.tried, len(hits), time.monotonic() - start)
        for unfinished in pending:
            unfinished.cancel()
        pending.clear()
        if solver_task is not None:
            solver_task.cancel()
            await asyncio.gather(solver_task, return_exceptions=True)
        if hits:
            shrunk = await _shrink(run, problem, list(hits), stage_of, res,
                                   start + max(budget, 0.2) + 1.0)
            res.found = await _prove(run, problem, shrunk, stage_of, res, want)
        if res.found:
            res.first_at = res.first_at or time.monotonic()
        else:
            res.closest = [Found(a, txt, stage_of.get(a, "search"))
                           for _, a, txt in sorted(best, reverse=True)[:3]]
            r = kinds_seen
            if res.tried and r["r"] == 0:
                failed = r["x"] + r["bad"]
                res.all_failed = ("hang" if not failed else "raised" if not r["hang"]
                                  else "failed")
    except asyncio.CancelledError:
        res.cancelled = True
        for unfinished in pending:
            unfinished.cancel()
        if solver_task is not None:
            solver_task.cancel()
        raise
    finally:
        res.elapsed = time.monotonic() - start
    return res


def _size(args: str) -> tuple:
    return (len(args), args)


async def _shrink(run: RunRequestFn, problem: Problem, hits: list[str], stage_of: dict,
                  res: FindResult, until: float) -> list[str]:
    """Smaller neighbours that still give the target, a few rounds (simplest answers)."""
    have = sorted(set(hits), key=_size)[:6]
    t = parse_target(problem.target)
    for _ in range(3):
        if time.monotonic() > until:
            break
        cands = []
        for a in have[:3]:
            for c in candidates(a, t):
                if _size(c) < _size(a) and c not in stage_of:
                    stage_of[c] = stage_of.get(a, "search")
                    cands.append(c)
        if not cands:
            break
        outs = await run_batch(run, problem, cands[:300], timeout=0.5)
        res.runs += 1
        res.tried += len(outs)
        new = [o.args for o in outs if o.equal]
        if not new:
            break
        have = sorted(set(have) | set(new), key=_size)[:6]
    return have


async def _prove(run: RunRequestFn, problem: Problem, args_list: list[str], stage_of: dict,
                 res: FindResult, want: int) -> list[Found]:
    """Each answer proven by its own plain sandbox run, compared with `expected`."""
    from tracecot.tracer.values import render
    callee = problem.callee

    async def one(args: str):
        if callee:
            # a method on an instance: the batch's call prefix, run as a single call
            return await run_batch(run, problem, [args], timeout=1.0)
        req = RunRequest(function=problem.function, args=args, source=problem.source,
                         path=problem.path, expected=problem.target, timeout=1.0,
                         max_events=64)
        return await run(req)
    traces = await asyncio.gather(*(one(a) for a in args_list[:want]))
    res.runs += len(traces)
    out = []
    for a, tr in zip(args_list, traces, strict=False):   # traces: of the first `want`
        if isinstance(tr, list):
            if tr and tr[0].equal:
                out.append(Found(a, tr[0].text, stage_of.get(a, "search")))
        elif tr.status == "returned" and tr.comparison is not None and \
                tr.comparison.python_equal:
            out.append(Found(a, render(tr.result), stage_of.get(a, "search")))
    return out


async def _model_candidates(model, problem: Problem, budget: float) -> list[str]:
    """The model's proposals (run like any other candidate; never taken on its word)."""
    try:
        preds = await asyncio.wait_for(
            model.predict_inputs(problem.source, problem.function, problem.target),
            timeout=max(0.5, budget / 3))
    except Exception:  # noqa: BLE001 - no model answer: the other stages go on
        return []
    out = []
    for p in preds or []:
        a = p.get("prediction") if isinstance(p, dict) else p
        if isinstance(a, str) and parse_args(a) is not None:
            out.append(a)
    return out
