"""Mutation search (the first finder; its value helpers serve the new stages too).

Model-free: start from the inputs we know (doctests, asserts, tests, earlier runs) and values
derived from the target, then mutate them (integers up and down, list elements removed,
added, changed, reordered, string characters edited, ...). Each candidate is run in the
sandbox with `expected=target`; only a run whose result `==` the target (as an assert would
check it) counts. Candidates whose results look closer to the target are tried first.

The mutation helpers are pure; `search` is async and takes the run function as a parameter.
"""

from __future__ import annotations

import ast
import asyncio
import difflib
import heapq
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from tracecot.tracer.values import render

MAX_LITERAL = 2_000           # characters of an argument list we still mutate
_FILLERS = [0, 1, -1, 2, 3, 10, "", "a", "ab", "abc", [], [1], [1, 2, 3], [3, 1, 2], True,
            False, None, {}, (), {"a": 1}, 0.5]


@dataclass
class Found:
    args: str
    result: str
    stage: str = "search"         # how it was found: known, inverse, typed, search, solver, model


@dataclass
class SearchResult:
    found: list[Found] = field(default_factory=list)
    tried: int = 0
    elapsed: float = 0.0
    exhausted: bool = False       # no candidate left before the budget ran out
    cancelled: bool = False
    first_at: float | None = None
    # A result that looks like the target (equal under the canonical encoder) for which `==`
    # is still False: instances of a class without __eq__ compare by identity.
    lookalike: Found | None = None


# --------------------------------------------------------------------------- values


def parse_args(args_src: str) -> tuple[list, dict] | None:
    """`[1, 2], 'a', k=3` -> ([[1, 2], 'a'], {'k': 3}) when every argument is a literal."""
    if len(args_src) > MAX_LITERAL:
        return None
    try:
        call = ast.parse(f"f({args_src})", mode="eval").body
        if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        pos = [ast.literal_eval(a) for a in call.args]
        kw = {}
        for k in call.keywords:
            if k.arg is None:
                return None
            kw[k.arg] = ast.literal_eval(k.value)
        return pos, kw
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def format_args(pos: list, kw: dict) -> str:
    return ", ".join([_src(v) for v in pos] + [f"{k}={_src(v)}" for k, v in kw.items()])


def _src(v) -> str:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return f"float('{v}')"
    if isinstance(v, set) and not v:
        return "set()"
    return repr(v)


def parse_target(target: str):
    try:
        return ast.literal_eval(target.strip())
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def hashable(v) -> bool:
    """Whether v can be a dict key or set member (candidate values may hold lists)."""
    try:
        hash(v)
        return True
    except TypeError:
        return False


def neighbours(v, target=None, limit: int = 8) -> list:
    """Values one small edit away from `v` (target: the wanted output, for hints)."""
    out: list = []
    if isinstance(v, bool):
        out.append(not v)
    elif isinstance(v, int):
        out += [v + 1, v - 1, v + 2, v - 2, v * 2, v // 2, -v, 0, v + 10, v - 10]
        if isinstance(target, int) and not isinstance(target, bool):
            out += [target, target + 1, target - 1, v + (target - v) // 2]
    elif isinstance(v, float):
        out += [v + 1, v - 1, v * 2, v / 2, -v, 0.0, float(round(v))]
        if isinstance(target, (int, float)) and not isinstance(target, bool):
            out += [float(target)]
    elif isinstance(v, str):
        n = min(len(v), limit)
        out += [v[:i] + v[i + 1:] for i in range(n)]
        out += [v[:i] + v[i] + v[i:] for i in range(min(n, 3))]
        out += [v[:i] + v[i + 1] + v[i] + v[i + 2:] for i in range(min(len(v) - 1, 4))]
        out += [v[::-1], v.upper(), v.lower(), v.swapcase(), v + "a", "a" + v, v + " ", ""]
        if isinstance(target, str):
            out += [target, target[::-1], v + target, target + v]
            out += [v + ch for ch in dict.fromkeys(target[:4])]
            out += [v.replace(c, "", 1) for c in set(v) - set(target)][:4]
        if v:
            out += [v[:i] + "x" + v[i + 1:] for i in range(min(n, 3))]
    elif isinstance(v, (list, tuple)):
        seq = list(v)
        n = min(len(seq), limit)
        cands = [seq[:i] + seq[i + 1:] for i in range(n)]
        cands += [seq[:i] + [seq[i]] + seq[i:] for i in range(min(n, 3))]
        cands += [seq[:i] + [seq[i + 1], seq[i]] + seq[i + 2:] for i in range(min(len(seq) - 1, 4))]
        cands += [seq[::-1], seq + (seq[-1:] or [0]), [], sorted_or(seq)]
        for i in range(min(n, 4)):
            for w in neighbours(seq[i], None, 4)[:4]:
                cands.append(seq[:i] + [w] + seq[i + 1:])
        if isinstance(target, (list, tuple)):
            t = list(target)
            cands += [t, t[::-1], sorted_or(t), seq + t[-1:]]
            if t and not isinstance(t[0], (list, tuple, dict)):
                cands += [seq + [t[0]], [t[0]] + seq]
        out += [tuple(c) if isinstance(v, tuple) else c for c in cands]
    elif isinstance(v, dict):
        keys = list(v)[:limit]
        out += [{k: x for k, x in v.items() if k != key} for key in keys]
        for key in keys[:4]:
            for w in neighbours(v[key], None, 4)[:3]:
                out.append({**v, key: w})
        if isinstance(target, dict):
            out.append(dict(target))
    elif isinstance(v, (set, frozenset)):
        items = list(v)[:limit]
        out += [type(v)(x for x in v if x != it) for it in items]
        out += [type(v)()]
    elif v is None:
        out += [0, "", []]
    return out


def sorted_or(seq: list) -> list:
    try:
        return sorted(seq)
    except TypeError:
        return list(seq)


def candidates(args_src: str, target=None, limit: int = 8) -> list[str]:
    """Argument lists one edit away from `args_src` (each argument in turn)."""
    parsed = parse_args(args_src)
    if parsed is None:
        return []
    pos, kw = parsed
    out = []
    for i, v in enumerate(pos):
        for w in neighbours(v, target, limit):
            out.append(format_args(pos[:i] + [w] + pos[i + 1:], kw))
    for k, v in kw.items():
        for w in neighbours(v, target, limit):
            out.append(format_args(pos, {**kw, k: w}))
    return list(dict.fromkeys(c for c in out if len(c) <= MAX_LITERAL))


def seeds(known: list[str], target: str, arity: int) -> list[str]:
    """Where the search starts: known inputs, the target itself and nearby values, and a few
    typical values when nothing is known."""
    t = parse_target(target)
    out = list(known)
    if arity >= 1 and t is not None:
        shapes = [t]
        if isinstance(t, (list, tuple)):
            shapes += [list(t)[::-1], sorted_or(list(t)), list(t)[:-1]]
        if isinstance(t, str):
            shapes += [t[::-1], t.upper(), t.lower(), t + t]
        if isinstance(t, int) and not isinstance(t, bool):
            shapes += [t - 1, t + 1, t // 2, t * 2, str(t), [t]]
        if isinstance(t, bool):
            shapes += [0, 1, "", "a", [], [1]]
        for s in shapes:
            rest = [_filler_like(s)] * (arity - 1)
            out.append(format_args([s] + rest, {}))
    if arity == 0:
        out.append("")
    for combo in itertools.islice(itertools.product(_FILLERS[:8], repeat=max(arity, 1)), 40):
        out.append(format_args(list(combo[:arity]) if arity else [], {}))
    return list(dict.fromkeys(out))


def _filler_like(v):
    return 1 if isinstance(v, (int, float)) else "a" if isinstance(v, str) else 1


def closeness(result_text: str, target_text: str) -> float:
    """0..1: how much a result looks like the target (guides the search only)."""
    if not result_text:
        return 0.0
    a, b = result_text[:300], target_text.strip()[:300]
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return 1.1 - min(1.0, math.log10(1 + abs(x - y)) / 8)
    score = difflib.SequenceMatcher(None, a, b).ratio()
    if a[:1] == b[:1]:
        score += 0.1          # same kind of value: list, str, number
    return score


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except (ValueError, OverflowError):
        return None
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------- search

RunFn = Callable[[str], Awaitable]       # args source -> Trace (run with expected=target)


async def search(run: RunFn, known: list[str], target: str, arity: int, budget: float,
                 want: int = 3, parallel: int = 4,
                 progress: Callable[[int, int, float], None] | None = None,
                 linger: float = 1.0) -> SearchResult:
    """Best-first search over argument lists; stops after `want` proven inputs, `linger`
    seconds after the first one, when nothing is left to try, or after `budget` seconds
    (runs still going are cancelled)."""
    start = time.monotonic()
    deadline = start + max(budget, 0.1)
    res = SearchResult()
    t = parse_target(target)
    tie = itertools.count()
    frontier: list = []
    seen: set[str] = set()

    def push(score: float, args: str) -> None:
        if args not in seen and len(frontier) < 20_000:
            seen.add(args)
            heapq.heappush(frontier, (-score, next(tie), args))

    for i, s in enumerate(seeds(known, target, arity)):
        push(2.0 - i * 1e-3, s)
    pending: dict[asyncio.Task, str] = {}
    try:
        while (frontier or pending) and len(res.found) < want:
            while frontier and len(pending) < parallel:
                _, _, args = heapq.heappop(frontier)
                pending[asyncio.ensure_future(run(args))] = args
            if (res.found or res.lookalike) and res.first_at is None:
                res.first_at = time.monotonic()
                deadline = min(deadline, res.first_at + linger)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done, _ = await asyncio.wait(pending, timeout=left,
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                args = pending.pop(task)
                res.tried += 1
                try:
                    trace = task.result()
                except Exception:  # noqa: BLE001 - a failed run is just a bad candidate
                    continue
                cmp = trace.comparison
                if trace.status == "returned" and cmp is not None and cmp.python_equal:
                    res.found.append(Found(args, render(trace.result)))
                    continue
                if trace.status == "returned" and cmp is not None and cmp.canonical_equal \
                        and res.lookalike is None:
                    res.lookalike = Found(args, render(trace.result))
                if trace.status == "returned":
                    score = closeness(render(trace.result), target)
                elif trace.status == "raised":
                    score = 0.05
                else:
                    continue      # timeouts, bad arguments: do not explore further
                for c in candidates(args, t):
                    push(score, c)
            if progress is not None:
                progress(res.tried, len(res.found), time.monotonic() - start)
        res.exhausted = not frontier and not pending
    except asyncio.CancelledError:
        res.cancelled = True
        raise
    finally:
        for task in pending:
            task.cancel()
        res.elapsed = time.monotonic() - start
    return res
