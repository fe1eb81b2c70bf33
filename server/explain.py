"""The one place that talks to the tracer's narrator and verifier.

    explain(trace, request, sandbox) -> Explanation      (blocking: call it in a thread)

API used: `tracecot.tracer.narration.narrate.narrate(trace, request) -> Narrative` (`.steps`: Step with
index, depth, line, text, claims), `to_markdown(narrative, verdicts)` and
`tracecot.tracer.verification.verify.verify(narrative, sandbox=...) -> Verification` (`.verified`,
`.verdicts`). When they cannot be imported, a plain summary of the trace is shown instead,
marked unchecked (nothing claims to be verified that was not).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tracecot.tracer.schema import BIND, LOOP, MUTATE, RAISE, RETURN, RunRequest, Trace
from tracecot.tracer.values import render

from .present import StepLine, md_code, mark, outcome, short

log = logging.getLogger(__name__)


@dataclass
class Explanation:
    steps: list[StepLine]
    markdown: str
    verified: bool | None          # None: nothing could be checked
    checked: int = 0
    wrong: int = 0
    narrator: str = "tracer"
    notes: list[str] = field(default_factory=list)


_mods: dict[str, object] = {}
_import_error: str | None = None


def _narrator():
    """(narrate module, verify module) or None; retried until it works (they may be
    installed while the server runs)."""
    global _import_error
    if "narrate" in _mods:
        return _mods["narrate"], _mods["verify"]
    try:
        from tracecot.tracer.narration import narrate as n
        from tracecot.tracer.verification import verify as v
    except Exception as e:  # noqa: BLE001 - a broken narrator must not break hovers
        _import_error = f"{type(e).__name__}: {e}"
        return None
    _mods["narrate"], _mods["verify"] = n, v
    return n, v


def narrator_available() -> bool:
    return _narrator() is not None


def narrate_trace(trace: Trace, request: RunRequest, backward: bool = False):
    """The narrative of a finished run, or an Explanation (summary) when there is none.
    Pure CPU: call it in a thread."""
    mods = _narrator()
    if mods is None or not trace.ok:
        return summary(trace, reason=None if trace.ok else "the run did not complete")
    n, _ = mods
    try:
        return getattr(n, "narrate_backward" if backward else "narrate")(trace, request)
    except Exception as e:  # noqa: BLE001
        log.exception("narrator failed")
        return summary(trace, reason=f"the narrator failed ({type(e).__name__}: {e})")


def check(narrative, fresh: Trace | None) -> Explanation:
    """Every claim of `narrative` checked against `fresh`, a new run of the same request
    (None: not checked). Pure CPU: call it in a thread."""
    if isinstance(narrative, Explanation):
        return narrative
    n, v = _narrator()
    verification, note = None, None
    if fresh is not None:
        try:
            verification = v.verify(narrative, fresh=fresh)
        except Exception as e:  # noqa: BLE001
            log.exception("verifier failed")
            note = f"the verifier failed ({type(e).__name__}: {e})"
    steps = _steps(narrative, verification)
    try:
        markdown = n.to_markdown(narrative, verification)
    except Exception:  # noqa: BLE001
        markdown = steps_markdown(steps)
    verdicts = list(getattr(verification, "verdicts", []) or [])
    wrong = sum(_verdict_status(x) == "wrong" for x in verdicts)
    verified = None if verification is None else bool(getattr(verification, "verified", False))
    ex = Explanation(steps=steps, markdown=markdown, verified=verified, checked=len(verdicts),
                     wrong=wrong, narrator="tracer")
    if note:
        ex.notes.append(note)
    elif getattr(verification, "error", None):
        ex.notes.append(str(verification.error))
    return ex


def explain(trace: Trace, request: RunRequest, sandbox=None, backward: bool = False) -> Explanation:
    """Blocking version (narrate, re-run in `sandbox`, check), for scripts and tests."""
    narrative = narrate_trace(trace, request, backward)
    if isinstance(narrative, Explanation):
        return narrative
    fresh = sandbox.run(request) if sandbox is not None else None
    return check(narrative, fresh)


def _verdict_status(v) -> str:
    get = v.get if isinstance(v, dict) else (lambda k, d=None: getattr(v, k, d))
    s = get("verdict") or get("status")
    if s is None:
        ok = get("ok")
        s = "ok" if ok is True else "wrong" if ok is False else "unchecked"
    return str(s)


def _steps(narrative, verification) -> list[StepLine]:
    """Narrative steps with a per-step mark: ✓ when all of its claims were checked ok, ✗ when
    one was wrong, None when it made no checked claim."""
    raw_steps = list(getattr(narrative, "steps", []) or [])
    verdicts = list(getattr(verification, "verdicts", []) or []) if verification else []
    by_step: dict[int, list[str]] = {}
    # Verdicts name their step (index or object) or their claim; else they follow claim order.
    claim_owner = {}
    for i, st in enumerate(raw_steps):
        for c in getattr(st, "claims", []) or []:
            claim_owner[id(c)] = i
    order = [i for i, st in enumerate(raw_steps) for _ in (getattr(st, "claims", []) or [])]
    for k, vd in enumerate(verdicts):
        owner = None
        step = getattr(vd, "step", None) if not isinstance(vd, dict) else vd.get("step")
        claim = getattr(vd, "claim", None) if not isinstance(vd, dict) else vd.get("claim")
        if isinstance(step, int) and not isinstance(step, bool):
            owner = next((i for i, st in enumerate(raw_steps)
                          if getattr(st, "index", i) == step), None)
        elif step is not None:
            owner = next((i for i, st in enumerate(raw_steps) if st is step), None)
        if owner is None and claim is not None:
            owner = claim_owner.get(id(claim))
            if owner is None:
                cstep = getattr(claim, "step", None)
                if isinstance(cstep, int):
                    owner = next((i for i, st in enumerate(raw_steps)
                                  if getattr(st, "index", i) == cstep), None)
        if owner is None and len(verdicts) == len(order):
            owner = order[k]
        if owner is not None:
            by_step.setdefault(owner, []).append(_verdict_status(vd))
    out = []
    for i, st in enumerate(raw_steps):
        statuses = by_step.get(i, [])
        verified = (False if "wrong" in statuses else True if statuses and all(
            s == "ok" for s in statuses) else None)
        line = getattr(st, "line", None)
        out.append(StepLine(index=int(getattr(st, "index", i)),
                            line=(int(line) - 1) if isinstance(line, int) and line > 0 else -1,
                            text=str(getattr(st, "text", st)),
                            verified=verified, depth=int(getattr(st, "depth", 0) or 0)))
    return out


def steps_markdown(steps: list[StepLine]) -> str:
    lines = []
    for s in steps:
        where = f" *(line {s.line + 1})*" if s.line >= 0 else ""
        lines.append(f"{'  ' * min(s.depth, 6)}- {mark(s.verified)} {s.text}{where}")
    return "\n".join(lines)


def summary(trace: Trace, reason: str | None = None) -> Explanation:
    """A plain account of the run straight from its trace (not a narrative: unchecked)."""
    steps: list[StepLine] = []
    top = {f.id for f in trace.frames if f.parent is None} or {0}
    depth_of = {f.id: f.depth for f in trace.frames}
    for ev in trace.events:
        if len(steps) >= 200:
            break
        d = depth_of.get(ev.frame, 0)
        if ev.kind == BIND and ev.frame in top and ev.value is not None:
            text = f"`{ev.name}` = `{short(render(ev.value), 80)}`"
        elif ev.kind == MUTATE and ev.frame in top and ev.value is not None:
            text = f"`{ev.name}` changed to `{short(render(ev.value), 80)}`"
        elif ev.kind == LOOP and ev.frame in top:
            text = f"loop iteration {ev.iteration}"
        elif ev.kind == RETURN and ev.frame in top:
            text = f"returns `{short(render(ev.value), 80)}`" if ev.value else "returns None"
        elif ev.kind == RAISE and ev.frame in top:
            text = f"raises {ev.name}: {short(ev.text or '', 80)}"
        else:
            continue
        steps.append(StepLine(len(steps), ev.line - 1, text, None, d))
    why = reason or (f"narrator not available ({_import_error})" if _import_error
                     else "narrator not available")
    head = f"**{short(trace.call, 80)}** → {md_code(outcome(trace))}\n\n*{why}: the steps below " \
           f"come straight from the trace and are not verified.*"
    return Explanation(steps=steps, markdown=head + "\n\n" + steps_markdown(steps), verified=None,
                       narrator="summary", notes=[why])
