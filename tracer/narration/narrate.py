"""The narrator: a trace told as numbered steps in plain English, every step carrying claims.

Pure functions of a `Trace` (no code runs here). Each step names its line and the values
involved; each also carries structured `Claim`s (what was bound, mutated, returned, raised,
printed, how often a loop ran, which way a branch went) that
`tracecot.tracer.verification.verify` checks against a fresh run.

    narrative = narrate(trace, request)        # forward: what the run did, in order
    narrative = narrate_backward(trace)        # from the result back to the arguments
    to_markdown(narrative, verification)       # editor panel / hover (✓ / ✗ marks)
    to_plain(narrative)                        # CruxEval chain-of-thought style text

Loops are summarised: first and last iterations in full, plus each iteration whose control
flow (sequence of lines) differs from those shown; the rest as "… N more iterations like
these". Repeated calls of a lambda (or other small function) in one line are summarised in
one step. Calls nested deeper than `detail` levels are told in one line (arguments → result).

Modules: analysis.py (the trace as calls, lines, loops, branches, value timelines),
source_lines.py (syntax of one source line), narrative.py (Claim, Step, Narrative; phrasing),
narrate_lines.py and narrate_loops.py (forward steps), narrate_backward.py, rendering.py
(Markdown / plain). This module is the entry point and re-exports the public names.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis, Call, LoopRun, analyse, args_value
from .backward import backward
from .loops import LoopSteps
from .narrative import (VALUE_CHARS_PLAIN, Claim, Narrative, Step, TraceSummary, join_words,
                        outcome_claims, request_for, short, tick)
from .rendering import to_markdown, to_plain
from ..schema import OUTPUT_CUT_MARK, RunRequest, Trace
from ..values import encode
from .source_lines import branch_header, code_text, names_read

__all__ = ["Claim", "Step", "Narrative", "TraceSummary", "narrate", "narrate_backward",
           "to_markdown", "to_plain", "forward_text", "backward_text", "Analysis", "analyse",
           "request_for", "branch_header", "code_text", "names_read", "Options"]


@dataclass
class Options:
    detail: int = 3              # call levels narrated step by step below the top call
    loop_values: int = 8         # loop-variable values listed for hidden iterations
    shown_iterations: int = 6    # iterations shown in full per loop (first, last, new shapes)
    repeated_calls: int = 6      # calls listed in a one-line summary of repeated calls
    max_steps: int = 400         # steps before the rest is summarised


class _Forward(LoopSteps):
    def __init__(self, trace: Trace, opts: Options, request: RunRequest | None = None):
        self.trace = trace
        self.a = analyse(trace, request)
        self.o = opts
        self.steps: list[Step] = []
        self.lines = trace.lines
        self.cut = False

    # -- top level
    def run(self) -> None:
        for k, root in enumerate(self.a.roots):
            if k > 0 and len(self.steps) >= self.o.max_steps:
                return
            self.top_call(root, k)
            self.body(root, 0)

    def top_call(self, root: Call, k: int) -> None:
        """The step that opens a top-level call: the call itself (k == 0), or what the same
        call of a class ran next (its __init__ after its __new__)."""
        t = self.trace
        frame = self.a.frame_of(root.frame)
        args = (self.ev(root.start).args or []) if root.start is not None else t.args
        name = frame.function if frame else t.function
        claims = []
        if root.start is not None:
            claims.append(self.claim("calls", root.start, variable=name, value=args_value(args),
                                     line=frame.def_line if frame else None))
        with_md = join_words([tick(f"{n} = {short(v)}") for n, v in args])
        with_pl = join_words([f"{n} = {short(v, VALUE_CHARS_PLAIN)}" for n, v in args])
        if k > 0:
            md = f"Then {tick(name)} is called with {with_md}." if args else \
                f"Then {tick(name)} is called with no arguments."
            plain = f"Then {name} is called with {with_pl}." if args else \
                f"Then {name} is called with no arguments."
        elif args and name == f"{t.function}.__init__":      # a class was called
            md = (f"Calling {tick(t.function)} makes a new instance and calls {tick(name)} "
                  f"with {with_md}.")
            plain = (f"Calling the class {t.function} makes a new instance and calls {name} "
                     f"with {with_pl}.")
        elif args and name == f"{t.function}.__new__":
            md = f"Calling {tick(t.function)} first calls {tick(name)} with {with_md}."
            plain = f"Calling the class {t.function} first calls {name} with {with_pl}."
        elif args:
            md = f"{tick(t.function)} is called with {with_md}."
            plain = f"The function {t.function} is called with {with_pl}."
        else:
            md = f"{tick(t.function)} is called with no arguments."
            plain = f"The function {t.function} is called with no arguments."
        self.add(0, frame.def_line if frame else None, md, plain, claims)

    def body(self, call: Call, depth: int) -> None:
        for node in self.a.structure(call):
            if len(self.steps) >= self.o.max_steps:
                if not self.cut:
                    self.cut = True
                    first = node if not isinstance(node, LoopRun) else (
                        node.iterations[0][0] if node.iterations else node.exit)
                    self.add(depth, None, "… (the rest of the run is not narrated: too many "
                             "steps)", "... (the rest of the run is not narrated).",
                             [self.runs(first)] if first is not None else [])
                return
            if isinstance(node, LoopRun):
                self.loop(node, depth)
            else:
                self.unit(node, depth)

    # -- ending
    def line_counts(self) -> list[Claim]:
        """How often each loop header ran in the whole run, from the trace's line counts
        (complete whatever the event, output and depth caps), for a record that stops early
        in a run that finished: what the record cannot show of its loops (at most 3)."""
        t = self.trace
        if t.status == "error":
            return []
        lines = sorted({lp.line for lp in t.loops if t.line_counts.get(lp.line)})[:3]
        return [Claim("line_count", n, None, encode(t.line_counts[n]), None, None)
                for n in lines]

    def conclusion(self) -> tuple[str, str, list[Claim]]:
        t = self.trace
        notes_md, notes_pl = [], []
        counted: list[Claim] = []
        if t.truncated:
            notes_md.append(f"(The trace stops after {len(t.events)} recorded events; later "
                            "steps ran but were not recorded.)")
            notes_pl.append("(Later steps were not recorded.)")
            counted = self.line_counts()
            if counted:
                runs = join_words([f"line {c.line} ran {(c.value or {})['v']:,} times"
                                   for c in counted])
                notes_md.append(f"(Line counts are kept whatever the caps: in the whole run, "
                                f"{runs}.)")
                notes_pl.append(f"(In the whole run, {runs}.)")
        if t.stdout.endswith(OUTPUT_CUT_MARK):
            notes_md.append("(The output cap was reached: later printed output was not kept.)")
            notes_pl.append("(Later printed output was not kept.)")
        claims = counted + outcome_claims(t)
        if t.status == "returned":
            md = f"So {tick(t.call)} returns {tick(short(t.result, 400))}."
            pl = f"So the function returns {short(t.result, 100_000)}."
        elif t.status == "raised" and t.exception is not None:
            ex = t.exception
            msg = f": {ex.message}" if ex.message else ""
            at = f"raised at line {ex.line}" if ex.line else "raised outside the traced lines"
            md = f"So {tick(t.call)} raises {tick(ex.type + msg)} ({at})."
            pl = f"So the function raises {ex.type}{msg}."
        else:
            err = t.error
            msg = err.message if err else "the run failed"
            md = f"The run stopped: {msg}"
            pl = f"The run stopped: {msg}"
        return " ".join(notes_md + [md]), " ".join(notes_pl + [pl]), claims


def narrate(trace: Trace, request: RunRequest | None = None, *, detail: int = 3,
            max_steps: int = 400) -> Narrative:
    """The forward narrative of a trace: what the run did, step by step."""
    fw = _Forward(trace, Options(detail=detail, max_steps=max_steps), request)
    fw.run()
    md, pl, claims = fw.conclusion()
    return Narrative(request_for(trace, request), TraceSummary.of(trace), fw.steps, md,
                     "forward", pl, claims, "Let's execute the code step by step:")


def narrate_backward(trace: Trace, request: RunRequest | None = None) -> Narrative:
    """From the result back to the arguments along the data flow (see narrate_backward.py)."""
    return backward(trace, request)


def forward_text(trace: Trace) -> str:
    return to_plain(narrate(trace))


def backward_text(trace: Trace) -> str:
    return to_plain(narrate_backward(trace))
