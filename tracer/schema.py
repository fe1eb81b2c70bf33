"""The trace schema: the one contract between tracer, narrator, verifier, model and server.

Everything that crosses a process boundary is one of these dataclasses turned into JSON with
`to_json` and read back with the matching `*_from_json`. Values inside events are *encoded
values* (plain JSON dicts made by `tracecot.tracer.values.encode`), never live objects.

Bump SCHEMA_VERSION whenever a field changes meaning; readers refuse other versions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, TypeVar

SCHEMA_VERSION = 1

# Event kinds. A trace is a flat, ordered list of events; frames say how calls nest.
CALL = "call"            # a traced frame starts (or a generator resumes: `resumed=True`)
LINE = "line"            # a line is about to run
BIND = "bind"            # a variable got a new object (binding or rebinding); `line` did it
MUTATE = "mutate"        # the object a variable names changed in place (append, setitem, ...)
RETURN = "return"        # a frame returned `value`
YIELD = "yield"          # a generator frame yielded `value`
RAISE = "raise"          # an exception was raised in this frame (`name` = type, `text` = message)
CAUGHT = "caught"        # an exception raised here or below was caught by a handler in this frame
PROPAGATE = "propagate"  # this frame ended because of an exception it did not catch
LOOP = "loop"            # loop iteration `iteration` of the loop whose header is `line` begins
OUTPUT = "output"        # user code printed `text` on `stream` while running `line`

# Appended to Trace.stdout when the output cap (RunRequest.output_bytes) cut the output.
OUTPUT_CUT_MARK = "\n[output truncated]"

EVENT_KINDS = (CALL, LINE, BIND, MUTATE, RETURN, YIELD, RAISE, CAUGHT, PROPAGATE, LOOP, OUTPUT)

# Error kinds a run can end with (besides an exception raised by user code, which is not an
# error: it is narrated as part of the run and reported in Trace.exception).
ERROR_KINDS = (
    "file_not_found", "function_not_found", "syntax_error", "bad_arguments", "arity",
    "load_error", "timeout", "step_limit", "memory_limit", "crash", "result_too_large",
    "sandbox_error", "cancelled",
)

EncodedValue = dict[str, Any]  # type-tagged JSON value, see values.py


@dataclass
class Event:
    kind: str
    frame: int
    line: int
    name: str | None = None          # variable, function or exception type name
    value: EncodedValue | None = None
    ref: int | None = None           # identity number of the object (same number = same object)
    iteration: int | None = None     # LOOP: 1-based iteration number
    text: str | None = None          # OUTPUT text, RAISE message
    stream: str | None = None        # OUTPUT: "stdout" | "stderr"
    args: list[list[Any]] | None = None   # CALL: [[name, encoded], ...]
    aliases: list[str] | None = None      # MUTATE: other variables naming the same object
    resumed: bool | None = None           # CALL: generator resumed rather than started


@dataclass
class Frame:
    id: int
    function: str                    # qualified name, e.g. "f", "Stack.push", "<lambda>"
    parent: int | None               # frame that called it (None for the top call)
    depth: int                       # 0 for the top call
    def_line: int                    # first line of the definition
    call_line: int | None            # line in the parent that made the call
    kind: str = "function"           # "function" | "generator" | "lambda" | "comprehension"


@dataclass
class Loop:
    line: int                        # header line (for/while)
    kind: str                        # "for" | "while"
    body_start: int
    body_end: int
    end_line: int                    # last line of the whole statement (else branch included)


@dataclass
class RunError:
    kind: str                        # one of ERROR_KINDS
    message: str                     # for humans, complete sentence(s)
    line: int | None = None


@dataclass
class ExceptionInfo:
    type: str
    message: str
    line: int | None                 # line where it was raised in the user's file
    value: EncodedValue | None = None


@dataclass
class Comparison:
    """The result compared with an expected value given as Python source (see RunRequest)."""
    expected: EncodedValue | None
    canonical_equal: bool            # type-strict equality under the canonical encoder
    python_equal: bool               # plain `==`, as CruxEval's asserts use it
    error: str | None = None         # expected value could not be evaluated


@dataclass
class RunRequest:
    function: str                    # name of a function (or "Class.method") in the source
    args: str = ""                   # arguments as Python source: "[1, 1, 3], 'a', key=2"
    source: str | None = None        # module source; read from `path` when None
    path: str | None = None          # file the source came from (display, imports from its folder)
    timeout: float = 2.0             # wall-clock seconds for the whole run
    max_steps: int = 2_000_000       # line executions before the run is stopped (cannot be escaped)
    max_events: int = 20_000         # events recorded; past it the run goes on, unrecorded
    max_depth: int = 10              # nesting depth of traced calls below the top call
    memory_mb: int = 1024            # address-space limit of the child
    output_bytes: int = 65_536       # captured stdout+stderr of user code
    expected: str | None = None      # optional Python source of a value to compare the result with
    record: bool = True              # False: the call runs untraced (no events, no step cap; the
    #                                  timeout still stops it): for callers that want only the
    #                                  result and output, e.g. the input finder's batches


@dataclass
class Trace:
    version: int
    function: str
    call: str                        # the call as written, e.g. "f([1, 1, 3])"
    path: str | None
    backend: str                     # "settrace" | "monitoring"
    python: str                      # e.g. "3.11.7"
    status: str                      # "returned" | "raised" | "error"
    args: list[list[Any]] = field(default_factory=list)   # [[param, encoded], ...] at entry
    result: EncodedValue | None = None
    exception: ExceptionInfo | None = None
    error: RunError | None = None
    frames: list[Frame] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    lines: dict[int, str] = field(default_factory=dict)   # source text of every line in events
    line_counts: dict[int, int] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False          # max_events reached: later events were not recorded
    steps: int = 0                   # line events executed in traced code
    wall_ms: float = 0.0             # child-side time from call to result
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        """The function ran to completion (returned or raised); no sandbox-level error."""
        return self.status != "error"


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def to_json(obj: Any) -> Any:
    """Any schema dataclass -> JSON-compatible data (None fields of events are dropped)."""
    if isinstance(obj, Trace):
        d = asdict(obj)
        d["events"] = [_drop_none(e) for e in d["events"]]
        d["lines"] = {str(k): v for k, v in obj.lines.items()}
        d["line_counts"] = {str(k): v for k, v in obj.line_counts.items()}
        return d
    if isinstance(obj, Event):
        return _drop_none(asdict(obj))
    return asdict(obj)


_T = TypeVar("_T")


@cache
def _field_names(cls: type[Any]) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _build(cls: type[_T], data: dict[str, Any]) -> _T:
    # Once per class: a trace has up to 20,000 events. (A class is hashable; mypy reads
    # type[...] as not Hashable for functools.cache.)
    names = _field_names(cls)  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def _build_optional(cls: type[_T], data: dict[str, Any] | None) -> _T | None:
    return None if data is None else _build(cls, data)


def trace_from_json(d: dict[str, Any]) -> Trace:
    if d.get("version") != SCHEMA_VERSION:
        raise ValueError(f"trace schema version {d.get('version')!r}, expected {SCHEMA_VERSION}")
    return Trace(
        version=d["version"], function=d["function"], call=d["call"], path=d.get("path"),
        backend=d["backend"], python=d["python"], status=d["status"],
        args=d.get("args", []), result=d.get("result"),
        exception=_build_optional(ExceptionInfo, d.get("exception")),
        error=_build_optional(RunError, d.get("error")),
        frames=[_build(Frame, f) for f in d.get("frames", [])],
        events=[_build(Event, e) for e in d.get("events", [])],
        loops=[_build(Loop, x) for x in d.get("loops", [])],
        lines={int(k): v for k, v in d.get("lines", {}).items()},
        line_counts={int(k): v for k, v in d.get("line_counts", {}).items()},
        stdout=d.get("stdout", ""), stderr=d.get("stderr", ""),
        truncated=d.get("truncated", False), steps=d.get("steps", 0),
        wall_ms=d.get("wall_ms", 0.0),
        comparison=_build_optional(Comparison, d.get("comparison")),
    )


def outcome_text(trace: Trace) -> str:
    """The outcome of a run as text: `[1, 2]`, `raises ValueError: bad`, or the sandbox error
    (`timeout: ...`). The one wording the model, the text checker and the editor all show."""
    from .values import render
    if trace.status == "returned":
        return render(trace.result) if trace.result is not None else "None"
    if trace.status == "raised" and trace.exception is not None:
        return f"raises {trace.exception.type}: {trace.exception.message}"
    err = trace.error
    return f"{err.kind.replace('_', ' ')}: {err.message}" if err else "no result"


def error_trace(request: RunRequest, kind: str, message: str, line: int | None = None,
                backend: str = "", python: str = "") -> Trace:
    """A trace for a run that never got to (or never finished) the call."""
    return Trace(version=SCHEMA_VERSION, function=request.function,
                 call=f"{request.function}({request.args})", path=request.path,
                 backend=backend, python=python, status="error",
                 error=RunError(kind, message, line))
