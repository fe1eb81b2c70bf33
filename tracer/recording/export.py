"""Turn the recorder's raw entries into the trace JSON, adding loop iteration events.

Runs once per trace, in the child, after the call: all the work the hot path deferred happens
here, once per event: values are encoded (strings memoised per export), mutations whose
encoding did not change are dropped, identity numbers are given out, LOOP events are inserted,
and events are written straight to JSON text (`dumps_trace` puts the whole trace together).

Most traces are a few dozen entries, so export is a few microseconds and every step counts:
texts are put together from memoised pieces (trace_json's tables of small ints and names,
BIND heads per export) by f-strings and joins rather than `%` formatting, loop bookkeeping is
one lookup per LINE (`LoopIndex.at`, made with the static analysis), and nothing is cached
across runs by what a run did: a forked child starts from what the fork server imported.

Raw entries (see capture.Recorder): an int > 0 is a LINE of the current frame, an int < 0
makes frame -n - 1 current, and tuples are
    (CALL, frame, line, qualname, [(name, token), ...] | True for a resumed generator)
    (BIND, frame, line, name, token, id of the object or None)
    (MUTATE, frame, line, name, token, id of the object, [aliases] | None)
    (RETURN | YIELD, frame, line, token)
    (RAISE, frame, line, type name, message)
    (CAUGHT | PROPAGATE, frame, line, type name)
    ("output", frame, line, stream, [texts])
where a token is an immutable object, a capture.Snap, or an encoding (dict).
"""

from __future__ import annotations

import ast
from collections import _count_elements  # type: ignore[attr-defined]  # Counter's C helper
from json.encoder import encode_basestring as _jstr
from typing import Any

from ..schema import BIND, CALL, CAUGHT, MUTATE, PROPAGATE, RAISE, RETURN, YIELD
from .recorder import Snap
from .export_json import (DIGITS, INTS, KEYS, NAMES, Memo, dumps, memo_value_j,
                         scalar_field_j, snap_j, str_j, value_j)


# ---------------------------------------------------------------------- static analysis

class Loops(list):
    """The module's loops (dicts, by header line) with their LoopIndex, which goes wherever
    the list goes (the recorder keeps the list, not always the analysis)."""
    __slots__ = ("loop_index",)
    loop_index: LoopIndex


class ForTargets(dict):
    """{for header line: (target names, first body line)}, plus, found by the same walk, the
    module's loops (`.loops`) and the hidden comprehension names per function (`.hidden`)."""
    loops: list
    hidden: dict


def analyse_names(tree) -> tuple[frozenset, ForTargets]:
    """One walk of the module: (names bound only by comprehensions, for targets with loops).

    The first are hidden locals of inlined comprehensions on 3.12+ (per function as
    `.hidden`, keyed by the first line of its code object; the returned set is their union);
    the second lets the recorder report a loop variable every iteration, even when it is
    rebound to the very same object (small ints are shared), and carries the module's loops
    for export (`.loops`).
    """
    targets, loops = ForTargets(), Loops()
    hidden: dict[int, frozenset[str]] = {}
    scopes = [tree] if tree is not None else []
    while scopes:
        scope = scopes.pop()
        comp, stored, comp_targets = set(), [], set()
        params: set[str] = set()
        if type(scope) is not ast.Module:
            a = scope.args
            params.update(x.arg for x in a.posonlyargs + a.args + a.kwonlyargs)
            params.update(x.arg for x in (a.vararg, a.kwarg) if x is not None)
        todo = list(scope.body) if type(scope.body) is list else [scope.body]
        while todo:
            node = todo.pop()
            tp = type(node)
            if tp in _SCOPES:
                scopes.append(node)
                # Decorators and defaults are evaluated in this scope.
                todo.extend(getattr(node, "decorator_list", ()))
                todo.extend(d for d in node.args.defaults + node.args.kw_defaults if d)
                continue
            if tp is ast.Name:
                if type(node.ctx) is ast.Store:
                    stored.append(node)
            elif tp in _COMPS:
                for gen in node.generators:
                    for n in ast.walk(gen.target):
                        if type(n) is ast.Name:
                            comp.add(n.id)
                            comp_targets.add(id(n))
            elif tp is ast.For or tp is ast.AsyncFor:
                targets[node.lineno] = (tuple(n.id for n in ast.walk(node.target)
                                              if type(n) is ast.Name), node.body[0].lineno)
                loops.append(_loop(node))
            elif tp is ast.While and node.body:
                loops.append(_loop(node))
            todo.extend(ast.iter_child_nodes(node))
        if comp:
            # Names stored anywhere but in a comprehension's own target are ordinary locals.
            elsewhere = params.union(n.id for n in stored if id(n) not in comp_targets)
            names = frozenset(comp - elsewhere)
            if names:
                first = min([d.lineno for d in getattr(scope, "decorator_list", ())]
                            + [getattr(scope, "lineno", 1)])
                hidden[first] = hidden.get(first, frozenset()) | names
    loops.sort(key=lambda x: x["line"])
    loops.loop_index = LoopIndex(loops)
    targets.loops = loops
    targets.hidden = hidden
    return frozenset().union(*hidden.values()), targets


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loop(node) -> dict:
    return {"line": node.lineno, "kind": "while" if isinstance(node, ast.While) else "for",
            "body_start": node.body[0].lineno,
            "body_end": max(getattr(s, "end_lineno", s.lineno) for s in node.body),
            "end_line": node.end_lineno}


def find_loops(tree) -> list[dict]:
    return analyse_names(tree)[1].loops


class LoopIndex:
    """What export needs to know about loops: built with the static analysis (before the
    call), not at export. `at[line]`, for a line inside some loop: (the header lines of the
    loops it is in, as one shared frozenset per distinct set; the header of the loop whose
    body it starts, or None; the lines of the inner loop that loop's body starts with, or
    None)."""
    __slots__ = ("at", "json")

    def __init__(self, loops: list[dict]):
        self.json = RawJSON(dumps(loops))
        inside: dict = {}
        for lp in loops:
            for n in range(lp["line"], lp["end_line"] + 1):
                inside.setdefault(n, set()).add(lp["line"])
        shared: dict = {}
        for n, h in inside.items():
            h = frozenset(h)
            inside[n] = shared.setdefault(h, h)
        by_body = {lp["body_start"]: lp["line"] for lp in loops
                   if lp["body_start"] != lp["line"]}
        # A loop whose body starts with another loop: that header line runs once per inner
        # iteration too, so only an arrival from outside the inner loop starts an iteration.
        inner = {lp["line"]: lp for lp in loops}
        nested = {}
        for lp in loops:
            il = inner.get(lp["body_start"])
            if il is not None and il is not lp:
                nested[lp["line"]] = range(il["body_start"], il["end_line"] + 1)
        self.at = {n: (keep, by_body.get(n), nested.get(by_body.get(n)))
                   for n, keep in inside.items()}


# LoopIndex.at of a line in no loop
_OUTSIDE: tuple[frozenset[Any], Any, Any] = (frozenset(), None, None)


class RawJSON(str):
    """A value of the trace dict that build_trace wrote as JSON text already: dumps_trace
    puts it in as it is."""
    __slots__ = ()


_NO_LOOPS = LoopIndex([])


def _loop_index(loops: list[dict]) -> LoopIndex:
    """The LoopIndex the analysis made with `loops` (a Loops list); built here only for a
    plain list, which no caller in the project passes."""
    index = getattr(loops, "loop_index", None)
    if index is not None:
        return index
    return LoopIndex(loops) if loops else _NO_LOOPS


class _Values:
    """Value tokens -> JSON text, memoised per export (ints and strings by value)."""
    __slots__ = ("strs",)

    def __init__(self):
        self.strs: dict = {}

    def __call__(self, token) -> str:
        return memo_value_j(self.strs, token)


# ---------------------------------------------------------------------- events

_LINE_HEAD = '{"kind":"line","frame":%d,"line":'
_LINE_HEAD_0 = _LINE_HEAD % 0
# LINE events of frame 0 (most of them) by line, the usual ones made at import.
_LINES_0 = Memo((_LINE_HEAD_0 + "%d}").__mod__, 1 << 12, range(1, 256))
_BIND_HEAD = '{"kind":"%s","frame":%d,"line":%d,"name":%s,"value":'
_is_int = int.__instancecheck__
_negative = (0).__gt__


def _event_j(x: tuple, strs: dict) -> str:
    """A CALL, YIELD, RAISE, CAUGHT, PROPAGATE or output entry (or a RETURN) as its event."""
    kind, fid, line = x[0], x[1], x[2]
    if kind == CALL:
        if x[4] is True:
            tail = ',"resumed":true}'
        else:
            args = []
            for n, t in x[4]:
                vj = INTS[t] if type(t) is int else memo_value_j(strs, t)
                args.append(f"[{NAMES[n]},{vj}]")
            tail = f',"args":[{",".join(args)}]}}'
        return f'{{"kind":"call","frame":{DIGITS[fid]},"line":{DIGITS[line]},' \
            f'"name":{NAMES[x[3]]}{tail}'
    if kind == RETURN or kind == YIELD:
        t = x[3]
        vj = INTS[t] if type(t) is int else memo_value_j(strs, t)
        return f'{{"kind":"{kind}","frame":{DIGITS[fid]},"line":{DIGITS[line]},"value":{vj}}}'
    if kind == RAISE:
        return '{"kind":"raise","frame":%d,"line":%d,"name":%s,"text":%s}' % (
            fid, line, NAMES[x[3]], _jstr(x[4]))
    if kind == CAUGHT or kind == PROPAGATE:
        return '{"kind":"%s","frame":%d,"line":%d,"name":%s}' % (kind, fid, line, NAMES[x[3]])
    if kind == "output":
        where = "" if line is None else ',"line":%d' % line
        return '{"kind":"output","frame":%d%s,"stream":%s,"text":%s}' % (
            fid, where, _jstr(x[3]), _jstr("".join(x[4])))
    raise ValueError(f"unknown entry {kind!r}")


def export_events(rec, loops: list[dict], index: LoopIndex | None = None
                  ) -> tuple[list[str], bool, dict]:
    """(events as JSON texts, cut at the event cap?, line counts)."""
    if index is None:
        index = _loop_index(loops)
    at = index.at
    raw = rec.events
    cap = rec.max_events
    # Each raw entry but a frame marker is one event, plus at most one LOOP per LINE: only a
    # long recording can reach the cap, and only then is it checked per entry.
    check = 2 * len(raw) > cap
    out: list[str] = []
    append = out.append
    strs: dict = {}                # str tokens -> JSON
    heads: dict = {}               # line -> name -> (frame, kind, BIND/MUTATE text to value)
    refs: dict = {}
    last_value: dict = {}          # (frame, ref) -> JSON of its last BIND/MUTATE value
    frames_state: dict = {}        # frame -> its (counters, kept, prev) below
    counters: dict = {}            # loop header -> iterations so far (current frame)
    kept = None                    # the loops (LoopIndex.at) `counters` was last cut to
    prev = None                    # previous LINE of the current frame
    cur = 0
    lines_j: Memo | None = _LINES_0   # line -> its LINE event in frame 0, else None:
    line_head = _LINE_HEAD_0       # ... the LINE events of the current frame up to the line
    # out[pend:] are the BIND/MUTATEs of (pend_fid, pend_line) since the last other event: a
    # LOOP of that very line goes before them (a for target is bound in the new iteration).
    pend, pend_fid, pend_line = 0, None, None
    cut = False
    for x in raw:
        if check and len(out) >= cap:
            cut = True
            break
        try:
            if type(x) is int:
                if x < 0:
                    if ~x != cur:          # marker ~fid (a trace starts with one for 0)
                        frames_state[cur] = (counters, kept, prev)
                        cur = ~x
                        counters, kept, prev = frames_state.get(cur) or ({}, None, None)
                        lines_j = None if cur else _LINES_0
                        line_head = _LINE_HEAD % cur
                    continue
                if at:
                    keep, header, inner = at.get(x, _OUTSIDE)
                    if keep is not kept:
                        # Counters are of loops around the last line: drop those we left.
                        if counters and not keep.issuperset(counters):
                            for h in [h for h in counters if h not in keep]:
                                del counters[h]
                        kept = keep
                    if header is not None and (inner is None or prev is None
                                               or prev not in inner):
                        n = counters[header] = counters.get(header, 0) + 1
                        loop_j = f'{{"kind":"loop","frame":{DIGITS[cur]},' \
                            f'"line":{DIGITS[header]},"iteration":{DIGITS[n]}}}'
                        if pend_fid == cur and pend_line == header:
                            out[pend:] = [loop_j, *out[pend:]]
                        else:
                            append(loop_j)
                pend_fid = None
                prev = x
                if lines_j is not None:
                    append(lines_j[x])
                else:
                    append(f"{line_head}{DIGITS[x]}}}")
                continue
            kind = x[0]
            if kind == BIND:
                _, fid, line, name, token, oid = x
                mutate = aliases = None
            elif kind == MUTATE:
                _, fid, line, name, token, oid, aliases = x
                mutate = True
            else:
                pend_fid = None
                if kind == RETURN:          # one per frame: not worth a call
                    _, fid, line, token = x
                    vj = INTS[token] if type(token) is int else memo_value_j(strs, token)
                    append(f'{{"kind":"return","frame":{DIGITS[fid]},"line":{DIGITS[line]},'
                           f'"value":{vj}}}')
                else:
                    append(_event_j(x, strs))
                continue
            tp = type(token)
            if tp is str:
                vj = strs.get(token)
                if vj is None:
                    vj = strs[token] = str_j(token)
            elif tp is int:
                vj = INTS[token]
            elif tp is Snap:
                vj = snap_j(token)
            else:
                vj = value_j(token)
            if oid is None:
                tail = "}"
            else:
                ref = refs.get(oid)
                if ref is None:
                    ref = refs[oid] = len(refs) + 1
                seen = (fid, ref)
                if mutate and last_value.get(seen) == vj:
                    continue       # changed identity inside, not value: no mutation
                last_value[seen] = vj
                tail = f',"ref":{DIGITS[ref]}}}'
            if aliases:
                tail = f'{tail[:-1]},"aliases":[{",".join(map(NAMES.__getitem__, aliases))}]}}'
            if pend_fid != fid or pend_line != line:
                pend, pend_fid, pend_line = len(out), fid, line
            at_line = heads.get(line)
            if at_line is None:
                at_line = heads[line] = {}
            head = at_line.get(name)
            if head is None or head[0] != fid or head[1] is not kind:
                head = at_line[name] = (fid, kind, _BIND_HEAD % (kind, fid, line, NAMES[name]))
            append(f"{head[2]}{vj}{tail}")
        except Exception:  # noqa: BLE001 - a user value that cannot be exported: leave the event out
            continue
    if len(out) > cap:
        del out[cap:]
        cut = True
    # Every LINE entry is one run of its line (repeats and unrecorded runs are extra_counts).
    counts = dict(rec.extra_counts)
    _count_elements(counts, filter(_is_int, raw))      # in C, frame markers (< 0) too
    if cut:
        for marker in [*filter(_negative, counts)]:
            del counts[marker]
    else:       # every marker was read: it is that of a frame switched to
        counts.pop(~cur, None)
        for fid in frames_state:
            counts.pop(~fid, None)
    return out, cut, counts


def build_trace(data: dict, rec, tree, source_lines: list[str]) -> None:
    """Fill `data` (the trace JSON) from the recorder. Events (a list of JSON texts), frames,
    loops, lines and line counts (RawJSON) are JSON text already: write `data` with
    `dumps_trace`."""
    loops = rec.loops
    if loops is None:
        loops = find_loops(tree)
    index = _loop_index(loops)
    events, cut, counts = export_events(rec, loops, index)
    frames = []
    used = set(counts)
    for f in rec.frames:
        if f is None:
            continue
        fid, code, parent, depth, call_line = f
        kind = ("generator" if code.co_flags & 0x20 else
                "lambda" if code.co_name == "<lambda>" else "function")
        frames.append(
            f'{{"id":{DIGITS[fid]},"function":{NAMES[code.co_qualname]},'
            f'"parent":{"null" if parent is None else DIGITS[parent]},"depth":{DIGITS[depth]},'
            f'"def_line":{DIGITS[code.co_firstlineno]},'
            f'"call_line":{"null" if call_line is None else DIGITS[call_line]},"kind":"{kind}"}}')
        used.add(code.co_firstlineno)
    # Lines of non-LINE events (raise, return...) are lines that ran, so already in `counts`,
    # except for the rare event past a cut; the parsing side tolerates a missing line.
    ns = sorted(used)
    if ns and (ns[0] < 1 or ns[-1] > len(source_lines)):
        ns = [n for n in ns if 0 < n <= len(source_lines)]
    texts, runs = [], []
    for n in ns:
        key = KEYS[n]
        texts.append(key + _jstr(source_lines[n - 1]))
        c = counts.get(n)
        if c is not None:
            runs.append(key + DIGITS[c])
    if len(runs) < len(counts):     # lines past the end of the source: counted all the same
        runs = [KEYS[n] + DIGITS[counts[n]] for n in sorted(counts)]
    data["frames"] = RawJSON(f'[{",".join(frames)}]')
    data["events"] = events
    data["loops"] = index.json
    data["lines"] = RawJSON(f'{{{",".join(texts)}}}')
    data["line_counts"] = RawJSON(f'{{{",".join(runs)}}}')
    data["steps"] = rec.steps
    data["truncated"] = (not rec.recording) or cut


# '"key":' for the trace's top-level keys (and any other string).
_FIELD_KEYS = Memo(lambda k: _jstr(k) + ":", 256, ("status", "steps", "truncated"))
_BUILT = ("frames", "events", "loops", "lines", "line_counts", "steps", "truncated")


def dumps_trace(data: dict) -> str:
    """The trace as one JSON text: like json.dumps(data, ensure_ascii=False,
    separators=(",", ":")), with what build_trace wrote as JSON text (events, RawJSON values)
    put in as it is, after the other fields."""
    keys = tuple(data)
    if keys[-7:] == _BUILT:         # as build_trace left it: its entries last, in this order
        values = tuple(data.values())
        frames, events, loops, lines, counts, steps, truncated = values[-7:]
        if type(frames) is RawJSON and type(loops) is RawJSON and type(lines) is RawJSON \
                and type(counts) is RawJSON and type(events) is list and events \
                and type(events[0]) is str and type(steps) is int and type(truncated) is bool:
            head_j = _head_j(keys, values[:-7]) if len(keys) > 7 else ""
            if head_j is not None:
                return "".join((
                    "{", head_j, '"steps":', DIGITS[steps],
                    ',"truncated":true' if truncated else ',"truncated":false',
                    ',"frames":', frames, ',"events":[', ",".join(events), '],"loops":', loops,
                    ',"lines":', lines, ',"line_counts":', counts, "}"))
    return _dumps_trace_any(data)


def _head_j(keys: tuple, values: tuple) -> str | None:
    """The JSON members of the fields before build_trace's, each followed by a comma, or None
    when dumps_trace must take the general way (a raw JSON value among them goes after all
    the others; a key that is not a string)."""
    parts = []
    try:
        for k, v in zip(keys, values, strict=False):   # keys: all fields, values: the head
            if type(v) is str:
                parts.append(f"{_FIELD_KEYS[k]}{_jstr(v)},")
                continue
            j = scalar_field_j(v)
            if j is None:     # some other JSON value: all of them by the C encoder
                if RawJSON in map(type, values):
                    return None
                return dumps(dict(zip(keys, values, strict=False)))[1:-1] + ","
            parts.append(f"{_FIELD_KEYS[k]}{j},")
    except TypeError:         # a key that is not a string: left to json.dumps' rules
        return None
    return "".join(parts)


def _dumps_trace_any(data: dict) -> str:
    """dumps_trace for fields of any JSON type (not just scalars)."""
    rest, raw = {}, []
    for k, v in data.items():
        if type(v) is RawJSON:
            raw.append('"%s":%s' % (k, v))
        elif k == "events" and v and type(v[0]) is str:
            raw.append('"events":[' + ",".join(v) + "]")
        else:
            rest[k] = v
    if not raw:
        return dumps(data)
    head = dumps(rest)
    return head[:-1] + ("," if rest else "") + ",".join(raw) + "}"


def _human_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} million times"
    if n >= 10_000:
        return f"{n / 1000:.0f} thousand times"
    return f"{n} time" + ("s" if n != 1 else "")


# A line that ran this often before a limit stopped the run is called a likely infinite loop.
# 3.12+ (sys.monitoring) runs fewer lines per second under the tracer than 3.11 does, so the
# bar is what any Python reaches in a fraction of the shortest timeout.
HOT_LINE_RUNS = 10_000


def hottest_line_message(line_counts: dict[int, int]) -> str:
    if not line_counts:
        return ""
    # Ties (a loop's header and body run equally often) go to the first line: the header.
    line, n = max(line_counts.items(), key=lambda kv: (kv[1], -kv[0]))
    hint = ": likely an infinite loop" if n >= HOT_LINE_RUNS else ""
    return f"line {line} ran {_human_count(n)}{hint}"
