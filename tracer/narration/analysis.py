"""Trace analysis shared by the narrators and the verifiers: the run as a tree of calls and
executed lines, loops split into iterations, which way each branch went, and the timeline of
every variable's values.

    a = analyse(trace, request)          # request (optional): for the module source
    a.root                               # the top Call: .units (executed lines), .end
    a.roots                              # every top-level Call (a class call: __new__, __init__)
    a.structure(call)                    # its units with loops found (Unit | LoopRun)
    a.branch(unit)                       # True / False / None (not a branch, or unknown)
    a.value_at(frame, "x", event_index)  # (index of the change, encoded value) or None
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field

from ..schema import (BIND, CALL, LINE, LOOP, MUTATE, OUTPUT, OUTPUT_CUT_MARK, PROPAGATE, RAISE,
                      RETURN, YIELD, Event, Frame, RunRequest, Trace)
from .source_lines import branch_header, indent_of

__all__ = ["Analysis", "analyse", "source_of", "cut_print", "Unit", "Call", "LoopRun",
           "fn_name", "event_value", "args_value", "NONE_VALUE"]


def fn_name(frame: Frame | None) -> str:
    if frame is None:
        return "?"
    name = frame.function.split(".")[-1]
    return "the lambda" if name == "<lambda>" else name


NONE_VALUE = {"t": "none"}


def event_value(e: Event) -> dict | None:
    """An event's value; a binding to None may come without one (the recorder leaves None out)."""
    if e.value is None and e.kind in (BIND, MUTATE, RETURN, YIELD):
        return NONE_VALUE
    return e.value


def bound_value(e: Event) -> dict:
    """event_value of a BIND, MUTATE, RETURN or YIELD event, which always has one."""
    return NONE_VALUE if e.value is None else e.value


def args_value(args: list | None) -> dict:
    """Call arguments as one encoded value (a dict name → value), for `calls` claims."""
    return {"t": "dict", "items": [[{"t": "str", "v": n}, v] for n, v in (args or [])]}


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
        # The record stops before the run did (a cap, a limit, a failure): what comes after
        # the last recorded event is unknown, so nothing is inferred from its absence.
        self.cut = trace.truncated or trace.status == "error"
        self.cut_print = cut_print(trace)
        self.loops = {lp.line: lp for lp in trace.loops}
        self.frame_units: dict[int, list[Unit]] = {}
        self.calls: list[Call] = []
        self.roots: list[Call] = []           # calls opened with an empty stack, in order
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
        """The tree of calls; returns the first top-level call. There can be more than one:
        calling a class runs its `__new__`, then its `__init__`, both from the class call."""
        root = self.roots
        stack: list[Call] = []

        def open_call(call: Call, e: Event, i: int) -> None:
            self.calls.append(call)
            if stack:
                self._unit_of(stack[-1], e, i).items.append(call)
            else:
                root.append(call)
            stack.append(call)

        for i, e in enumerate(self.events):
            if e.kind == CALL:
                open_call(Call(e.frame, i, resumed=bool(e.resumed)), e, i)
                continue
            if not stack or stack[-1].frame != e.frame:
                if any(c.frame == e.frame for c in stack):
                    while stack[-1].frame != e.frame:
                        stack.pop()
                else:   # an event of a frame we never saw start: treat as its own call
                    open_call(Call(e.frame, None), e, i)
            call = stack[-1]
            if e.kind == LINE:
                unit = Unit(e.frame, e.line, i, [i])
                self._add_unit(call, unit)
                continue
            self._unit_of(call, e, i).items.append(i)
            if e.kind in (RETURN, YIELD, PROPAGATE):
                call.end = i
                stack.pop()
        return root[0] if root else None

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

    def _open(self, u: Unit) -> bool:
        """Is `u` where the record of a cut run stops for its frame? Then what it led to (the
        next line, a new iteration) is not in the trace: its absence proves nothing."""
        if not self.cut:
            return False
        units = self.frame_units.get(u.frame, [])
        if u.pos + 1 < len(units):
            return False
        call = next((c for c in reversed(self.calls) if c.frame == u.frame), None)
        return call is None or call.end is None

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
                    if self._open(u):         # ... or the record stops before we know
                        run.complete = False
                    else:
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
        deeper = indent_of(lines.get(nxt)) > indent_of(lines.get(unit.line))
        if not deeper:
            return False
        return True if nxt == unit.line + 1 else None

    # -- values
    def _build_timelines(self) -> dict[int, dict[str, tuple[list[int], list[dict]]]]:
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
                put(e.frame, e.name, i, bound_value(e))
                for alias in e.aliases or []:
                    put(e.frame, alias, i, bound_value(e))
        self._timelines = tl
        return tl

    def timeline(self, frame: int, name: str) -> tuple[list[int], list[dict]]:
        tl = self._timelines if self._timelines is not None else self._build_timelines()
        return tl.get(frame, {}).get(name, ([], []))

    def variables(self, frame: int) -> list[str]:
        tl = self._timelines if self._timelines is not None else self._build_timelines()
        return list(tl.get(frame, {}))

    def value_at(self, frame: int, name: str, index: int) -> tuple[int, dict] | None:
        """(event index, value) of the last change of `name` in `frame` at or before `index`."""
        idx, vals = self.timeline(frame, name)
        k = bisect.bisect_right(idx, index) - 1
        return (idx[k], vals[k]) if k >= 0 else None

    def frame_of(self, fid: int | None) -> Frame | None:
        return self.frames.get(fid) if fid is not None else None

    def frame_at(self, fid: int) -> Frame:
        """The frame of an event or call of this trace (every one is recorded)."""
        return self.frames[fid]


def analyse(trace: Trace, request: RunRequest | None = None) -> Analysis:
    return Analysis(trace, source_of(trace, request))


def cut_print(trace: Trace) -> int | None:
    """Index of the OUTPUT event that the output cap may have cut short (the last one, when
    the captured output was truncated): its text is a prefix of what was printed."""
    if not trace.stdout.endswith(OUTPUT_CUT_MARK):
        return None
    for i in range(len(trace.events) - 1, -1, -1):
        if trace.events[i].kind == OUTPUT:
            return i
    return None


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

