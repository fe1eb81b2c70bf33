"""Candidates that loop forever: what they may cost, and which values to put aside.

On many functions some argument values make every call loop (`while old in text` with
`old = ''`). Each such candidate costs the CPU time it is allowed before it is stopped, so
`HangCap` keeps that allowance as small as the calls seen allow, and `LoopValues` puts aside
the candidates holding a value that, in that position, only ever looped.
"""

from __future__ import annotations

from collections import Counter

from .batch import Outcome
from .mutate import parse_args


class HangCap:
    """CPU seconds a candidate may take before it counts as a hang. Once many candidates
    have finished: a few dozen times the slowest of them, at least 10 ms (the CPU timer's
    grain), at most `slow_after`; where calls take microseconds, a candidate that loops
    forever then costs 10 ms instead of 100, and many more candidates fit. Before that: a
    tenth of `slow_after`, or all of it once twice that many were stopped (slow calls)."""

    def __init__(self, slow_after: float, after: int = 5, factor: float = 25.0):
        self.limit, self.after, self.factor = slow_after, after, factor
        self.done = self.stopped = 0
        self.slowest = 0.0

    def saw(self, o: Outcome) -> None:
        if o.kind in ("r", "x"):
            self.done += 1
            if o.text != "MemoryError":    # a value grown without end: no measure of a call
                self.slowest = max(self.slowest, o.cpu)
        elif o.kind == "hang":
            self.stopped += 1

    def per(self) -> float:
        if not self.limit:
            return self.limit
        if self.done >= self.after:
            return min(self.limit, max(0.01, self.factor * self.slowest))
        return self.limit if self.stopped >= 2 * self.after else self.limit / 10


class LoopValues:
    """(position, value) pairs that stopped `after` calls and finished none. Watched from
    the first batch in which a candidate looped (parsing every candidate costs the search
    time, and most functions never loop). A candidate holding one is put aside, not
    dropped: `aside` is tried a tenth of the time, and a call with it that finishes clears
    it."""

    def __init__(self, after: int = 3):
        self.after = after
        self.watching = False
        self.stopped: Counter = Counter()
        self.finished: Counter = Counter()
        self.aside: list[str] = []

    @staticmethod
    def _keys(args: str) -> list[tuple[int, str]]:
        parsed = parse_args(args)
        return [] if parsed is None else [(i, repr(v)) for i, v in enumerate(parsed[0])]

    def saw(self, outs: list[Outcome]) -> None:
        """One batch's outcomes."""
        self.watching = self.watching or any(o.kind == "hang" for o in outs)
        if not self.watching:
            return
        for o in outs:
            if o.kind in ("r", "x", "hang"):
                (self.stopped if o.kind == "hang" else self.finished).update(self._keys(o.args))

    def holds_looping(self, args: str) -> bool:
        """Whether `args` holds a value that only looped (then it is kept in `aside`)."""
        if not self.watching:
            return False
        bad = any(self.stopped[k] >= self.after and not self.finished[k]
                  for k in self._keys(args))
        if bad:
            self.aside.append(args)
        return bad
