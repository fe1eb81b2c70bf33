"""The recorder: the hot path shared by both tracing backends.

A backend (settrace on 3.11, sys.monitoring on 3.12+) turns interpreter events into calls on a
`FrameState`: `line`, `returned`, `yielded`, `raised`, `unwound`. The state diffs the frame's
locals against its last snapshot to find bindings and in-place mutations, and appends compact
tuples to `Recorder.events`; turning those into schema events happens once, at the end
(`Recorder.export`), outside the hot path.

Limits live here too because they must hold whatever user code does: the step cap and the soft
deadline are checked on every line, and hitting one calls `on_limit`, which writes the partial
trace and leaves the process with os._exit (no exception is raised, so `except BaseException`
in user code cannot swallow it).
"""

from __future__ import annotations

import time
import types
from operator import is_

from .schema import BIND, CALL, CAUGHT, LINE, MUTATE, PROPAGATE, RAISE, RETURN, YIELD
from .values import TRACE_LIMITS, encode

# Objects of these types never change in place: identity equality means value equality.
_IMMUTABLE = frozenset({int, float, str, bool, type(None), bytes, complex, range, type,
                        types.FunctionType, types.BuiltinFunctionType, types.ModuleType})
_SCALARS = frozenset({int, float, str, bool, type(None), bytes, complex})
_FLAT_CONTAINERS = (list, dict, set, bytearray)


class Lazy(tuple):
    """A value to encode at export time: (factory, data). Safe because `data` is immutable
    (a scalar, a tuple of scalars, or an item snapshot of a flat container)."""
    __slots__ = ()

    def encode(self) -> dict:
        factory, data = self
        return encode(data if factory is None else factory(data), TRACE_LIMITS)


_REBUILD = {list: list, set: set, bytearray: bytearray,
            dict: lambda kv: dict(zip(kv[0], kv[1]))}
_is_scalar = _SCALARS.__contains__


def snapshot_entry(obj) -> tuple:
    """(object, value, kind, snapshot): how a variable's object is remembered.

    kind 0: never changes in place (scalars, tuples of scalars); `value` is the object itself.
    kind 1: a flat container of scalars; `snapshot` holds its items, compared by identity
            (exact, in C) on later lines; `value` is Lazy, encoded only at export.
    kind 2: anything else; `value` is its encoding, compared on later lines.
    Nothing is encoded on the hot path for kinds 0 and 1.
    """
    tp = type(obj)
    if tp in _IMMUTABLE:
        return obj, obj, 0, None
    if tp is list or tp is set:
        if all(map(_is_scalar, map(type, obj))):
            snap = tuple(obj)
            return obj, Lazy((_REBUILD[tp], snap)), 1, snap
    elif tp is dict:
        if all(map(_is_scalar, map(type, obj))) and all(map(_is_scalar, map(type, obj.values()))):
            snap = (tuple(obj), tuple(obj.values()))
            return obj, Lazy((_REBUILD[tp], snap)), 1, snap
    elif tp is tuple or tp is frozenset:
        if all(map(_is_scalar, map(type, obj))):
            return obj, obj, 0, None
    elif tp is bytearray:
        snap = bytes(obj)
        return obj, Lazy((bytearray, snap)), 1, snap
    return obj, encode(obj, TRACE_LIMITS), 2, None


def export_value(value):
    """The encoding of a value held in an event: encoded, Lazy, or a raw immutable object."""
    tp = type(value)
    if tp is dict:
        return value
    if tp is Lazy:
        return value.encode()
    return encode(value, TRACE_LIMITS)


def unchanged(obj, snapshot) -> bool:
    """True only if the flat container `obj` still holds exactly the snapshot's items."""
    tp = type(obj)
    if tp is dict:
        keys, values = snapshot
        return len(obj) == len(keys) and all(map(is_, obj, keys)) and \
            all(map(is_, obj.values(), values))
    if tp is bytearray:
        return obj == snapshot
    return len(obj) == len(snapshot) and all(map(is_, obj, snapshot))


# Code objects that are traced only through the functions they call, never as frames of
# their own: 3.12+ inlines comprehensions, so 3.11 skips them too (one schema for both).
SKIPPED_CODE_NAMES = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})


class Recorder:
    def __init__(self, filename: str, *, max_steps: int, max_events: int, max_depth: int,
                 deadline: float, on_limit, hidden_names: frozenset = frozenset(),
                 for_targets: dict | None = None):
        self.filename = filename
        self.max_steps = max_steps
        self.max_events = max_events
        self.max_depth = max_depth
        self.deadline = deadline          # time.monotonic() value: soft deadline
        self.on_limit = on_limit          # on_limit(kind) never returns
        self.hidden = hidden_names        # comprehension variables (inlined on 3.12+)
        self.for_targets = for_targets or {}   # header line -> (names, body line)
        self.events: list[tuple] = []
        self.frames: list[dict] = []
        self.states: dict[int, FrameState] = {}   # id(frame) -> state, live frames only
        self.steps = 0
        self.line_counts: dict[int, int] = {}
        self.recording = True
        self.refs: dict[int, int] = {}
        self._keep: list = []             # objects holding a ref number stay alive (ids unique)

    # ------------------------------------------------------------------ frames
    def enter(self, frame) -> "FrameState":
        """A traced frame starts, or a generator frame resumes."""
        state = self.states.get(id(frame))
        if state is not None and state.frame is frame:
            if state.recording:
                self.add((CALL, state.id, frame.f_lineno, frame.f_code.co_qualname, None, None,
                          {"resumed": True}))
            return state
        parent, call_line = self._parent_of(frame)
        depth = 0 if parent is None else parent.depth + 1
        code = frame.f_code
        fid = len(self.frames)
        kind = ("generator" if code.co_flags & 0x20 else
                "lambda" if code.co_name == "<lambda>" else "function")
        recording = self.recording and depth <= self.max_depth
        state = FrameState(self, fid, frame, depth, recording)
        self.states[id(frame)] = state
        if recording:
            self.frames.append({"id": fid, "function": code.co_qualname,
                                "parent": None if parent is None else parent.id,
                                "depth": depth, "def_line": code.co_firstlineno,
                                "call_line": call_line, "kind": kind})
            args = state.snapshot_args(frame)
            self.add((CALL, fid, code.co_firstlineno, code.co_qualname, None, None,
                      {"args": args}))
        else:
            self.frames.append(None)   # keeps ids aligned; dropped at export
        return state

    def _parent_of(self, frame):
        f = frame.f_back
        while f is not None:
            st = self.states.get(id(f))
            if st is not None and st.frame is f:
                return st, f.f_lineno
            f = f.f_back
        return None, None

    def leave(self, frame) -> None:
        self.states.pop(id(frame), None)

    # ------------------------------------------------------------------ events
    def add(self, ev: tuple) -> None:
        self.events.append(ev)
        if len(self.events) >= self.max_events:
            self.add_limit_reached()

    def add_limit_reached(self) -> None:
        self.recording = False
        for st in self.states.values():
            st.recording = False

    def ref(self, obj) -> int | None:
        if type(obj) in _IMMUTABLE:
            return None
        r = self.refs.get(id(obj))
        if r is None:
            r = self.refs[id(obj)] = len(self.refs) + 1
            self._keep.append(obj)
        return r

    def check_limits(self) -> None:
        if self.steps > self.max_steps:
            self.on_limit("step_limit")
        if time.monotonic() > self.deadline:
            self.on_limit("timeout")

    def current_position(self, frame) -> tuple[int | None, int | None]:
        """(frame id, line) of the innermost recorded frame at or above `frame`."""
        while frame is not None:
            st = self.states.get(id(frame))
            if st is not None and st.frame is frame and st.recording:
                return st.id, frame.f_lineno
            frame = frame.f_back
        return None, None


class FrameState:
    __slots__ = ("rec", "id", "frame", "depth", "recording", "snap", "prev_line", "pending_exc")

    def __init__(self, rec: Recorder, fid: int, frame, depth: int, recording: bool):
        self.rec = rec
        self.id = fid
        self.frame = frame
        self.depth = depth
        self.recording = recording
        self.snap: dict[str, tuple] = {}     # name -> (object, encoding, probe kind, snapshot)
        self.prev_line = None
        self.pending_exc = None              # (type name, line) raised, not yet caught

    def snapshot_args(self, frame) -> list:
        code = frame.f_code
        n = code.co_argcount + code.co_kwonlyargcount
        n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)   # *args, **kwargs
        loc = frame.f_locals
        out = []
        for name in code.co_varnames[:n]:
            if name in loc:
                obj = loc[name]
                entry = snapshot_entry(obj)
                self.snap[name] = entry
                out.append([name, entry[1]])
        return out

    # The hot path: one call per executed line of traced code.
    def line(self, frame, lineno: int) -> None:
        rec = self.rec
        rec.steps += 1
        counts = rec.line_counts
        counts[lineno] = counts.get(lineno, 0) + 1
        if rec.steps > rec.max_steps or not rec.steps & 1023:
            rec.check_limits()
        if lineno == self.prev_line or not self.recording:
            self.prev_line = lineno
            return
        if self.pending_exc is not None:
            rec.add((CAUGHT, self.id, lineno, self.pending_exc[0]))
            self.pending_exc = None
        if self.prev_line is not None:
            self.diff(frame, self.prev_line, lineno)
        events = rec.events
        events.append((LINE, self.id, lineno))
        if len(events) >= rec.max_events:
            rec.add_limit_reached()
        self.prev_line = lineno

    def diff(self, frame, line: int, arriving: int | None = None) -> None:
        """Record what `line` (just executed) changed; `arriving` is the line about to run."""
        snap = self.snap
        rec = self.rec
        hidden = rec.hidden
        target = rec.for_targets.get(line)
        rebound = target[0] if target is not None and target[1] == arriving else ()
        for name, obj in frame.f_locals.items():
            old = snap.get(name)
            if old is not None and old[0] is obj:
                if name in rebound:   # a loop variable given the same object again
                    rec.add((BIND, self.id, line, name, old[1], rec.ref(obj)))
                elif old[2] and not (old[2] == 1 and unchanged(obj, old[3])):
                    entry = snapshot_entry(obj)
                    snap[name] = entry
                    if entry[2] != 2 or entry[1] != old[1]:
                        enc = entry[1]
                        aliases = [n for n, o in snap.items() if o[0] is obj and n != name]
                        for n in aliases:       # one event for one change, whatever the names
                            snap[n] = entry
                        rec.add((MUTATE, self.id, line, name, enc, rec.ref(obj),
                                 {"aliases": aliases} if aliases else None))
                continue
            if name in hidden or name[:1] == ".":
                continue
            entry = snapshot_entry(obj)
            snap[name] = entry
            rec.add((BIND, self.id, line, name, entry[1],
                     None if entry[2] == 0 else rec.ref(obj)))

    # Frame exits and exceptions: rarer, so clarity over speed.
    def returned(self, frame, value, lineno: int) -> None:
        rec = self.rec
        if self.recording:
            self.diff(frame, lineno)
            if self.pending_exc is not None:
                rec.add((PROPAGATE, self.id, lineno, self.pending_exc[0]))
            else:
                rec.add((RETURN, self.id, lineno, None, encode(value, TRACE_LIMITS)))
        rec.leave(frame)

    def yielded(self, frame, value, lineno: int) -> None:
        if self.recording:
            self.diff(frame, lineno)
            self.rec.add((YIELD, self.id, lineno, None, encode(value, TRACE_LIMITS)))
        self.prev_line = None

    def raised(self, frame, exc: BaseException, lineno: int, here: bool) -> None:
        """An exception is passing through this frame (`here`: raised by this frame's code)."""
        name = type(exc).__name__
        if self.recording and here:
            self.diff(frame, lineno)
            try:
                msg = str(exc) if type(exc).__str__ is BaseException.__str__ else ""
            except Exception:
                msg = ""
            self.rec.add((RAISE, self.id, lineno, name, None, None, {"text": msg[:500]}))
        self.pending_exc = (name, lineno)

    def unwound(self, frame, lineno: int) -> None:
        """The frame ends because of an exception it did not catch."""
        if self.recording:
            name = self.pending_exc[0] if self.pending_exc else "Exception"
            self.rec.add((PROPAGATE, self.id, lineno, name))
        self.rec.leave(frame)


# ---------------------------------------------------------------------- settrace backend

class SettraceBackend:
    """sys.settrace: one global function decides per frame, a bound method traces it."""
    name = "settrace"

    def __init__(self, rec: Recorder, user_codes: set):
        self.rec = rec
        self.codes = user_codes
        import dis
        self._yield_op = dis.opmap["YIELD_VALUE"]

    def install(self, sys_settrace) -> None:
        self._settrace = sys_settrace
        sys_settrace(self._global)

    def uninstall(self) -> None:
        self._settrace(None)

    def _global(self, frame, event, arg):
        code = frame.f_code
        if code not in self.codes:
            return None
        if code.co_name in SKIPPED_CODE_NAMES:
            return self._count_only
        state = self.rec.enter(frame)
        return _LocalTracer(self, state).trace

    def _count_only(self, frame, event, arg):
        if event == "line":
            rec = self.rec
            rec.steps += 1
            if rec.steps > rec.max_steps or not rec.steps & 1023:
                rec.check_limits()
        return self._count_only


class _LocalTracer:
    __slots__ = ("backend", "state", "trace")

    def __init__(self, backend: SettraceBackend, state: FrameState):
        self.backend = backend
        self.state = state
        self.trace = self._trace

    def _trace(self, frame, event, arg):
        if event == "line":
            self.state.line(frame, frame.f_lineno)
        elif event == "return":
            st = self.state
            if st.pending_exc is not None and arg is None:
                st.unwound(frame, frame.f_lineno)
            elif frame.f_code.co_code[frame.f_lasti] == self.backend._yield_op:
                st.yielded(frame, arg, frame.f_lineno)
            else:
                st.returned(frame, arg, frame.f_lineno)
        elif event == "exception":
            tb = arg[2]
            here = tb is not None and tb.tb_next is None
            self.state.raised(frame, arg[1], frame.f_lineno, here)
        return self.trace
