"""The narrator: a trace told as numbered steps in plain English, every step carrying claims.

Pure functions of a `Trace` (no code runs here). Each step names its line and the values
involved; each also carries structured `Claim`s (what was bound, mutated, returned, raised,
printed, how often a loop ran, which way a branch went) that `tracecot.tracer.verify` checks
against a fresh run.

    narrative = narrate(trace, request)        # forward: what the run did, in order
    narrative = narrate_backward(trace)        # from the result back to the arguments
    to_markdown(narrative, verification)       # editor panel / hover (✓ / ✗ marks)
    to_plain(narrative)                        # CruxEval chain-of-thought style text

Loops are summarised: first and last iterations in full, plus each iteration whose control
flow (sequence of lines) differs from those shown; the rest as "… N more iterations like
these". Repeated calls of a lambda (or other small function) in one line are summarised in
one step. Calls nested deeper than `detail` levels are told in one line (arguments → result).
"""

from __future__ import annotations

import ast
import bisect
import io
import keyword
import tokenize
from dataclasses import dataclass, field

from .schema import (BIND, CALL, CAUGHT, LINE, LOOP, MUTATE, OUTPUT, PROPAGATE, RAISE, RETURN,
                     YIELD, Event, Frame, RunRequest, Trace)
from .values import encode, render

__all__ = ["Claim", "Step", "Narrative", "TraceSummary", "narrate", "narrate_backward",
           "to_markdown", "to_plain", "forward_text", "backward_text", "Analysis", "analyse",
           "request_for"]

CLAIM_KINDS = ("binds", "mutates", "returns", "yields", "raises", "caught", "propagates",
               "calls", "prints", "loop_count", "branch", "value", "result", "exception",
               "error")


# ------------------------------------------------------------------------------ data model

@dataclass
class Claim:
    """One mechanically checkable fact stated by a step.

    kind: binds | mutates (variable, value after the line) · returns | yields (variable =
    function, value) · raises | caught | propagates (variable = exception type; raises has the
    message as value) · calls (variable = function, value = dict of arguments) · prints
    (variable = stream, value = text) · loop_count (line = header, value = iterations) ·
    branch (variable = condition source, value = bool) · value (variable holds value when
    `line` is about to run, event_index = that LINE or CALL event) · result / exception /
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
        val = "" if self.value is None else f" {_short(self.value, 60)}"
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


# ------------------------------------------------------------------------------ text helpers

VALUE_CHARS_MD = 120
VALUE_CHARS_PLAIN = 400


def _short(v: dict | None, limit: int = VALUE_CHARS_MD) -> str:
    if v is None:
        return "None"
    s = render(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _tick(s: str) -> str:
    """Markdown inline code, whatever backticks `s` contains."""
    if "`" not in s:
        return f"`{s}`"
    fence = "``" if "``" not in s else "```"
    return f"{fence} {s} {fence}"


def code_text(line: str | None) -> str:
    """A source line without indentation and comments."""
    if not line:
        return ""
    text = line.strip()
    if "#" not in text:
        return text
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text + "\n").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text
    for t in toks:
        if t.type == tokenize.COMMENT:
            return text[: t.start[1]].rstrip()
    return text


def fn_name(frame: Frame | None) -> str:
    if frame is None:
        return "?"
    name = frame.function.split(".")[-1]
    return "the lambda" if name == "<lambda>" else name


def _fn_code(frame: Frame | None) -> str:
    name = fn_name(frame)
    return name if name == "the lambda" else _tick(name)


NONE_VALUE = {"t": "none"}


def event_value(e: Event) -> dict | None:
    """An event's value; a binding to None may come without one (the recorder leaves None out)."""
    if e.value is None and e.kind in (BIND, MUTATE, RETURN, YIELD):
        return NONE_VALUE
    return e.value


def args_value(args: list | None) -> dict:
    """Call arguments as one encoded value (a dict name → value), for `calls` claims."""
    return {"t": "dict", "items": [[{"t": "str", "v": n}, v] for n, v in (args or [])]}


def _args_text(args: list | None, limit: int, sep: str = "=") -> str:
    return ", ".join(f"{n}{sep}{_short(v, limit)}" for n, v in (args or []))


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def names_read(text: str) -> list[str]:
    """Names a source line reads (AST loads; a tokenizer guess when the line does not parse)."""
    src = code_text(text)
    tree = _parse_line(src)
    if tree is not None:
        seen: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and node.id not in seen:
                seen.append(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id not in seen:
                seen.append(node.target.id)
        return seen
    out: list[str] = []
    try:
        for t in tokenize.generate_tokens(io.StringIO(src + "\n").readline):
            if t.type == tokenize.NAME and not keyword.iskeyword(t.string) \
                    and t.string not in out:
                out.append(t.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return out


def _parse_line(src: str) -> ast.Module | None:
    """Parse one line of source, completing a compound-statement header with a body."""
    if not src:
        return None
    cands = [src]
    head = src
    for kw in ("elif ", "else", "except", "finally"):
        if head.startswith(kw):
            head = "if " + head[len("elif "):] if kw == "elif " else ""
            break
    if head:
        cands = [head, head + "\n    pass"] if head.endswith(":") else [head]
        if head.startswith(("return", "yield")):
            cands.append("def _():\n    " + head)
    for c in cands:
        try:
            return ast.parse(c)
        except (SyntaxError, ValueError):
            continue
    return None


def branch_header(text: str | None) -> tuple[str, str] | None:
    """("if" | "elif" | "while", condition source) when the line is only such a header."""
    src = code_text(text)
    if not src.endswith(":"):
        return None
    for kw in ("if", "elif", "while"):
        if src.startswith(kw + " ") or src.startswith(kw + "("):
            try:
                tree = ast.parse(("if" if kw == "elif" else kw) + src[len(kw):] + "\n    pass")
            except (SyntaxError, ValueError):
                return None
            node = tree.body[0]
            if isinstance(node, (ast.If, ast.While)) and len(node.body) == 1:
                return kw, ast.unparse(node.test)
    return None


def _iterable(code: str) -> str:
    """The iterable of a `for` header (for the names it reads), else the whole header."""
    tree = _parse_line(code)
    if tree is not None and tree.body and isinstance(tree.body[0], (ast.For, ast.AsyncFor)):
        return ast.unparse(tree.body[0].iter)
    return code


def _indent(text: str | None) -> int:
    text = (text or "").expandtabs(8)
    return len(text) - len(text.lstrip())


# ------------------------------------------------------------------------------ analysis

@dataclass
class Unit:
    """One executed line of one frame: its LINE event and what happened while it ran."""
    frame: int
    line: int
    start: int                          # index of its LINE event (or its first event)
    items: list = field(default_factory=list)   # event indices of this frame, or Calls
    pos: int = 0                        # position in its frame's list of units


@dataclass
class Call:
    """One activation (or generator resumption) of a traced frame."""
    frame: int
    start: int | None                   # CALL event index
    units: list[Unit] = field(default_factory=list)
    end: int | None = None              # RETURN / YIELD / PROPAGATE event index
    resumed: bool = False


@dataclass
class LoopRun:
    """One execution of a loop statement, split into iterations."""
    line: int
    kind: str
    iterations: list[list]              # each: list of Unit | LoopRun
    numbers: list[int]                  # iteration numbers from the LOOP events
    exit: Unit | None = None            # header evaluated once more: no further item / false
    complete: bool = False              # started at iteration 1 and we saw it end
    first_event: int = 0                # index of the first LOOP event

    @property
    def count(self) -> int:
        return len(self.iterations)


class Analysis:
    """The trace as a tree of calls and units, with loops found and timelines of values."""

    def __init__(self, trace: Trace, source: str | None = None):
        self.trace = trace
        self.source = source
        self._bodies: dict[int, tuple[int, int]] | None = None
        self.events = trace.events
        self.frames = {f.id: f for f in trace.frames}
        self.loops = {lp.line: lp for lp in trace.loops}
        self.frame_units: dict[int, list[Unit]] = {}
        self.calls: list[Call] = []
        self.root = self._build()
        self._structure_cache: dict[int, list] = {}
        self._ending: dict[int, str | None] = {}
        self._timelines: dict[int, dict[str, tuple[list[int], list[dict]]]] | None = None

    # -- tree
    def _unit_of(self, call: Call, ev: Event, index: int) -> Unit:
        if call.units:
            return call.units[-1]
        unit = Unit(call.frame, ev.line, index)
        self._add_unit(call, unit)
        return unit

    def _add_unit(self, call: Call, unit: Unit) -> None:
        lst = self.frame_units.setdefault(call.frame, [])
        unit.pos = len(lst)
        lst.append(unit)
        call.units.append(unit)

    def _build(self) -> Call | None:
        root: Call | None = None
        stack: list[Call] = []
        for i, e in enumerate(self.events):
            if e.kind == CALL:
                call = Call(e.frame, i, resumed=bool(e.resumed))
                self.calls.append(call)
                if stack:
                    self._unit_of(stack[-1], e, i).items.append(call)
                elif root is None:
                    root = call
                stack.append(call)
                continue
            if not stack or stack[-1].frame != e.frame:
                if any(c.frame == e.frame for c in stack):
                    while stack[-1].frame != e.frame:
                        stack.pop()
                else:   # an event of a frame we never saw start: treat as its own call
                    call = Call(e.frame, None)
                    self.calls.append(call)
                    if stack:
                        self._unit_of(stack[-1], e, i).items.append(call)
                    elif root is None:
                        root = call
                    stack.append(call)
            call = stack[-1]
            if e.kind == LINE:
                unit = Unit(e.frame, e.line, i, [i])
                self._add_unit(call, unit)
                continue
            self._unit_of(call, e, i).items.append(i)
            if e.kind in (RETURN, YIELD, PROPAGATE):
                call.end = i
                stack.pop()
        return root

    # -- loops
    def loop_starts(self, unit: Unit) -> list[tuple[int, int, int]]:
        """(header line, iteration, event index) of iterations that start in this unit.

        Only LOOP events sitting in the header's own unit count: an iteration starts when the
        header runs again (a LOOP event elsewhere comes from a nested loop's header).
        """
        out = []
        for it in unit.items:
            if isinstance(it, int):
                e = self.events[it]
                if e.kind == LOOP and e.line == unit.line:
                    out.append((e.line, e.iteration or 0, it))
        return out

    def structure(self, call: Call) -> list:
        key = id(call)
        if key not in self._structure_cache:
            if call.units:
                self._ending[id(call.units[-1])] = \
                    self.events[call.end].kind if call.end is not None else None
            nodes, _ = self._block(call.units, 0, None)
            self._structure_cache[key] = nodes
        return self._structure_cache[key]

    def _block(self, units: list[Unit], i: int, inside) -> tuple[list, int]:
        nodes: list = []
        while i < len(units):
            u = units[i]
            if inside is not None and not self._in_body(inside, u.line):
                break
            starts = self.loop_starts(u)
            if starts and (inside is None or starts[0][0] != inside.line):
                run, i = self._loop(units, i, starts[0])
                nodes.append(run)
                continue
            if not starts and self._never_runs(u, inside):
                lp = self.loops[u.line]
                nodes.append(LoopRun(u.line, lp.kind, [], [], exit=u, complete=True,
                                     first_event=u.start))
                i += 1
                continue
            nodes.append(u)
            i += 1
        return nodes, i

    def _never_runs(self, u: Unit, inside) -> bool:
        """A loop header reached from outside the loop that starts no iteration."""
        lp = self.loops.get(u.line)
        if lp is None or lp.body_start == lp.line or (inside is not None
                                                       and inside.line == lp.line):
            return False
        units = self.frame_units[u.frame]
        if u.pos > 0 and lp.line <= units[u.pos - 1].line <= lp.end_line:
            return False          # back at the header from the body (a resumed generator)
        for it in u.items:
            if isinstance(it, int) and self.events[it].kind in (RAISE, PROPAGATE, YIELD):
                return False
        nxt = units[u.pos + 1].line if u.pos + 1 < len(units) else None
        if nxt is None:
            return False
        return not lp.body_start <= nxt <= lp.body_end

    def _in_body(self, lp, line: int) -> bool:
        return lp.body_start <= line <= lp.body_end

    def _loop(self, units: list[Unit], i: int, start) -> tuple[LoopRun, int]:
        header, number, ev = start
        lp = self.loops.get(header)
        run = LoopRun(header, lp.kind if lp else "for", [], [], first_event=ev)
        run.complete = number == 1
        while i < len(units):
            u = units[i]
            starts = self.loop_starts(u)
            if not starts or starts[0][0] != header:
                if u.line == header:          # the header ran again without an iteration
                    run.exit = u
                    i += 1
                break
            run.numbers.append(starts[0][1])
            body: list = [u]
            i += 1
            if lp is not None:
                nodes, i = self._block(units, i, lp)
                body.extend(nodes)
            run.iterations.append(body)
        if run.exit is None and i >= len(units):
            # The frame stopped inside the loop: a count holds only if it returned or raised
            # (a generator that yielded, or a record that stops, may come back to the loop).
            end = self._ending.get(id(units[-1])) if units else None
            run.complete = run.complete and end in (RETURN, PROPAGATE)
        return run, i

    # -- branches
    def _branch_bodies(self) -> dict[int, tuple[int, int]]:
        """if/elif/while line -> (first, last) line of its body, from the module source."""
        if self._bodies is None:
            self._bodies = {}
            try:
                tree = ast.parse(self.source) if self.source else None
            except (SyntaxError, ValueError):
                tree = None
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, (ast.If, ast.While)) and node.body:
                    self._bodies[node.lineno] = (
                        node.body[0].lineno,
                        max(getattr(s, "end_lineno", s.lineno) or s.lineno for s in node.body))
        return self._bodies

    def branch(self, unit: Unit) -> bool | None:
        """Which way an if/elif/while header went: the next line the frame ran decides.

        With the module source: true when that line is in the statement's body. Without it,
        only what indentation proves: a line indented no deeper than the header is outside
        the statement (false); the line right below the header, indented deeper, is the body.
        """
        header = branch_header(self.trace.lines.get(unit.line))
        if header is None:
            return None
        for it in unit.items:
            if isinstance(it, int) and self.events[it].kind in (RAISE, PROPAGATE, RETURN,
                                                                 YIELD):
                return None
        units = self.frame_units.get(unit.frame, [])
        if unit.pos + 1 >= len(units):
            return None
        nxt = units[unit.pos + 1].line
        if nxt == unit.line:
            return None
        bodies = self._branch_bodies()
        if unit.line in bodies:
            first, last = bodies[unit.line]
            return first <= nxt <= last
        lines = self.trace.lines
        deeper = _indent(lines.get(nxt)) > _indent(lines.get(unit.line))
        if not deeper:
            return False
        return True if nxt == unit.line + 1 else None

    # -- values
    def _build_timelines(self):
        tl: dict[int, dict[str, tuple[list[int], list[dict]]]] = {}

        def put(frame: int, name: str, index: int, value: dict) -> None:
            idx, vals = tl.setdefault(frame, {}).setdefault(name, ([], []))
            idx.append(index)
            vals.append(value)

        for i, e in enumerate(self.events):
            if e.kind == CALL and not e.resumed:
                for name, value in e.args or []:
                    put(e.frame, name, i, value)
            elif e.kind in (BIND, MUTATE) and e.name:
                put(e.frame, e.name, i, event_value(e))
                for alias in e.aliases or []:
                    put(e.frame, alias, i, event_value(e))
        self._timelines = tl

    def timeline(self, frame: int, name: str) -> tuple[list[int], list[dict]]:
        if self._timelines is None:
            self._build_timelines()
        return self._timelines.get(frame, {}).get(name, ([], []))

    def variables(self, frame: int) -> list[str]:
        if self._timelines is None:
            self._build_timelines()
        return list(self._timelines.get(frame, {}))

    def value_at(self, frame: int, name: str, index: int) -> tuple[int, dict] | None:
        """(event index, value) of the last change of `name` in `frame` at or before `index`."""
        idx, vals = self.timeline(frame, name)
        k = bisect.bisect_right(idx, index) - 1
        return (idx[k], vals[k]) if k >= 0 else None

    def frame_of(self, fid: int | None) -> Frame | None:
        return self.frames.get(fid) if fid is not None else None


def analyse(trace: Trace, request: RunRequest | None = None) -> Analysis:
    return Analysis(trace, source_of(trace, request))


def source_of(trace: Trace, request: RunRequest | None = None) -> str | None:
    """The module source of a run: the request's, else the file at its path (if readable)."""
    if request is not None and request.source is not None:
        return request.source
    path = (request.path if request is not None else None) or trace.path
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


# ------------------------------------------------------------------------------ forward

@dataclass
class Options:
    detail: int = 3              # call levels narrated step by step below the top call
    loop_values: int = 8         # loop-variable values listed for hidden iterations
    shown_iterations: int = 6    # iterations shown in full per loop (first, last, new shapes)
    repeated_calls: int = 6      # calls listed in a one-line summary of repeated calls
    max_steps: int = 400         # steps before the rest is summarised


class _Forward:
    def __init__(self, trace: Trace, opts: Options, request: RunRequest | None = None):
        self.trace = trace
        self.a = analyse(trace, request)
        self.o = opts
        self.steps: list[Step] = []
        self.lines = trace.lines
        self.cut = False

    # -- step output
    def add(self, depth: int, line: int | None, md: str, plain: str,
            claims: list[Claim] | None = None) -> Step:
        step = Step(len(self.steps) + 1, depth, line, md, list(claims or []), plain)
        self.steps.append(step)
        return step

    def claim(self, kind: str, i: int | None, *, variable=None, value=None, line=None) -> Claim:
        e = self.a.events[i] if i is not None else None
        return Claim(kind, line if line is not None else (e.line if e else None),
                     variable if variable is not None else (e.name if e else None),
                     value if value is not None or e is None else event_value(e), i,
                     e.frame if e else None)

    def ev(self, i: int) -> Event:
        return self.a.events[i]

    # -- top level
    def run(self) -> None:
        root = self.a.root
        t = self.trace
        if root is None:
            return
        frame = self.a.frame_of(root.frame)
        args = self.ev(root.start).args if root.start is not None else t.args
        name = frame.function if frame else t.function
        claims = []
        if root.start is not None:
            claims.append(self.claim("calls", root.start, variable=name, value=args_value(args),
                                     line=frame.def_line if frame else None))
        if args:
            md = f"{_tick(t.function)} is called with " + _join(
                [_tick(f"{n} = {_short(v)}") for n, v in args]) + "."
            plain = f"The function {t.function} is called with " + _join(
                [f"{n} = {_short(v, VALUE_CHARS_PLAIN)}" for n, v in args]) + "."
        else:
            md = f"{_tick(t.function)} is called with no arguments."
            plain = f"The function {t.function} is called with no arguments."
        self.add(0, frame.def_line if frame else None, md, plain, claims)
        self.body(root, 0)

    def body(self, call: Call, depth: int) -> None:
        for node in self.a.structure(call):
            if len(self.steps) >= self.o.max_steps:
                if not self.cut:
                    self.cut = True
                    self.add(depth, None, "… (the rest of the run is not narrated: too many "
                             "steps)", "... (the rest of the run is not narrated).")
                return
            if isinstance(node, LoopRun):
                self.loop(node, depth)
            else:
                self.unit(node, depth)

    # -- loops
    def loop(self, run: LoopRun, depth: int) -> None:
        code = code_text(self.lines.get(run.line))
        claims = []
        if run.count == 0 and run.exit is not None:
            return self.loop_never(run, run.exit, code, depth)
        if run.complete:
            claims.append(Claim("loop_count", run.line, None, encode(run.count),
                                run.first_event, self.ev(run.first_event).frame))
            times = f"{run.count} time" + ("s" if run.count != 1 else "")
            md = f"Line {run.line}: the loop {_tick(code)} runs {times}."
            plain = f"Line {run.line}: the loop {code.rstrip(':')} runs {times}."
        elif run.numbers and run.numbers[0] > 1:
            md = f"Line {run.line}: the loop {_tick(code)} goes on."
            plain = f"Line {run.line}: the loop {code.rstrip(':')} goes on."
        else:
            md = f"Line {run.line}: the loop {_tick(code)} starts."
            plain = f"Line {run.line}: the loop {code.rstrip(':')} starts."
        self.add(depth, run.line, md, plain, claims)
        shown = self._pick(run)
        hidden: list[int] = []
        for k, body in enumerate(run.iterations):
            if k not in shown:
                hidden.append(k)
                continue
            if hidden:
                self._hidden(run, hidden, depth + 1)
                hidden = []
            self.iteration(run, k, body, depth + 1)
            if len(self.steps) >= self.o.max_steps:
                return
        if hidden:
            self._hidden(run, hidden, depth + 1)
        if run.exit is not None:
            self.loop_exit(run, run.exit, depth + 1)

    def loop_never(self, run: LoopRun, u: Unit, code: str, depth: int) -> None:
        calls = [it for it in u.items if isinstance(it, Call)]
        if calls:
            self.unit_calls(u, calls, depth)
        claims = [Claim("loop_count", run.line, None, encode(0), run.first_event, u.frame)]
        br = self.a.branch(u) if run.kind == "while" else None
        if br is not None:
            claims.append(Claim("branch", u.line, branch_header(self.lines.get(u.line))[1],
                                encode(br), u.start, u.frame))
        what = code.rstrip(":")
        if run.kind == "while":
            what = branch_header(self.lines.get(u.line))
            what = what[1] if what else code
        vals_md, vals_pl, vclaims = self._read_values(u, what if run.kind == "while" else
                                                      _iterable(code))
        claims.extend(vclaims)
        if run.kind == "while":
            md = f"Line {run.line}: the loop {_tick(code)} runs 0 times: {_tick(what)} is " \
                 f"false{vals_md}."
            pl = (f"Line {run.line}: with {vals_pl}, {what} is false, so the while loop runs "
                  f"0 times." if vals_pl else
                  f"Line {run.line}: {what} is false, so the while loop runs 0 times.")
        else:
            md = f"Line {run.line}: the loop {_tick(code)} runs 0 times: nothing to iterate " \
                 f"over{vals_md}."
            pl = (f"Line {run.line}: with {vals_pl}, the loop {code.rstrip(':')} runs 0 times."
                  if vals_pl else f"Line {run.line}: the loop {code.rstrip(':')} runs 0 times.")
        other = self._effects(u, skip=set())
        if other[0]:
            md = md.rstrip(".") + "; " + other[0] + "."
            pl = pl.rstrip(".") + "; " + other[1] + "."
            claims.extend(other[2])
        self.add(depth, run.line, md, pl, claims)

    def _signature(self, nodes: list) -> tuple:
        sig = []
        for n in nodes:
            if isinstance(n, LoopRun):
                sig.append(("loop", n.line,
                            frozenset(self._signature(b) for b in n.iterations)))
            else:
                sig.append(n.line)
        return tuple(sig)

    def _pick(self, run: LoopRun) -> set[int]:
        n = run.count
        if n <= 3:
            return set(range(n))
        shown = {0, n - 1}
        seen = {self._signature(run.iterations[0]), self._signature(run.iterations[-1])}
        for k in range(1, n - 1):
            if len(shown) >= self.o.shown_iterations:
                break
            sig = self._signature(run.iterations[k])
            if sig not in seen:
                seen.add(sig)
                shown.add(k)
        return shown

    def iteration(self, run: LoopRun, k: int, body: list, depth: int) -> None:
        head: Unit = body[0]
        number = (run.numbers[0] if run.numbers else 1) + k
        # Calls made by the header (evaluating the iterable, resuming a generator) first.
        calls = [it for it in head.items if isinstance(it, Call)]
        if calls:
            self.unit_calls(head, calls, depth)
        binds = self._events(head, (BIND,))
        claims = [self.claim("binds", i) for i in binds]
        br = self.a.branch(head)
        if binds:
            md_b = _join([_tick(f"{self.ev(i).name} = {_short(self.ev(i).value)}")
                          for i in binds])
            pl_b = _join([f"{self.ev(i).name} = {_short(self.ev(i).value, VALUE_CHARS_PLAIN)}"
                          for i in binds])
            md = f"Iteration {number}: {md_b}."
            plain = f"Iteration {number}: {pl_b}."
        elif br is not None and branch_header(self.lines.get(head.line))[1] != "True":
            cond = branch_header(self.lines.get(head.line))[1]
            claims.append(Claim("branch", head.line, cond, encode(br), head.start, head.frame))
            vals_md, vals_pl, vclaims = self._read_values(head, cond)
            claims.extend(vclaims)
            md = f"Iteration {number}: {_tick(cond)} is {'true' if br else 'false'}{vals_md}."
            plain = f"Iteration {number}: with {vals_pl}, {cond} is " \
                    f"{'true' if br else 'false'}." if vals_pl else \
                f"Iteration {number}: {cond} is {'true' if br else 'false'}."
        else:
            md = f"Iteration {number}:"
            plain = f"Iteration {number}:"
        other = self._effects(head, skip=set(binds))
        if other[0]:
            md = md.rstrip(".:") + "; " + other[0] + "."
            plain = plain.rstrip(".:") + "; " + other[1] + "."
            claims.extend(other[2])
        self.add(depth, head.line, md, plain, claims)
        for node in body[1:]:
            if isinstance(node, LoopRun):
                self.loop(node, depth + 1)
            else:
                self.unit(node, depth + 1)

    def _hidden(self, run: LoopRun, ks: list[int], depth: int) -> None:
        n = len(ks)
        claims: list[Claim] = []
        # Values the loop variables took in the hidden iterations (bounded).
        per_var: dict[str, list[int]] = {}
        for k in ks:
            for i in self._events(run.iterations[k][0], (BIND,)):
                per_var.setdefault(self.ev(i).name, []).append(i)
        parts_md, parts_pl = [], []
        for name, idx in per_var.items():
            m = self.o.loop_values
            pick = idx if len(idx) <= m else idx[: m - 2] + idx[-2:]
            claims.extend(self.claim("binds", i) for i in pick)
            vals = [_short(self.ev(i).value, 40) for i in pick]
            if len(idx) > m:
                vals = vals[: m - 2] + ["…"] + vals[-2:]
            parts_md.append(f"{_tick(name)} takes " + ", ".join(vals))
            parts_pl.append(f"{name} takes " + ", ".join(v.replace("…", "...") for v in vals))
        # What the hidden iterations left in the loop's frame.
        frame = run.iterations[ks[0]][0].frame
        last_ev = self._last_event(run.iterations[ks[-1]])
        first_ev = run.iterations[ks[0]][0].start
        changed: dict[str, int] = {}
        for i in range(first_ev, last_ev + 1):
            e = self.ev(i)
            if e.frame == frame and e.kind in (BIND, MUTATE) and e.name not in per_var:
                changed[e.name] = i
        after_md, after_pl = [], []
        for name, i in list(changed.items())[:4]:
            claims.append(self.claim("binds" if self.ev(i).kind == BIND else "mutates", i))
            after_md.append(_tick(f"{name} = {_short(self.ev(i).value)}"))
            after_pl.append(f"{name} is {_short(self.ev(i).value, VALUE_CHARS_PLAIN)}")
        word = "iteration" if n == 1 else "iterations"
        like = "like this" if n == 1 else "like these"
        md = f"… {n} more {word} {like}"
        plain = f"... {n} more {word} {like}"
        if parts_md:
            md += " (" + "; ".join(parts_md) + ")"
            plain += " (" + "; ".join(parts_pl) + ")"
        if after_md:
            them = "it" if n == 1 else "them"
            md += f"; after {them} " + _join(after_md)
            plain += f"; after {them} " + _join(after_pl)
        self.add(depth, run.line, md + ".", plain + ".", claims)

    def _last_event(self, nodes: list) -> int:
        last = nodes[-1]
        while isinstance(last, LoopRun):
            last = last.exit if last.exit is not None else last.iterations[-1][-1]
        ends = [last.start]
        for it in last.items:
            ends.append(it if isinstance(it, int) else (it.end or it.start or 0))
        return max(ends)

    def loop_exit(self, run: LoopRun, u: Unit, depth: int) -> None:
        calls = [it for it in u.items if isinstance(it, Call)]
        if calls:
            self.unit_calls(u, calls, depth)
        claims = []
        br = self.a.branch(u)
        if run.kind == "while" and br is not None:
            cond = branch_header(self.lines.get(u.line))[1]
            claims.append(Claim("branch", u.line, cond, encode(br), u.start, u.frame))
            vals_md, vals_pl, vclaims = self._read_values(u, cond)
            claims.extend(vclaims)
            md = f"{_tick(cond)} is now false{vals_md}, so the loop ends."
            plain = (f"With {vals_pl}, {cond} is false, so the loop ends." if vals_pl else
                     f"{cond} is false, so the loop ends.")
        elif run.kind == "while":
            md = plain = "The loop ends."
        else:
            md = plain = "There are no more items, so the loop ends."
        other = self._effects(u, skip=set())
        if other[0]:
            md = md.rstrip(".") + "; " + other[0] + "."
            plain = plain.rstrip(".") + "; " + other[1] + "."
            claims.extend(other[2])
        self.add(depth, u.line, md, plain, claims)

    # -- one executed line
    def _events(self, u: Unit, kinds: tuple) -> list[int]:
        return [it for it in u.items if isinstance(it, int) and self.ev(it).kind in kinds]

    def _read_values(self, u: Unit, cond: str) -> tuple[str, str, list[Claim]]:
        """Values of the variables a condition reads, as ` (v = 1)` text plus value claims."""
        parts_md, parts_pl, claims = [], [], []
        for name in names_read(cond)[:3]:
            got = self.a.value_at(u.frame, name, u.start)
            if got is None:
                continue
            v = got[1]
            if v is None or len(render(v)) > 60:
                continue
            parts_md.append(_tick(f"{name} = {render(v)}"))
            parts_pl.append(f"{name} = {render(v)}")
            claims.append(Claim("value", u.line, name, v, u.start, u.frame))
        md = f" ({', '.join(parts_md)})" if parts_md else ""
        return md, _join(parts_pl), claims

    def _effects(self, u: Unit, skip: set, items: list | None = None
                 ) -> tuple[str, str, list[Claim]]:
        """Markdown phrase, plain phrase and claims for the events of a unit (no calls)."""
        md, pl, claims = [], [], []
        binds: dict[str, list[int]] = {}
        for it in (u.items if items is None else items):
            if not isinstance(it, int) or it in skip:
                continue
            e = self.ev(it)
            if e.kind == BIND:
                binds.setdefault(e.name, []).append(it)
        done_binds: set[str] = set()
        for it in (u.items if items is None else items):
            if not isinstance(it, int) or it in skip:
                continue
            e = self.ev(it)
            k = e.kind
            if k == BIND:
                if e.name in done_binds:
                    continue
                done_binds.add(e.name)
                idx = binds[e.name]
                if len(idx) == 1:
                    claims.append(self.claim("binds", it))
                    md.append(f"sets {_tick(e.name)} to {_tick(_short(e.value))}")
                    pl.append(f"{e.name} is set to {_short(e.value, VALUE_CHARS_PLAIN)}")
                else:
                    pick = idx if len(idx) <= 6 else idx[:4] + idx[-2:]
                    claims.extend(self.claim("binds", i) for i in pick)
                    vals = [_short(self.ev(i).value, 40) for i in pick]
                    if len(idx) > 6:
                        vals = vals[:4] + ["…"] + vals[-2:]
                    md.append(f"sets {_tick(e.name)} {len(idx)} times: " + ", ".join(vals))
                    pl.append(f"{e.name} is set {len(idx)} times, finally to "
                              f"{_short(self.ev(idx[-1]).value, VALUE_CHARS_PLAIN)}")
            elif k == MUTATE:
                claims.append(self.claim("mutates", it))
                also = f" (also {', '.join(map(_tick, e.aliases))})" if e.aliases else ""
                also_pl = f" (also {', '.join(e.aliases)})" if e.aliases else ""
                md.append(f"changes {_tick(e.name)} in place to {_tick(_short(e.value))}{also}")
                pl.append(f"{e.name} becomes {_short(e.value, VALUE_CHARS_PLAIN)}{also_pl}")
            elif k == OUTPUT:
                text = e.text or ""
                claims.append(Claim("prints", e.line, e.stream or "stdout",
                                    encode(text), it, e.frame))
                where = "" if (e.stream or "stdout") == "stdout" else " to stderr"
                md.append(f"prints {_tick(repr(text.rstrip(chr(10))))}{where}")
                pl.append(f"it prints {text.rstrip(chr(10))!r}{where}")
            elif k == RAISE:
                claims.append(Claim("raises", e.line, e.name, encode(e.text or ""), it, e.frame))
                msg = f": {e.text}" if e.text else ""
                md.append(f"raises {_tick(f'{e.name}{msg}')}")
                pl.append(f"it raises {e.name}{msg}")
            elif k == CAUGHT:
                claims.append(self.claim("caught", it))
                md.append(f"the {_tick(e.name)} is caught by the handler at line {e.line}")
                pl.append(f"the {e.name} is caught by the handler at line {e.line}")
            elif k == RETURN:
                f = self.a.frame_of(e.frame)
                claims.append(self.claim("returns", it, variable=f.function if f else None))
                if f is not None and f.kind == "generator":
                    md.append(f"{_fn_code(f)} finishes")
                    pl.append(f"{fn_name(f)} finishes")
                else:
                    md.append(f"{_fn_code(f)} returns {_tick(_short(e.value))}")
                    pl.append(f"{fn_name(f)} returns {_short(e.value, VALUE_CHARS_PLAIN)}")
            elif k == YIELD:
                f = self.a.frame_of(e.frame)
                claims.append(self.claim("yields", it, variable=f.function if f else None))
                md.append(f"{_fn_code(f)} yields {_tick(_short(e.value))}")
                pl.append(f"{fn_name(f)} yields {_short(e.value, VALUE_CHARS_PLAIN)}")
            elif k == PROPAGATE:
                f = self.a.frame_of(e.frame)
                claims.append(self.claim("propagates", it))
                md.append(f"{_fn_code(f)} stops: the {_tick(e.name)} propagates to its caller")
                pl.append(f"{fn_name(f)} stops and the {e.name} propagates to its caller")
        return "; ".join(md), ", ".join(pl), claims

    def _unchanged(self, u: Unit) -> tuple[str, str, list[Claim]]:
        """Assignment targets the line left as they were (x += 0 rebinds the same object).

        Only said when the frame went on after the line: the recorder sees a line's changes
        when the next line starts (or the frame ends), so a record that stops right after it
        does not know them."""
        units = self.a.frame_units.get(u.frame, [])
        if u.pos + 1 >= len(units) and not any(
                isinstance(it, int) and self.ev(it).kind in (RETURN, YIELD, PROPAGATE)
                for it in u.items):
            return "", "", []
        tree = _parse_line(code_text(self.lines.get(u.line)))
        if tree is None or len(tree.body) != 1:
            return "", "", []
        node = tree.body[0]
        if isinstance(node, ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        else:
            return "", "", []
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        md, pl, claims = [], [], []
        for name in names:
            got = self.a.value_at(u.frame, name, u.start)
            if got is None:
                continue
            md.append(f"{_tick(name)} stays {_tick(_short(got[1]))}")
            pl.append(f"{name} stays {_short(got[1], VALUE_CHARS_PLAIN)}")
            claims.append(Claim("value", u.line, name, got[1], u.start, u.frame))
        return "; ".join(md), ", ".join(pl), claims

    def unit(self, u: Unit, depth: int) -> None:
        code = code_text(self.lines.get(u.line))
        calls = [it for it in u.items if isinstance(it, Call)]
        prefix_md = f"Line {u.line}: {_tick(code)}" if code else f"Line {u.line}:"
        prefix_pl = f"Line {u.line}: {code.rstrip(':')}" if code else f"Line {u.line}:"
        if calls:
            first = u.items.index(calls[0])
            before = self._effects(u, set(), u.items[:first])
            claims = list(before[2])
            md = prefix_md + (f" {before[0]};" if before[0] else "")
            pl = prefix_pl + (f", {before[1]};" if before[1] else "")
            step = self.add(depth, u.line, md.rstrip(";") + ".", pl.rstrip(";") + ".", claims)
            self.unit_calls(u, calls, depth, step)
            last = max(u.items.index(c) for c in calls)
            after = self._effects(u, set(), u.items[last + 1:])
            if not any(self.ev(i).kind == BIND for i in u.items[last + 1:]
                       if isinstance(i, int)):
                unch = self._unchanged(u)
                after = (("; ".join(filter(None, [after[0], unch[0]]))),
                         (", ".join(filter(None, [after[1], unch[1]]))), after[2] + unch[2])
            if after[0]:
                self.add(depth, u.line, f"Back at line {u.line}: {after[0]}.",
                         f"Back at line {u.line}: {after[1]}.", after[2])
            return
        br = self.a.branch(u)
        eff = self._effects(u, set())
        claims = list(eff[2])
        if br is not None:
            kw, cond = branch_header(self.lines.get(u.line))
            claims.insert(0, Claim("branch", u.line, cond, encode(br), u.start, u.frame))
            vals_md, vals_pl, vclaims = self._read_values(u, cond)
            claims[1:1] = vclaims
            nxt = self.a.frame_units[u.frame][u.pos + 1].line
            word = "true" if br else "false"
            if kw == "while":
                go = "the loop goes on" if br else "the loop ends"
            else:
                go = f"runs line {nxt}" if br else f"goes to line {nxt}"
            md = f"{prefix_md} is {word}{vals_md} → {go}."
            pl = (f"Line {u.line}: with {vals_pl}, the condition {cond} is {word}, so it {go}."
                  if vals_pl else f"Line {u.line}: the condition {cond} is {word}, so it {go}.")
            pl = pl.replace("so it the loop", "so the loop")
            self.add(depth, u.line, md, pl, claims)
            return
        if not eff[0]:
            unch = self._unchanged(u)
            if unch[0]:
                self.add(depth, u.line, f"{prefix_md}: {unch[0]}.", f"{prefix_pl}, so "
                         f"{unch[1]}.", unch[2])
                return
            word = code.split(" ")[0].rstrip(":") if code else ""
            if word in ("break", "continue"):
                what = "leaves the loop" if word == "break" else "goes to the next iteration"
                self.add(depth, u.line, f"{prefix_md} {what}.", f"{prefix_pl} {what}.")
            return                            # nothing observable happened on this line
        joiner = ":" if eff[0].startswith(("`", "the ")) else ""
        self.add(depth, u.line, f"{prefix_md}{joiner} {eff[0]}.", f"{prefix_pl}, so {eff[1]}.",
                 claims)

    # -- calls inside a line
    def unit_calls(self, u: Unit, calls: list[Call], depth: int, step: Step | None = None
                   ) -> None:
        groups: list[list[Call]] = []
        for c in calls:
            if groups and self.a.frame_of(groups[-1][0].frame) is not None and \
                    self._same_fn(groups[-1][0], c):
                groups[-1].append(c)
            else:
                groups.append([c])
        for g in groups:
            f = self.a.frame_of(g[0].frame)
            summarise = depth + 1 > self.o.detail or (
                len(g) > 1 and (f is not None and f.kind == "lambda" or
                                all(self._small(c) for c in g)))
            if summarise:
                self.call_summary(u, g, depth, step)
                step = None
                continue
            for c in g:
                self.call_full(u, c, depth, step)
                step = None

    def _same_fn(self, a: Call, b: Call) -> bool:
        fa, fb = self.a.frame_of(a.frame), self.a.frame_of(b.frame)
        return fa is not None and fb is not None and fa.function == fb.function \
            and fa.def_line == fb.def_line

    def _small(self, c: Call) -> bool:
        return len(c.units) <= 2 and not any(isinstance(it, Call) for u in c.units
                                              for it in u.items)

    def _call_words(self, c: Call, limit: int) -> tuple[str, str, list[Claim]]:
        f = self.a.frame_of(c.frame)
        name = fn_name(f)
        e = self.ev(c.start) if c.start is not None else None
        claims = []
        if e is not None and not c.resumed:
            claims.append(self.claim("calls", c.start, variable=f.function if f else None,
                                     value=args_value(e.args),
                                     line=f.def_line if f else None))
        if c.resumed:
            return (f"resumes {_fn_code(f)}", f"{name} resumes", claims)
        args = e.args if e is not None else []
        shown = name if name != "the lambda" else "lambda"
        return (_tick(f"{shown}({_args_text(args, limit)})"),
                f"{shown}({_args_text(args, VALUE_CHARS_PLAIN)})", claims)

    def call_full(self, u: Unit, c: Call, depth: int, step: Step | None) -> None:
        md_call, pl_call, claims = self._call_words(c, VALUE_CHARS_MD)
        if step is not None:       # said as part of the line's own step
            step.text = step.text.rstrip(".") + (f" → {md_call}." if c.resumed
                                                 else f" → calls {md_call}.")
            step.plain = step.plain.rstrip(".") + (f"; {pl_call}." if c.resumed
                                                   else f"; it calls {pl_call}.")
            step.claims.extend(claims)
        elif c.resumed:
            self.add(depth, u.line, f"Line {u.line}: {md_call}.", f"Line {u.line}: {pl_call}.",
                     claims)
        else:
            self.add(depth, u.line, f"Calls {md_call} from line {u.line}.",
                     f"{pl_call} is called.", claims)
        self.body(c, depth + 1)

    def call_summary(self, u: Unit, g: list[Call], depth: int, step: Step | None) -> None:
        f = self.a.frame_of(g[0].frame)
        claims: list[Claim] = []
        m = self.o.repeated_calls
        pick = g if len(g) <= m + 2 else g[:m] + g[-2:]
        md_parts, pl_parts = [], []
        for c in pick:
            e = self.ev(c.start) if c.start is not None else None
            end = self.ev(c.end) if c.end is not None else None
            if e is not None and not c.resumed:
                claims.append(self.claim("calls", c.start, variable=f.function if f else None,
                                         value=args_value(e.args),
                                         line=f.def_line if f else None))
            args_md = _args_text(e.args if e else [], 40, " = ") if e else ""
            if end is None:
                out_md = out_pl = "(no result recorded)"
            elif end.kind == RETURN:
                claims.append(self.claim("returns", c.end, variable=f.function if f else None))
                out_md = _tick(_short(end.value, 40))
                out_pl = _short(end.value, 60)
            elif end.kind == YIELD:
                claims.append(self.claim("yields", c.end, variable=f.function if f else None))
                out_md = "yields " + _tick(_short(end.value, 40))
                out_pl = "yields " + _short(end.value, 60)
            else:
                claims.append(self.claim("propagates", c.end))
                out_md = out_pl = f"raises {end.name}"
            md_parts.append(f"{_tick(args_md)} → {out_md}" if args_md else out_md)
            pl_parts.append(f"{args_md} gives {out_pl}" if args_md else out_pl)
        if len(g) > len(pick):
            md_parts.insert(m, "…")
            pl_parts.insert(m, "...")
        name = fn_name(f)
        who = name if name == "the lambda" else _tick(name)
        if len(g) == 1:
            md = f"calls {who}: {md_parts[0]}"
            pl = f"it calls {name}: {pl_parts[0]}"
        else:
            md = f"calls {who} {len(g)} times: " + ", ".join(md_parts)
            pl = f"it calls {name} {len(g)} times: " + "; ".join(pl_parts)
        if step is not None:
            step.text = step.text.rstrip(".") + " " + md + "."
            step.plain = step.plain.rstrip(".") + "; " + pl + "."
            step.claims.extend(claims)
        else:
            self.add(depth, u.line, f"Line {u.line}: {md}.", f"Line {u.line}: {pl}.", claims)

    # -- ending
    def conclusion(self) -> tuple[str, str, list[Claim]]:
        t = self.trace
        notes_md, notes_pl = [], []
        if t.truncated:
            notes_md.append(f"(The trace stops after {len(t.events)} recorded events; later "
                            "steps ran but were not recorded.)")
            notes_pl.append("(Later steps were not recorded.)")
        if t.status == "returned":
            claims = [Claim("result", None, t.function, t.result, None, None)]
            md = f"So {_tick(t.call)} returns {_tick(_short(t.result, 400))}."
            pl = f"So the function returns {_short(t.result, 100_000)}."
        elif t.status == "raised" and t.exception is not None:
            ex = t.exception
            claims = [Claim("exception", ex.line, ex.type, encode(ex.message), None, None)]
            msg = f": {ex.message}" if ex.message else ""
            at = f" at line {ex.line}" if ex.line else ""
            md = f"So {_tick(t.call)} raises {_tick(ex.type + msg)} (raised{at})."
            pl = f"So the function raises {ex.type}{msg}."
        else:
            err = t.error
            claims = [Claim("error", err.line if err else None, err.kind if err else None,
                            None, None, None)]
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
    from .narrate_backward import backward
    return backward(trace, request)


# ------------------------------------------------------------------------------ rendering

def _verdict_map(narrative: Narrative, verdicts) -> dict[int, object] | None:
    """claim id -> verdict, from a Verification or a list of verdicts (in claim order)."""
    if verdicts is None:
        return None
    vlist = list(getattr(verdicts, "verdicts", verdicts))
    claims = narrative.claims
    mine = {id(c) for c in claims}
    if all(id(getattr(v, "claim", None)) in mine for v in vlist):
        return {id(v.claim): v for v in vlist}
    return {id(c): v for c, v in zip(claims, vlist)}


def _mark(claims: list[Claim], by_claim: dict[int, object]) -> str:
    """" ✓" when every claim checked ok, else " ✗ (…)" saying what is really true."""
    vs = [by_claim.get(id(c)) for c in claims]
    if all(getattr(v, "verdict", None) == "ok" for v in vs):
        return " ✓"
    bits = []
    for c, v in zip(claims, vs):
        verdict = getattr(v, "verdict", None)
        if verdict == "ok":
            continue
        if verdict == "wrong":
            actual = getattr(v, "actual", None)
            who = f"{c.variable} " if c.variable and c.kind in ("binds", "mutates", "value") \
                else ""
            bits.append(f"really {who}{_tick(_short(actual))}" if actual is not None else
                        getattr(v, "note", "") or "wrong")
        else:
            note = getattr(v, "note", "") if v is not None else ""
            bits.append("unverifiable" + (f": {note}" if note else "") if v is not None
                        else "not checked")
    return " ✗ (" + "; ".join(dict.fromkeys(bits)) + ")"


def to_markdown(narrative: Narrative, verdicts=None) -> str:
    """Markdown: a header line, one bullet per step (nested by depth), the conclusion.

    `verdicts` is a `Verification` (or its list of claim verdicts): steps get ✓ when all
    their claims check, ✗ with the true values when one does not. Without verdicts nothing
    is marked; a narrative is called verified only when every one of its claims is ok.
    """
    by_claim = _verdict_map(narrative, verdicts)
    claims = narrative.claims
    what = "Backward explanation of" if narrative.direction == "backward" else "Run of"
    head = f"**{what} {_tick(narrative.trace.call)}**"
    if by_claim is not None:
        n_ok = sum(getattr(by_claim.get(id(c)), "verdict", None) == "ok" for c in claims)
        ok = bool(claims) and n_ok == len(claims) and \
            getattr(verdicts, "verified", True) is not False
        head += (f" — ✓ verified: {n_ok}/{len(claims)} claims checked against a fresh run"
                 if ok else f" — ✗ NOT verified: {n_ok}/{len(claims)} claims hold in a "
                 "fresh run")
    out = [head, ""]
    for step in narrative.steps:
        mark = _mark(step.claims, by_claim) if by_claim is not None and step.claims else ""
        out.append(f"{'  ' * step.depth}- **{step.index}.** {step.text}{mark}")
    out.append("")
    concl = narrative.conclusion
    if by_claim is not None and narrative.conclusion_claims:
        concl += _mark(narrative.conclusion_claims, by_claim)
    out.append(concl)
    return "\n".join(out) + "\n"


def to_plain(narrative: Narrative) -> str:
    """Plain text, CruxEval chain-of-thought style: numbered steps, then the conclusion."""
    lines = [narrative.intro] if narrative.intro else []
    for step in narrative.steps:
        lines.append(f"{'   ' * step.depth}{step.index}. {step.plain or step.text}")
    lines.append(narrative.plain_conclusion or narrative.conclusion)
    return "\n".join(lines)


def forward_text(trace: Trace) -> str:
    return to_plain(narrate(trace))


def backward_text(trace: Trace) -> str:
    return to_plain(narrate_backward(trace))
