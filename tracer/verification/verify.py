"""The verifier: every claim of a narrative checked against a fresh run.

    verification = verify(narrative)                 # re-runs narrative.request in the sandbox
    verification.verified                            # True only if every claim is "ok"
    for v in verification.verdicts: print(v)      # ok / wrong (the true value) / unverifiable

A claim matches a fact of the fresh trace with the same kind, line and variable; the fact at
the claim's own event index when there is one, else the nearest one at or after the last
matched fact (so an event shifted by a few positions is still found). Values are compared on
their canonical encodings. Free-form text (what a language model writes) is checked by
`verify_text`, in verify_text.py.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from ..narration.analysis import Analysis, LoopRun, analyse, args_value, event_value
from ..narration.narrative import Claim, Narrative, TraceSummary
from ..schema import (BIND, CALL, CAUGHT, LINE, MUTATE, OUTPUT, OUTPUT_CUT_MARK, PROPAGATE, RAISE,
                     RETURN, YIELD, RunRequest, Trace)
from ..narration.source_lines import branch_parts
from ..values import canonical_key, encode, render
from .verdicts import ClaimVerdict

__all__ = ["ClaimVerdict", "Verification", "verify", "verify_many", "Facts"]


@dataclass
class Verification:
    verified: bool
    verdicts: list[ClaimVerdict] = field(default_factory=list)
    fresh: TraceSummary | None = None
    error: str | None = None           # why nothing could be checked

    @property
    def wrong(self) -> list[ClaimVerdict]:
        return [v for v in self.verdicts if v.verdict == "wrong"]

    def summary(self) -> str:
        n = len(self.verdicts)
        ok = sum(v.ok for v in self.verdicts)
        head = "verified" if self.verified else "NOT verified"
        extra = f": {self.error}" if self.error else ""
        return f"{head}: {ok}/{n} claims hold in a fresh run{extra}"


def _same(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return canonical_key(a) == canonical_key(b)


class Facts:
    """Everything a narrative may claim about a trace, indexed for matching."""

    def __init__(self, trace: Trace, request: RunRequest | None = None):
        self.trace = trace
        self.a: Analysis = analyse(trace, request)
        self.by_key: dict[tuple, tuple[list[int], list[dict | None]]] = {}
        self.at_line: dict[int, list[int]] = {}
        frames = self.a.frames
        for i, e in enumerate(trace.events):
            k = e.kind
            if k == LINE:
                self.at_line.setdefault(e.line, []).append(i)
            elif k == CALL:
                self.at_line.setdefault(e.line, []).append(i)
                if not e.resumed:
                    f = frames.get(e.frame)
                    self._add("calls", e.line, f.function if f else e.name, i,
                              args_value(e.args))
            elif k == BIND:
                self._add("binds", e.line, e.name, i, event_value(e))
            elif k == MUTATE:
                self._add("mutates", e.line, e.name, i, event_value(e))
                for alias in e.aliases or []:      # the same object under its other names
                    self._add("mutates", e.line, alias, i, event_value(e))
            elif k in (RETURN, YIELD):
                f = frames.get(e.frame)
                self._add("returns" if k == RETURN else "yields", e.line,
                          f.function if f else None, i, event_value(e))
            elif k == RAISE:
                self._add("raises", e.line, e.name, i, encode(e.text or ""))
            elif k == CAUGHT:
                self._add("caught", e.line, e.name, i, None)
            elif k == PROPAGATE:
                self._add("propagates", e.line, e.name, i, None)
            elif k == OUTPUT:
                self._add("prints", e.line, e.stream or "stdout", i, encode(e.text or ""))
        for call in self.a.calls:
            self._walk(self.a.structure(call))
        for units in self.a.frame_units.values():
            for u in units:
                b = self.a.branch(u)
                if b is not None:
                    cond = branch_parts(trace.lines.get(u.line))[1]
                    self._add("branch", u.line, cond, u.start, encode(b))
        for idx, vals in self.by_key.values():
            if any(idx[j] > idx[j + 1] for j in range(len(idx) - 1)):
                order = sorted(range(len(idx)), key=idx.__getitem__)
                idx[:] = [idx[j] for j in order]
                vals[:] = [vals[j] for j in order]

    def _add(self, kind, line, variable, index, value) -> None:
        idx, vals = self.by_key.setdefault((kind, line, variable), ([], []))
        idx.append(index)
        vals.append(value)

    def _walk(self, nodes: list) -> None:
        for n in nodes:
            if isinstance(n, LoopRun):
                if n.complete:
                    self._add("loop_count", n.line, None, n.first_event, encode(n.count))
                for body in n.iterations:
                    self._walk(body)

    # -- matching
    @staticmethod
    def _pick(idx: list[int], want: int | None, cursor: int, offset: int = 0) -> int | None:
        """Position in `idx` of the fact for a claim made at event `want`.

        The fact at that very event, else at that event moved by `offset` (how far the last
        matched claim had moved), else the nearest one to it at or after `cursor`."""
        if not idx:
            return None
        if want is not None:
            for target in (want, want + offset) if offset else (want,):
                k = bisect.bisect_left(idx, target)
                if k < len(idx) and idx[k] == target:
                    return k
        start = bisect.bisect_left(idx, cursor)
        pool = range(start, len(idx)) if start < len(idx) else range(len(idx))
        if want is None:
            return pool[0]
        return min(pool, key=lambda j: (abs(idx[j] - want - offset), j))

    def check(self, claim: Claim, cursor: int = 0, offset: int = 0
              ) -> tuple[str, dict | None, str, int | None]:
        """(verdict, true value, note, matched event index)."""
        t = self.trace
        kind = claim.kind
        if kind == "result":
            if t.status != "returned":
                return "wrong", None, f"the fresh run {_outcome(t)}", None
            ok = _same(claim.value, t.result)
            return ("ok" if ok else "wrong"), t.result, "", None
        if kind == "exception":
            if t.status != "raised" or t.exception is None:
                return "wrong", t.result, f"the fresh run {_outcome(t)}", None
            ok = t.exception.type == claim.variable and \
                _same(claim.value, encode(t.exception.message))
            return ("ok" if ok else "wrong"), encode(f"{t.exception.type}: "
                                                     f"{t.exception.message}"), "", None
        if kind == "error":
            if t.status != "error" or t.error is None:
                return "wrong", None, f"the fresh run {_outcome(t)}", None
            return ("ok" if t.error.kind == claim.variable else "wrong"), \
                encode(t.error.kind), "", None
        line = claim.line if claim.line is not None else -1    # -1: no line, nothing there
        if kind == "line_count":        # the whole run's, kept outside the event budget
            got = encode(t.line_counts.get(line, 0))
            return ("ok" if _same(claim.value, got) else "wrong"), got, "", None
        if kind == "runs":
            idx = self.at_line.get(line, [])
            k = self._pick(idx, claim.event_index, cursor, offset)
            return ("ok", None, "", idx[k]) if k is not None else self._missing(claim)
        if kind == "value":
            idx = self.at_line.get(line, [])
            k = self._pick(idx, claim.event_index, cursor, offset)
            if k is None:
                return self._missing(claim)
            at = idx[k]
            found = self.a.value_at(t.events[at].frame, claim.variable or "", at)
            if found is None:
                return self._missing(claim)
            return ("ok" if _same(claim.value, found[1]) else "wrong"), found[1], "", at
        idx, vals = self.by_key.get((kind, claim.line, claim.variable), ([], []))
        k = self._pick(idx, claim.event_index, cursor, offset)
        if k is None:
            return self._missing(claim)
        if kind in ("caught", "propagates"):
            return "ok", None, "", idx[k]
        if kind == "prints" and idx[k] == self.a.cut_print:
            return "unverifiable", None, "the output cap cut this print short", idx[k]
        ok = _same(claim.value, vals[k])
        return ("ok" if ok else "wrong"), vals[k], "", idx[k]

    def _missing(self, claim: Claim) -> tuple[str, dict | None, str, int | None]:
        t = self.trace
        if t.truncated or t.status == "error":
            return "unverifiable", None, "not in the fresh trace, which stops early", None
        if claim.kind == "prints" and t.stdout.endswith(OUTPUT_CUT_MARK):
            return "unverifiable", None, "printed output past the output cap is not kept", None
        return "wrong", None, "this never happens in the fresh run", None


def _outcome(t: Trace) -> str:
    if t.status == "returned":
        return f"returns {render(t.result) if t.result is not None else 'None'}"
    if t.status == "raised" and t.exception is not None:
        return f"raises {t.exception.type}"
    return f"fails: {t.error.message if t.error else 'error'}"


def _step_of(narrative: Narrative) -> list[int | None]:
    out: list[int | None] = []
    for s in narrative.steps:
        out.extend([s.index] * len(s.claims))
    out.extend([None] * len(narrative.conclusion_claims))
    return out


def check_against(narrative: Narrative, fresh: Trace, facts: Facts | None = None
                  ) -> Verification:
    """Check every claim of `narrative` against the trace `fresh` (no run).

    `facts`: `Facts(fresh, narrative.request)` already built (e.g. for the forward narrative
    of the same run), to check another narrative without indexing the trace again."""
    claims = narrative.claims
    steps = _step_of(narrative)
    if fresh.status == "error" and narrative.trace.status != "error":
        msg = f"the fresh run failed: {fresh.error.message if fresh.error else 'error'}"
        return Verification(False, [ClaimVerdict(c, "unverifiable", None, msg, s)
                                    for c, s in zip(claims, steps, strict=True)],
                            TraceSummary.of(fresh), msg)
    if facts is None or facts.trace is not fresh:
        facts = Facts(fresh, narrative.request)
    verdicts = []
    cursor = offset = 0
    for c, s in zip(claims, steps, strict=True):
        verdict, actual, note, at = facts.check(c, cursor, offset)
        if at is not None:
            cursor = max(cursor, at)
            if c.event_index is not None and verdict == "ok":
                offset = at - c.event_index
        verdicts.append(ClaimVerdict(c, verdict, actual if verdict != "ok" else None, note, s))
    ok = bool(verdicts) and all(v.verdict == "ok" for v in verdicts)
    return Verification(ok, verdicts, TraceSummary.of(fresh))


def _unverifiable(narrative: Narrative, why: str) -> Verification:
    return Verification(False, [ClaimVerdict(c, "unverifiable", None, why, s) for c, s in
                                zip(narrative.claims, _step_of(narrative), strict=True)], None, why)


def verify(narrative: Narrative, sandbox=None, *, fresh: Trace | None = None) -> Verification:
    """Re-run `narrative.request` in the sandbox and check every claim against that run.

    `fresh`: a trace of a fresh run already made (e.g. by `Sandbox.run_many`); no run then.
    """
    if fresh is None:
        request = narrative.request
        if request is None:
            return _unverifiable(narrative, "no request to re-run (trace without a path)")
        if sandbox is None:
            from ..running.sandbox import default_sandbox
            sandbox = default_sandbox()
        fresh = sandbox.run(fresh_request(request))
    return check_against(narrative, fresh)


def fresh_request(request: RunRequest) -> RunRequest:
    """The request of the verifying run: a larger event budget, so that the fresh record does
    not stop where the narrated one did (a claim read from where that record stops meets the
    events that followed). Output and the other caps are the same: the run is the same run."""
    return replace(request, max_events=2 * request.max_events + 1000)


def verify_many(narratives: list[Narrative], sandbox=None) -> list[Verification]:
    """Verify many narratives with one batch of fresh runs (one run per distinct request)."""
    if sandbox is None:
        from ..running.sandbox import default_sandbox
        sandbox = default_sandbox()
    keys: dict[int, int] = {}
    requests: list[RunRequest] = []
    for n in narratives:
        if n.request is not None and id(n.request) not in keys:
            keys[id(n.request)] = len(requests)
            requests.append(n.request)
    traces = sandbox.run_many([fresh_request(r) for r in requests]) if requests else []
    facts: dict[int, Facts] = {}          # one index of each fresh run, for all its narratives
    out = []
    for n in narratives:
        if n.request is None:
            out.append(_unverifiable(n, "no request to re-run (trace without a path)"))
            continue
        k = keys[id(n.request)]
        if k not in facts and traces[k].status != "error":
            facts[k] = Facts(traces[k], n.request)
        out.append(check_against(n, traces[k], facts.get(k)))
    return out


def __getattr__(name):
    # Free-text checking lives in verify_text.py; importable from here too.
    if name in ("verify_text", "TextVerification", "SentenceVerdict"):
        from . import verify_text as vt
        return getattr(vt, name)
    raise AttributeError(name)
