"""The recorder: the hot path shared by both tracing backends.

A backend (settrace on 3.11, sys.monitoring on 3.12+) turns interpreter events into calls on a
`FrameState`. The hot path does as little as it can, in the style of coverage.py's tracers:

* a line event appends the bare line number (an int) to `Recorder.events`; which frame it
  belongs to is said once, by a frame-switch marker (a negative int), when the running frame
  changes;
* bindings are found by comparing the tuple of the frame's local values with the previous
  one by identity, in C (`map(is_, ...)`); only when something changed does Python code look
  at names;
* in-place mutations are found by comparing each mutable local with a bounded identity
  snapshot of what its encoding can show (the first `items` elements, the length, the first
  `string` bytes of a bytearray), again in C; only values that cannot be snapshotted that way
  (user objects, nested mutable containers) are encoded on the hot path;
* nothing is encoded, diffed against encodings, numbered or turned into JSON here: values are
  kept as the objects themselves (immutable) or as snapshots, and `trace_export` does all of
  that once, after the call.

Limits live here too because they must hold whatever user code does. The step cap and the soft
deadline are checked every `CHECK_EVERY` steps, and once a run is longer than that a watchdog
(`Watchdog`, a CPU-time timer) checks the deadline between any two bytecodes, so CPU-heavy slow
lines cannot outlast it, and re-installs the trace function if the interpreter dropped it (3.11
drops it when the callback cannot even start, e.g. at the recursion limit). Hitting a limit calls
`on_limit`, which writes the partial trace and leaves the process with os._exit (no exception
is raised, so `except BaseException` in user code cannot swallow it). Every callback catches
BaseException: an error of ours (MemoryError, RecursionError) never reaches user code and
never switches tracing off.

One module of over 500 lines on purpose: the trace callbacks, the limits and the watchdog
share the state of the hot path, which every recorded event goes through.
"""

from __future__ import annotations

import dis
import signal
import time
import types
from collections.abc import Callable
from typing import Any
from itertools import chain, compress, count, islice, repeat
from operator import is_, is_not

from ..schema import BIND, CALL, CAUGHT, MUTATE, PROPAGATE, RAISE, RETURN, YIELD
from .signals import passes
from ..values import TRACE_LIMITS, encode

CHECK_EVERY = 16            # steps between two checks of the step cap and the soft deadline
WATCHDOG_S = 0.02           # period of the watchdog timer, once a run passed CHECK_EVERY steps
_ITEMS = TRACE_LIMITS.items     # what an encoding shows of a container ...
_BYTES = TRACE_LIMITS.string    # ... and of a bytearray: snapshots keep exactly that much

# Objects of these types never change in place: identity equality means value equality.
_IMMUTABLE = frozenset({int, float, str, bool, type(None), bytes, complex, range, type,
                        types.FunctionType, types.BuiltinFunctionType, types.ModuleType})
_SCALARS = frozenset({int, float, str, bool, type(None), bytes, complex})
_is_scalar = _SCALARS.__contains__

_NOTHING: frozenset[int] = frozenset()
_GONE = object()

# Snapshot kinds (see `snapshot`).
K_LIST, K_SET, K_DICT, K_BYTES, K_ENC = 1, 2, 3, 4, 5


class Snap(tuple):
    """A flat container's value at some moment, for export: (kind, length, items[, values]).
    Items are immutable (scalars or tuples of scalars), so keeping them is keeping the value."""
    __slots__ = ()


_SCALARS_AND_TUPLE = _SCALARS | {tuple}
_SORTABLE = ({int}, {str})       # sets the encoder sorts whole, whatever their size
_is_tuple = tuple.__instancecheck__


def _all_frozen(items) -> bool:
    """All scalars or tuples of scalars (checked in C, whatever the number of items)."""
    if all(map(_is_scalar, map(type, items))):
        return True
    if not set(map(type, items)) <= _SCALARS_AND_TUPLE:
        return False
    return all(map(_is_scalar, map(type, chain.from_iterable(filter(_is_tuple, items)))))


def snapshot(obj):
    """(token, watch entry) for the object a variable names.

    token: what export encodes: the object itself if it never changes in place, a `Snap` of a
    flat container, or an encoding (a dict) of anything else.
    watch entry: None for immutable objects, else [obj, kind, length, items, values] that
    `changed` compares by identity on later lines (K_ENC: the encoding, compared by value).
    """
    tp = type(obj)
    if tp in _IMMUTABLE:
        return obj, None
    if tp is tuple or tp is frozenset:
        if _all_frozen(obj):
            return obj, None
    elif tp is list or tp is set:
        n = len(obj)
        # A set's encoding shows its smallest items, wherever they are: all of it is kept.
        items = tuple(obj) if (n <= _ITEMS or tp is set) else tuple(islice(obj, _ITEMS))
        # (A big set of mixed types is encoded from its first items in its own iteration
        # order, which a rebuilt set would not have: those are encoded here, below.)
        if _all_frozen(items) and (tp is list or n <= 10 * _ITEMS
                                   or set(map(type, items)) in _SORTABLE):
            kind = K_LIST if tp is list else K_SET
            return Snap((kind, n, items)), [obj, kind, n, items, None]
    elif tp is dict:
        n = len(obj)
        if n <= _ITEMS:
            keys, vals = tuple(obj), tuple(obj.values())
        else:
            keys, vals = tuple(islice(obj, _ITEMS)), tuple(islice(obj.values(), _ITEMS))
        if _all_frozen(keys) and _all_frozen(vals):
            return Snap((K_DICT, n, keys, vals)), [obj, K_DICT, n, keys, vals]
    elif tp is bytearray:
        n = len(obj)
        head = bytes(obj[:_BYTES]) if n > _BYTES else bytes(obj)
        return Snap((K_BYTES, n, head)), [obj, K_BYTES, n, head, None]
    enc = encode(obj, TRACE_LIMITS)
    return enc, [obj, K_ENC, 0, enc, None]


def changed(entry) -> bool:
    """Has the watched object changed since its snapshot? (False positives are harmless:
    export drops a mutation whose encoding equals the previous one.)"""
    obj, kind, n, items, vals = entry
    if kind == K_LIST or kind == K_SET:
        return len(obj) != n or not all(map(is_, obj, items))
    if kind == K_DICT:
        return len(obj) != n or not all(map(is_, obj, items)) or \
            not all(map(is_, obj.values(), vals))
    if kind == K_BYTES:
        return len(obj) != n or not obj.startswith(items)
    return encode(obj, TRACE_LIMITS) != items


def value_token(obj):
    """What an event keeps of a value (a returned or yielded value, an argument)."""
    return obj if type(obj) in _IMMUTABLE else snapshot(obj)[0]


# Code objects that are traced only through the functions they call, never as frames of
# their own: 3.12+ inlines comprehensions, so 3.11 skips them too (one schema for both).
SKIPPED_CODE_NAMES = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})


class Recorder:
    """What a run records. `events` holds raw entries: an int > 0 is a LINE event of the
    current frame, an int < 0 switches the current frame to -n - 1, a tuple is any other
    event: (kind, frame id, line, ...) as documented in trace_export."""

    def __init__(self, filename: str, *, max_steps: int, max_events: int, max_depth: int,
                 deadline: float, on_limit, hidden_names: frozenset = frozenset(),
                 for_targets: dict | None = None, loops: list | None = None):
        self.filename = filename
        self.max_steps = max_steps
        self.max_events = max_events
        self.max_depth = max_depth
        self.deadline = deadline          # time.monotonic() value: soft deadline
        self.on_limit = on_limit          # on_limit(kind) never returns
        self.hidden = hidden_names        # comprehension variables (inlined on 3.12+)
        # ... per function (first line of its code) when the static analysis says so
        self.hidden_by_line = getattr(for_targets, "hidden", None)
        # header line -> (names, body line): the analysis object itself, even when empty (it
        # carries the loop index that export reuses)
        self.for_targets = for_targets if for_targets is not None else {}
        if loops is None:
            loops = getattr(for_targets, "loops", None)
        self.loops = loops                # from the same static analysis, or None
        self.events: list = []
        self.cap = max_events             # raw entries to record (markers raise it)
        self.frames: list = []
        self.states: dict[int, FrameState] = {}   # id(frame) -> state, live frames only
        self.steps = 0
        self.next_check = min(CHECK_EVERY, max_steps + 1)
        self.cur = 0                      # marker of the frame whose lines `events` receives
        self.extra_counts: dict[int, int] = {}    # line runs not in `events` (see line_counts)
        self.recording = True
        self.internal_errors = 0          # exceptions caught inside our callbacks
        # Objects whose id() a BIND/MUTATE entry holds, kept alive so that ids stay unique
        # (export numbers them); clearing it frees them, ids in entries stay valid.
        self._keep: list = []
        # Starts a watchdog: set by a backend that can re-arm itself.
        self.watchdog: Callable[[], None] | None = None

    # ------------------------------------------------------------------ frames
    def enter(self, frame) -> "FrameState":
        """A traced frame starts, or a generator frame resumes."""
        state = self.states.get(id(frame))
        if state is not None and state.frame is frame:
            if state.recording:
                self.add((CALL, state.id, frame.f_lineno, frame.f_code.co_qualname, True))
            return state
        parent, call_line = self._parent_of(frame)
        depth = 0 if parent is None else parent.depth + 1
        code = frame.f_code
        fid = len(self.frames)
        recording = self.recording and depth <= self.max_depth
        state = FrameState(self, fid, frame, depth, recording)
        self.states[id(frame)] = state
        if recording:
            self.frames.append((fid, code, None if parent is None else parent.id, depth,
                                call_line))
            events = self.events
            events.append((CALL, fid, code.co_firstlineno, code.co_qualname,
                           state.snapshot_args(frame)))
            if len(events) >= self.cap:
                self.add_limit_reached()
        else:
            self.frames.append(None)   # keeps ids aligned; dropped at export
        return state

    def _parent_of(self, frame):
        states = self.states
        if not states:
            return None, None
        f = frame.f_back
        while f is not None:
            st = states.get(id(f))
            if st is not None and st.frame is f:
                return st, f.f_lineno
            f = f.f_back
        return None, None

    def leave(self, frame) -> None:
        self.states.pop(id(frame), None)

    # ------------------------------------------------------------------ events
    def add(self, ev: tuple) -> None:
        events = self.events
        events.append(ev)
        if len(events) >= self.cap:
            self.add_limit_reached()

    def add_limit_reached(self) -> None:
        self.recording = False
        for st in self.states.values():
            st.recording = False

    def output(self, stream: str, text: str, frame) -> None:
        """User code wrote `text`: an OUTPUT event at the innermost recorded frame's line
        (merged into the previous one when nothing happened in between)."""
        if not self.recording:
            return
        fid, line = self.current_position(frame)
        if fid is None:
            return
        events = self.events
        last = events[-1] if events else None
        if type(last) is tuple and last[0] == "output" and last[1] == fid and \
                last[2] == line and last[3] == stream:
            last[4].append(text)
        else:
            self.add(("output", fid, line, stream, [text]))

    def check_limits(self) -> None:
        self.next_check = min(self.steps + CHECK_EVERY, self.max_steps + 1)
        if self.steps > self.max_steps:
            self.on_limit("step_limit")
        if time.monotonic() > self.deadline:
            self.on_limit("timeout")
        if self.watchdog is not None:
            self.watchdog()

    def count_line(self, lineno: int) -> None:
        """A line run that `events` does not show (a repeat, or recording stopped)."""
        counts = self.extra_counts
        counts[lineno] = counts.get(lineno, 0) + 1

    @property
    def line_counts(self) -> dict[int, int]:
        counts = dict(self.extra_counts)
        for x in self.events:
            if type(x) is int and x > 0:
                counts[x] = counts.get(x, 0) + 1
        return counts

    def resync(self, frame) -> None:
        """A user signal handler ran (traced) inside one of our callbacks for `frame`: what
        that callback appends next is `frame`'s again (see signals.py)."""
        st = self.states.get(id(frame))
        if st is not None and st.frame is frame and st.recording and self.cur != st.marker:
            self.cur = st.marker
            self.events.append(st.marker)
            self.cap += 1

    def callback_error(self, exc: BaseException, drops_tracer: bool = False) -> bool:
        """An exception reached one of our callbacks: should it go on to user code? Only a
        user signal handler's does (signals.py); when the backend's tracer is dropped for it
        (settrace: CPython drops a trace function that raises), the record ends there and
        says it is cut short. Any other is ours: counted, and never let out, since it would
        switch tracing off."""
        if passes(exc):
            if drops_tracer:
                self.add_limit_reached()
            return True
        self.internal_errors += 1
        return False

    def current_position(self, frame) -> tuple[int | None, int | None]:
        """(frame id, line) of the innermost recorded frame at or above `frame`."""
        while frame is not None:
            st = self.states.get(id(frame))
            if st is not None and st.frame is frame and st.recording:
                return st.id, frame.f_lineno
            frame = frame.f_back
        return None, None


class FrameState:
    __slots__ = ("rec", "id", "frame", "depth", "recording", "keys", "vals", "watch",
                 "prev_line", "pending_exc", "marker", "tr", "hidden")

    def __init__(self, rec: Recorder, fid: int, frame, depth: int, recording: bool):
        self.rec = rec
        self.id = fid
        self.frame = frame
        self.depth = depth
        self.recording = recording
        self.keys: tuple = ()                # names of the locals at the last look
        self.vals: tuple = ()                # their objects (kept alive: ids stay unique)
        self.watch: dict = {}                # id -> snapshot entry of a mutable local
        self.prev_line: int | None = None
        self.pending_exc: tuple[str, int] | None = None  # (type, line) raised, not yet caught
        self.marker = -fid - 1
        self.tr = self.trace
        by_line = rec.hidden_by_line
        self.hidden = rec.hidden if by_line is None else \
            by_line.get(frame.f_code.co_firstlineno, _NOTHING)

    def snapshot_args(self, frame) -> list:
        code = frame.f_code
        n = code.co_argcount + code.co_kwonlyargcount
        n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)   # *args, **kwargs
        loc = frame.f_locals
        self.keys = tuple(loc)
        self.vals = tuple(loc.values())
        out = []
        watch = self.watch
        for name in code.co_varnames[:n]:
            if name in loc:
                obj = loc[name]
                if type(obj) in _IMMUTABLE:
                    out.append((name, obj))
                    continue
                token, entry = snapshot(obj)
                if entry is not None:
                    watch[id(obj)] = entry
                out.append((name, token))
        return out

    # ------------------------------------------------------------------ the hot path
    # `line` (sys.monitoring) and `trace` (settrace) are the same code: a method call less
    # per line matters on 3.11, so `trace` has it inline.
    def line(self, frame, lineno: int) -> None:
        rec = self.rec
        rec.steps += 1
        if rec.steps >= rec.next_check:
            rec.check_limits()
        if self.recording:
            prev = self.prev_line
            if prev is not None:
                loc = frame.f_locals
                vals = tuple(loc.values())
                pv = self.vals
                if len(vals) != len(pv) or not all(map(is_, vals, pv)) or \
                        prev in rec.for_targets:
                    self.rebound(loc, vals, prev, lineno)
                elif self.watch:
                    self.mutated(loc, prev)
            if lineno != prev:
                if self.pending_exc is not None:
                    self.caught(lineno, self.pending_exc)
                if rec.cur != self.marker:
                    rec.cur = self.marker
                    rec.events.append(self.marker)
                    rec.cap += 1
                events = rec.events
                events.append(lineno)
                if len(events) >= rec.cap:
                    rec.add_limit_reached()
            else:
                rec.count_line(lineno)
            self.prev_line = lineno
        else:
            rec.count_line(lineno)

    def trace(self, frame, event, arg):
        try:
            if event == "line":
                rec = self.rec
                rec.steps += 1
                if rec.steps >= rec.next_check:
                    rec.check_limits()
                lineno = frame.f_lineno
                if self.recording:
                    prev = self.prev_line
                    if prev is not None:
                        loc = frame.f_locals
                        vals = tuple(loc.values())
                        pv = self.vals
                        if len(vals) != len(pv) or not all(map(is_, vals, pv)) or \
                                prev in rec.for_targets:
                            self.rebound(loc, vals, prev, lineno)
                        elif self.watch:
                            self.mutated(loc, prev)
                    if lineno != prev:
                        if self.pending_exc is not None:
                            self.caught(lineno, self.pending_exc)
                        if rec.cur != self.marker:
                            rec.cur = self.marker
                            rec.events.append(self.marker)
                            rec.cap += 1
                        events = rec.events
                        events.append(lineno)
                        if len(events) >= rec.cap:
                            rec.add_limit_reached()
                    else:
                        rec.count_line(lineno)
                    self.prev_line = lineno
                else:
                    rec.count_line(lineno)
            elif event == "return":
                if self.pending_exc is not None and arg is None:
                    self.unwound(frame, frame.f_lineno)
                elif frame.f_code.co_flags & 0x220 and \
                        frame.f_code.co_code[frame.f_lasti] == _YIELD_OP:
                    self.yielded(frame, arg, frame.f_lineno)
                else:
                    self.returned(frame, arg, frame.f_lineno)
            elif event == "exception":
                tb = arg[2]
                self.raised(frame, arg[1], frame.f_lineno, tb is not None and tb.tb_next is None)
        except BaseException as e:   # ours is kept in; a user signal handler's goes on
            if self.rec.callback_error(e, drops_tracer=True):
                raise
        return self.tr

    # ------------------------------------------------------------------ changes
    def rebound(self, loc, vals: tuple, line: int, arriving: int | None) -> None:
        """Some local got another object (or a name appeared or went): BIND events, and
        MUTATE events for watched objects that changed too. `line` just ran; `arriving` is
        about to run."""
        rec = self.rec
        keys = tuple(loc)
        pv = self.vals
        if keys == self.keys:
            idx = list(compress(count(), map(is_not, vals, pv)))
        else:
            old = dict(zip(self.keys, pv, strict=True))
            idx = [i for i, (k, v) in enumerate(zip(keys, vals, strict=True))
                   if old.get(k, _GONE) is not v]
        target = rec.for_targets.get(line)
        if target is not None and target[1] == arriving:
            # A loop variable given the very same object again (small ints are shared) is
            # still a binding of this iteration.
            extra = [i for i, k in enumerate(keys) if k in target[0] and i not in idx]
            if extra:
                idx = sorted(idx + extra)
        self.keys, self.vals = keys, vals
        hidden = self.hidden
        watch = self.watch
        before = len(watch)
        fid = self.id
        keep = rec._keep
        out: list[tuple[int, tuple[Any, ...]]] = []
        fresh = None
        for i in idx:
            name = keys[i]
            if name in hidden or name[:1] == ".":
                continue
            obj = vals[i]
            if type(obj) in _IMMUTABLE:
                out.append((i, (BIND, fid, line, name, obj, None)))
                continue
            oid = id(obj)
            entry = watch.get(oid)
            if entry is not None and entry[0] is obj:
                # Already watched under another name: the snapshot stays, so a change since
                # is still reported (as a mutation).
                token = _token_of(entry) if not changed(entry) else snapshot(obj)[0]
            else:
                token, entry = snapshot(obj)
                if entry is None:
                    out.append((i, (BIND, fid, line, name, token, None)))
                    continue
                watch[oid] = entry
                if fresh is None:
                    fresh = set()
                fresh.add(oid)
            keep.append(obj)
            out.append((i, (BIND, fid, line, name, token, oid)))
        if before:
            # Objects no longer named by any local are not watched any more.
            if len(pv) != len(vals) or not watch.keys().isdisjoint(
                    map(id, map(pv.__getitem__, idx))):
                live = set(map(id, vals))
                for oid in [oid for oid in watch if oid not in live]:
                    del watch[oid]
            muts = self._mutations(keys, vals, line, out, fresh)
            if muts:
                out.extend(muts)
                out.sort(key=_first)
        events = rec.events
        for _, ev in out:
            events.append(ev)
        if len(events) >= rec.cap:
            rec.add_limit_reached()

    def mutated(self, loc, line: int) -> None:
        """No local was rebound: did a watched object change in place?"""
        for obj, kind, n, items, vals in self.watch.values():
            if kind == K_LIST or kind == K_SET:
                if len(obj) == n and all(map(is_, obj, items)):
                    continue
            elif not changed((obj, kind, n, items, vals)):
                continue
            break
        else:
            return
        muts = self._mutations(self.keys, self.vals, line, None, None)
        events = self.rec.events
        for _, ev in muts:
            events.append(ev)
        if len(events) >= self.rec.cap:
            self.rec.add_limit_reached()

    def _mutations(self, keys, vals, line, binds, fresh) -> list:
        """MUTATE entries (with their first name's position) for watched objects that
        changed; `binds`: the (position, BIND entry) pairs of this same line."""
        out = []
        hidden = self.hidden
        watch = self.watch
        skip = None
        for oid, entry in watch.items():      # values are replaced, never keys: safe
            if fresh is not None and oid in fresh:
                continue
            obj, kind, n, items, v = entry
            if kind == K_LIST or kind == K_SET:
                if len(obj) == n and all(map(is_, obj, items)):
                    continue
            elif not changed(entry):
                continue
            token, new = snapshot(obj)
            if new is None:      # cannot happen for a watched object
                continue
            watch[oid] = new
            names = [(i, keys[i]) for i in compress(count(), map(is_, vals, repeat(obj)))
                     if keys[i] not in hidden and keys[i][:1] != "."]
            if binds and len(names) > 1:
                if skip is None:
                    skip = {i for i, _ in binds}
                names = [(i, k) for i, k in names if i not in skip] or names
            if not names:
                continue
            self.rec._keep.append(obj)
            aliases = [k for _, k in names[1:]]
            out.append((names[0][0], (MUTATE, self.id, line, names[0][1], token, oid,
                                      aliases or None)))
        return out

    def caught(self, lineno: int, pending: tuple[str, int]) -> None:
        self.rec.add((CAUGHT, self.id, lineno, pending[0]))
        self.pending_exc = None

    def diff(self, frame, line: int) -> None:
        """Record what `line` (just executed) changed, at a frame exit or a raise."""
        loc = frame.f_locals
        vals = tuple(loc.values())
        pv = self.vals
        if len(vals) != len(pv) or not all(map(is_, vals, pv)):
            self.rebound(loc, vals, line, None)
        elif self.watch:
            self.mutated(loc, line)

    # Frame exits and exceptions: rarer, so clarity over speed.
    def returned(self, frame, value, lineno: int) -> None:
        rec = self.rec
        if self.recording:
            loc = frame.f_locals
            vals = tuple(loc.values())
            pv = self.vals
            if len(vals) != len(pv) or not all(map(is_, vals, pv)):
                self.rebound(loc, vals, lineno, None)
            elif self.watch:
                self.mutated(loc, lineno)
            if self.pending_exc is not None:
                rec.add((PROPAGATE, self.id, lineno, self.pending_exc[0]))
            else:
                rec.add((RETURN, self.id, lineno,
                         value if type(value) in _IMMUTABLE else snapshot(value)[0]))
        rec.states.pop(id(frame), None)

    def yielded(self, frame, value, lineno: int) -> None:
        if self.recording:
            self.diff(frame, lineno)
            self.rec.add((YIELD, self.id, lineno, value_token(value)))
        self.prev_line = None

    def raised(self, frame, exc: BaseException, lineno: int, here: bool) -> None:
        """An exception is passing through this frame (`here`: raised by this frame's code)."""
        name = type(exc).__name__
        if self.recording and here:
            self.diff(frame, lineno)
            try:
                msg = str(exc) if type(exc).__str__ is BaseException.__str__ else ""
            except Exception:  # noqa: BLE001 - the user's exception's args may fail to print
                msg = ""
            self.rec.add((RAISE, self.id, lineno, name, msg[:500]))
        self.pending_exc = (name, lineno)

    def unwound(self, frame, lineno: int) -> None:
        """The frame ends because of an exception it did not catch."""
        if self.recording:
            name = self.pending_exc[0] if self.pending_exc else "Exception"
            self.rec.add((PROPAGATE, self.id, lineno, name))
        self.rec.leave(frame)


def _first(pair):
    return pair[0]


def _token_of(entry):
    """The export token of an unchanged watched object, from its entry."""
    obj, kind, n, items, vals = entry
    if kind == K_ENC:
        return items
    if kind == K_DICT:
        return Snap((kind, n, items, vals))
    return Snap((kind, n, items))


# ---------------------------------------------------------------------- settrace backend

_YIELD_OP = dis.opmap["YIELD_VALUE"]


class Watchdog:
    """A CPU-time timer (ITIMER_PROF, SIGPROF) started once a run is longer than CHECK_EVERY
    steps: between any two bytecodes it checks the soft deadline, and calls `rearm` (the
    settrace backend installs its trace function again if the interpreter dropped it). CPU
    time, not wall time, and SIGPROF, not SIGALRM: a sleeping line costs nothing, and user code
    that uses alarm() or SIGALRM is left alone; if user code already handles SIGPROF, there is
    no watchdog (the step checks remain)."""

    def __init__(self, rec: "Recorder", rearm=None):
        self.rec = rec
        self.rearm = rearm
        self.armed = False
        self.old: Callable[[int, types.FrameType | None], Any] | int | None = None

    def arm(self) -> None:
        self.rec.watchdog = None          # once
        try:
            if signal.getsignal(signal.SIGPROF) not in (signal.SIG_DFL, None):
                return
            self.old = signal.signal(signal.SIGPROF, self.tick)
            signal.setitimer(signal.ITIMER_PROF, WATCHDOG_S, WATCHDOG_S)
            self.armed = True
        except (ValueError, OSError, AttributeError):   # not the main thread, no setitimer
            pass

    def disarm(self) -> None:
        if self.armed:
            self.armed = False
            try:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, self.old if self.old is not None else signal.SIG_DFL)
            except (ValueError, OSError, TypeError):
                pass

    def tick(self, signum, frame) -> None:
        try:
            if self.rearm is not None:
                self.rearm()
            if time.monotonic() > self.rec.deadline:
                self.rec.on_limit("timeout")
        except BaseException:  # noqa: BLE001 - a signal handler in the user's process: never raise
            pass
