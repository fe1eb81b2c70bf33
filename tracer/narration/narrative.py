"""A narrative and its claims: the data the narrators produce and the verifiers check, plus
the phrasing helpers both narrators share.

A `Narrative` is a list of numbered `Step`s (Markdown text, plain text, nesting depth, line)
and a conclusion; every step carries structured `Claim`s (kind, line, variable, encoded
value, trace event index) that `tracecot.tracer.verification.verify` checks against a fresh run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import fn_name
from ..schema import Frame, RunRequest, Trace
from ..values import encode, render

__all__ = ["CLAIM_KINDS", "Claim", "Step", "TraceSummary", "Narrative", "request_for",
           "outcome_claims", "excerpt", "VALUE_CHARS_MD", "VALUE_CHARS_PLAIN", "short", "tick",
           "fn_code", "args_text", "join_words"]

CLAIM_KINDS = ("binds", "mutates", "returns", "yields", "raises", "caught", "propagates",
               "calls", "prints", "loop_count", "branch", "value", "runs", "result",
               "exception", "error", "line_count")


@dataclass
class Claim:
    """One mechanically checkable fact stated by a step.

    kind: binds | mutates (variable, value after the line) · returns | yields (variable =
    function, value) · raises | caught | propagates (variable = exception type; raises has the
    message as value) · calls (variable = function, value = dict of arguments) · prints
    (variable = stream, value = text) · loop_count (line = header, value = iterations) ·
    branch (variable = condition source, value = bool) · value (variable holds value when
    `line` is about to run, event_index = that LINE or CALL event) · runs (`line` ran, at
    event_index: its LINE event; for steps that state nothing else) · result / exception /
    error (how the whole call ended; no event index).
    """
    kind: str
    line: int | None
    variable: str | None
    value: dict | None
    event_index: int | None
    frame: int | None

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        val = "" if self.value is None else f" {short(self.value, 60)}"
        return f"{where}{self.kind} {self.variable or ''}{val}".replace("  ", " ")


@dataclass
class Step:
    index: int            # 1-based number in the narrative
    depth: int            # nesting level (calls, loops, iterations)
    line: int | None
    text: str             # Markdown (code in backticks)
    claims: list[Claim] = field(default_factory=list)
    plain: str = ""       # plain-text version (CruxEval chain-of-thought style)


@dataclass
class TraceSummary:
    function: str
    call: str
    status: str
    result: dict | None = None
    exception: str | None = None       # "ValueError: boom"
    error: str | None = None           # "timeout: stopped after 2 s ..."
    steps: int = 0
    events: int = 0
    truncated: bool = False
    backend: str = ""
    python: str = ""

    @classmethod
    def of(cls, trace: Trace) -> "TraceSummary":
        exc = trace.exception
        err = trace.error
        return cls(trace.function, trace.call, trace.status, trace.result,
                   f"{exc.type}: {exc.message}" if exc and exc.message else
                   (exc.type if exc else None),
                   f"{err.kind}: {err.message}" if err else None,
                   trace.steps, len(trace.events), trace.truncated, trace.backend, trace.python)


@dataclass
class Narrative:
    request: RunRequest | None
    trace: TraceSummary
    steps: list[Step]
    conclusion: str                                   # Markdown
    direction: str = "forward"                        # "forward" | "backward"
    plain_conclusion: str = ""
    conclusion_claims: list[Claim] = field(default_factory=list)
    intro: str = ""                                   # plain-text first line

    @property
    def claims(self) -> list[Claim]:
        out = [c for s in self.steps for c in s.claims]
        return out + list(self.conclusion_claims)


def request_for(trace: Trace, request: RunRequest | None = None) -> RunRequest | None:
    """The request to re-run: the one given, else rebuilt from the trace (needs its path)."""
    if request is not None:
        return request
    call = trace.call or ""
    prefix = trace.function + "("
    args = call[len(prefix):-1] if call.startswith(prefix) and call.endswith(")") else ""
    if trace.path is None:
        return None
    return RunRequest(function=trace.function, args=args, path=trace.path)


def outcome_claims(trace: Trace) -> list[Claim]:
    """The claim of a narrative's conclusion: how the whole call ended (no event index)."""
    if trace.status == "returned":
        return [Claim("result", None, trace.function, trace.result, None, None)]
    if trace.status == "raised" and trace.exception is not None:
        ex = trace.exception
        return [Claim("exception", ex.line, ex.type, encode(ex.message), None, None)]
    err = trace.error
    return [Claim("error", err.line if err else None, err.kind if err else None, None, None,
                  None)]


# ------------------------------------------------------------------------------ phrasing

VALUE_CHARS_MD = 120
VALUE_CHARS_PLAIN = 400


def short(v: dict | None, limit: int = VALUE_CHARS_MD) -> str:
    if v is None:
        return "None"
    s = render(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def excerpt(text: str, limit: int, mark: str = "…") -> str:
    """A bounded excerpt of printed text, saying how much is left out."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r} {mark} {len(text) - limit:,} more characters"


def tick(s: str) -> str:
    """Markdown inline code, whatever backticks `s` contains."""
    if "`" not in s:
        return f"`{s}`"
    fence = "``" if "``" not in s else "```"
    return f"{fence} {s} {fence}"


def fn_code(frame: Frame | None) -> str:
    name = fn_name(frame)
    return name if name == "the lambda" else tick(name)


def args_text(args: list | None, limit: int, sep: str = "=") -> str:
    return ", ".join(f"{n}{sep}{short(v, limit)}" for n, v in (args or []))


def join_words(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]

