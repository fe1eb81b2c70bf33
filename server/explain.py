"""The one place that talks to the tracer's narrator and verifier.

    explain(trace, request, sandbox) -> Explanation      (blocking: call it in a thread)

`narrate` / `narrate_backward` give a Narrative (steps with claims), `verify` a Verification
whose ClaimVerdicts name their step; `to_markdown` renders both. A run that did not complete,
or a narrator that fails, gets a plain summary of the trace instead, marked unchecked (nothing
claims to be verified that was not).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tracecot.tracer.narration.narrate import narrate, narrate_backward, to_markdown
from tracecot.tracer.narration.narrative import Narrative
from tracecot.tracer.schema import BIND, LOOP, MUTATE, RAISE, RETURN, RunRequest, Trace
from tracecot.tracer.values import render
from tracecot.tracer.verification.verify import Verification, fresh_request, verify

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


def narrate_trace(trace: Trace, request: RunRequest, backward: bool = False):
    """The narrative of a finished run, or an Explanation (summary) when there is none.
    Pure CPU: call it in a thread."""
    if not trace.ok:
        return summary(trace, reason="the run did not complete")
    try:
        return (narrate_backward if backward else narrate)(trace, request)
    except Exception as e:
        log.exception("narrator failed")
        return summary(trace, reason=f"the narrator failed ({type(e).__name__}: {e})")


def check(narrative: Narrative | Explanation, fresh: Trace | None) -> Explanation:
    """Every claim of `narrative` checked against `fresh`, a new run of the same request
    (None: not checked). Pure CPU: call it in a thread."""
    if isinstance(narrative, Explanation):
        return narrative
    verification: Verification | None = None
    note = None
    if fresh is not None:
        try:
            verification = verify(narrative, fresh=fresh)
        except Exception as e:
            log.exception("verifier failed")
            note = f"the verifier failed ({type(e).__name__}: {e})"
    steps = _steps(narrative, verification)
    try:
        markdown = to_markdown(narrative, verification)
    except Exception:  # noqa: BLE001
        markdown = steps_markdown(steps)
    verdicts = verification.verdicts if verification is not None else []
    wrong = sum(v.verdict == "wrong" for v in verdicts)
    verified = None if verification is None else verification.verified
    ex = Explanation(steps=steps, markdown=markdown, verified=verified, checked=len(verdicts),
                     wrong=wrong, narrator="tracer")
    if note:
        ex.notes.append(note)
    elif verification is not None and verification.error:
        ex.notes.append(str(verification.error))
    return ex


def explain(trace: Trace, request: RunRequest, sandbox=None, backward: bool = False) -> Explanation:
    """Blocking version (narrate, re-run in `sandbox`, check), for scripts and tests."""
    narrative = narrate_trace(trace, request, backward)
    if isinstance(narrative, Explanation):
        return narrative
    fresh = sandbox.run(fresh_request(request)) if sandbox is not None else None
    return check(narrative, fresh)


def _steps(narrative: Narrative, verification: Verification | None) -> list[StepLine]:
    """Narrative steps with a per-step mark: ✓ when all of its claims were checked ok, ✗ when
    one was wrong, None when it made no checked claim (each verdict names its step)."""
    by_step: dict[int | None, list[str]] = {}
    for v in verification.verdicts if verification is not None else []:
        by_step.setdefault(v.step, []).append(v.verdict)
    out = []
    for st in narrative.steps:
        statuses = by_step.get(st.index, [])
        verified = (False if "wrong" in statuses else True if statuses and all(
            s == "ok" for s in statuses) else None)
        line = st.line
        out.append(StepLine(index=st.index,
                            line=line - 1 if isinstance(line, int) and line > 0 else -1,
                            text=st.text, verified=verified, depth=st.depth))
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
    why = reason or "not narrated"
    head = f"**{short(trace.call, 80)}** → {md_code(outcome(trace))}\n\n*{why}: the steps below " \
           f"come straight from the trace and are not verified.*"
    return Explanation(steps=steps, markdown=head + "\n\n" + steps_markdown(steps), verified=None,
                       narrator="summary", notes=[why])
