"""Turn the recorder's raw entries into the trace JSON, adding loop iteration events.

Runs once per trace, in the child, after the call: all the work the hot path deferred happens
here, once per event: values are encoded (memoised per value), mutations whose encoding did not
change are dropped, identity numbers are given out, LOOP events are inserted, and events are
written straight to JSON text (`dumps_trace` puts the whole trace together).

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
import json
from collections import _count_elements  # the C helper behind Counter
from json.encoder import encode_basestring as _jstr

from .capture import K_BYTES, K_DICT, K_LIST, K_SET, Snap
from .schema import BIND, CALL, CAUGHT, MUTATE, PROPAGATE, RAISE, RETURN, YIELD
from .values import TRACE_LIMITS, encode

_ITEMS = TRACE_LIMITS.items
_MAX_EXACT_JSON_INT = 2 ** 53


# ---------------------------------------------------------------------- static analysis

class ForTargets(dict):
    """{for header line: (target names, first body line)}, plus, found by the same walk, the
    module's loops (`.loops`) and the hidden comprehension names per function (`.hidden`)."""
    loops: list
    loop_index: "LoopIndex"
    hidden: dict


def analyse_names(tree) -> tuple[frozenset, ForTargets]:
    """One walk of the module: (names bound only by comprehensions, for targets with loops).

    The first are hidden locals of inlined comprehensions on 3.12+ (per function as
    `.hidden`, keyed by the first line of its code object; the returned set is their union);
    the second lets the recorder report a loop variable every iteration, even when it is
    rebound to the very same object (small ints are shared), and carries the module's loops
    for export (`.loops`).
    """
    targets, loops, hidden = ForTargets(), [], {}
    scopes = [tree] if tree is not None else []
    while scopes:
        scope = scopes.pop()
        comp, stored, comp_targets = set(), [], set()
        params = set()
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
    targets.loops = loops
    targets.loop_index = LoopIndex(loops)
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
    call), not at export."""
    __slots__ = ("by_body", "span", "nested", "json")

    def __init__(self, loops: list[dict]):
        self.json = dumps(loops)
        self.by_body = {lp["body_start"]: lp["line"] for lp in loops
                        if lp["body_start"] != lp["line"]}
        self.span = {lp["line"]: range(lp["line"], lp["end_line"] + 1) for lp in loops}
        # A loop whose body starts with another loop: that header line runs once per inner
        # iteration too, so only an arrival from outside the inner loop starts an iteration.
        inner = {lp["line"]: lp for lp in loops}
        self.nested = {}
        for lp in loops:
            il = inner.get(lp["body_start"])
            if il is not None and il is not lp:
                self.nested[lp["line"]] = range(il["body_start"], il["end_line"] + 1)


def _loop_index(rec, loops: list[dict]) -> LoopIndex:
    index = getattr(rec.for_targets, "loop_index", None)
    if index is None or rec.loops is not loops:
        index = LoopIndex(loops)
    return index


# ---------------------------------------------------------------------- values as JSON

def _default(o):
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


try:
    from json.encoder import c_make_encoder as _c_make
    _C_ENC = _c_make(None, _default, _jstr, None, ":", ",", False, False, True) \
        if _c_make is not None else None
except Exception:   # pragma: no cover - pure-Python json
    _C_ENC = None


def dumps(obj) -> str:
    """json.dumps(obj, ensure_ascii=False, separators=(",", ":")), without per-call set-up."""
    if _C_ENC is not None:
        return "".join(_C_ENC(obj, 0))
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


_NONE_J = '{"t":"none"}'
_TRUE_J, _FALSE_J = '{"t":"bool","v":true}', '{"t":"bool","v":false}'


def _int_j(i: int) -> str:
    if -_MAX_EXACT_JSON_INT < i < _MAX_EXACT_JSON_INT:
        return '{"t":"int","v":%d}' % i
    return dumps(encode(i, TRACE_LIMITS))


def _str_j(s: str) -> str:
    if len(s) <= TRACE_LIMITS.string:
        return '{"t":"str","v":' + _jstr(s) + "}"
    return dumps(encode(s, TRACE_LIMITS))


def _float_j(x: float) -> str:
    return '{"t":"float","v":"' + float.__repr__(x) + '"}'


def _tuple_j(t: tuple) -> str:
    if len(t) > _ITEMS or not all(type(x) in _SCALAR_J for x in t):
        return dumps(encode(t, TRACE_LIMITS))
    return '{"t":"tuple","items":[' + ",".join([_SCALAR_J[type(x)](x) for x in t]) + "]}"


_SCALAR_J = {int: _int_j, str: _str_j, float: _float_j,
             bool: lambda b: _TRUE_J if b else _FALSE_J, type(None): lambda _: _NONE_J}


def _item_j(x) -> str:
    f = _SCALAR_J.get(type(x))
    if f is not None:
        return f(x)
    if type(x) is tuple:
        return _tuple_j(x)
    return dumps(encode(x, TRACE_LIMITS))


_PAIR_FMT = "[%s,%s]"


def _more(n: int, shown: int) -> str:
    return ',"len":%d,"more":%d}' % (n, n - shown) if n > shown else "}"


def _items_j(items: tuple) -> list:
    """JSON texts of flat items: whole runs of strings or ints are written in C."""
    kinds = set(map(type, items))
    if len(kinds) == 1:
        tp = kinds.pop()
        if tp is str and max(map(len, items)) <= TRACE_LIMITS.string:
            return list(map(_STR_FMT.__mod__, map(_jstr, items)))
        if tp is int and -_MAX_EXACT_JSON_INT < min(items) and \
                max(items) < _MAX_EXACT_JSON_INT:
            return list(map(_INT_FMT.__mod__, items))
    return [_item_j(x) for x in items]


_STR_FMT = '{"t":"str","v":%s}'
_INT_FMT = '{"t":"int","v":%d}'


def _snap_j(s: Snap) -> str:
    kind, n = s[0], s[1]
    if kind == K_LIST:
        items = s[2]
        if not items:
            return '{"t":"list","items":[]' + _more(n, 0)
        return '{"t":"list","items":[' + ",".join(_items_j(items)) + "]" + \
            _more(n, len(items))
    if kind == K_DICT:
        keys, vals = s[2], s[3]
        if not keys:
            return '{"t":"dict","items":[]' + _more(n, 0)
        body = ",".join(map(_PAIR_FMT.__mod__, zip(_items_j(keys), _items_j(vals))))
        return '{"t":"dict","items":[' + body + "]" + _more(n, len(keys))
    if kind == K_SET:
        enc = encode(set(s[2]), TRACE_LIMITS)
        if n > len(s[2]):
            enc["len"], enc["more"] = n, n - len(enc["items"])
        return dumps(enc)
    if kind == K_BYTES:
        head = s[2]
        out = '{"t":"bytearray","v":' + _jstr(repr(head))
        return out + (',"len":%d,"truncated":true}' % n if n > TRACE_LIMITS.string else "}")
    raise ValueError(f"unknown snapshot kind {kind}")


class _Values:
    """Value tokens -> JSON text, memoised per export (ints and strings by value)."""
    __slots__ = ("ints", "strs")

    def __init__(self):
        self.ints: dict = {}
        self.strs: dict = {}

    def __call__(self, token) -> str:
        tp = type(token)
        if tp is int:
            j = self.ints.get(token)
            if j is None:
                j = self.ints[token] = _int_j(token)
            return j
        if tp is str:
            j = self.strs.get(token)
            if j is None:
                j = self.strs[token] = _str_j(token)
            return j
        if tp is Snap:
            return _snap_j(token)
        if tp is dict:
            return dumps(token)
        f = _SCALAR_J.get(tp)
        if f is not None:
            return f(token)
        if tp is tuple:
            return _tuple_j(token)
        return dumps(encode(token, TRACE_LIMITS))


_names: dict = {}


def _name_j(s: str) -> str:
    j = _names.get(s)
    if j is None:
        j = _jstr(s)
        if len(_names) < 10_000:
            _names[s] = j
    return j


# ---------------------------------------------------------------------- events

_LINE_FMT = '{"kind":"line","frame":%d,"line":%%d}'
_LOOP_FMT = '{"kind":"loop","frame":%d,"line":%d,"iteration":%d}'
_BIND_FMT = '{"kind":"%s","frame":%d,"line":%d,"name":%s,"value":%s%s}'
_is_int = int.__instancecheck__


def export_events(rec, loops: list[dict]) -> tuple[list[str], bool, dict]:
    """(events as JSON texts, cut at the event cap?, line counts)."""
    index = _loop_index(rec, loops)
    by_body, span, nested = index.by_body, index.span, index.nested
    raw = rec.events
    cap = rec.max_events
    # Each raw entry but a frame marker is one event, plus at most one LOOP per LINE: only a
    # long recording can reach the cap, and only then is it checked per entry.
    check = 2 * len(raw) > cap
    val = _Values()
    out: list[str] = []
    append = out.append
    refs: dict = {}
    last_value: dict = {}          # (frame, ref) -> JSON of its last BIND/MUTATE value
    frames_state: dict = {}        # frame -> (its loop counters, its previous LINE)
    counters: dict = {}            # loop header -> iterations so far (current frame)
    prev = None                    # previous LINE of the current frame
    pend: list[str] = []           # BIND/MUTATE of the last diff, not yet written
    pend_at = None                 # (frame, line) of `pend`
    cur = 0
    line_fmt = _LINE_FMT % 0
    cut = False
    for x in raw:
        if check and len(out) + len(pend) >= cap:
            cut = True
            break
        try:
            if type(x) is int:
                if x < 0:
                    frames_state[cur] = (counters, prev)
                    cur = -x - 1
                    counters, prev = frames_state.get(cur) or ({}, None)
                    line_fmt = _LINE_FMT % cur
                    continue
                if by_body:
                    if counters:
                        for h in [h for h in counters if x not in span[h]]:
                            del counters[h]
                    header = by_body.get(x)
                    if header is not None:
                        inner = nested.get(header)
                        if inner is None or prev is None or prev not in inner:
                            n = counters[header] = counters.get(header, 0) + 1
                            loop_j = _LOOP_FMT % (cur, header, n)
                            if pend and pend_at != (cur, header):
                                out.extend(pend)
                                pend.clear()
                            append(loop_j)
                if pend:
                    out.extend(pend)
                    pend.clear()
                prev = x
                append(line_fmt % x)
                continue
            kind = x[0]
            if kind == BIND or kind == MUTATE:
                fid, line, name, token, oid = x[1], x[2], x[3], x[4], x[5]
                vj = val(token)
                if oid is not None:
                    ref = refs.get(oid)
                    if ref is None:
                        ref = refs[oid] = len(refs) + 1
                    seen = (fid, ref)
                    if kind == MUTATE and last_value.get(seen) == vj:
                        continue       # changed identity inside, not value: no mutation
                    last_value[seen] = vj
                    tail = ',"ref":%d' % ref
                else:
                    tail = ""
                if kind == MUTATE and x[6]:
                    tail += ',"aliases":[' + ",".join(map(_name_j, x[6])) + "]"
                if pend and pend_at != (fid, line):
                    out.extend(pend)
                    pend.clear()
                pend_at = (fid, line)
                pend.append(_BIND_FMT % (kind, fid, line, _name_j(name), vj, tail))
                continue
            if pend:
                out.extend(pend)
                pend.clear()
            fid, line = x[1], x[2]
            if kind == CALL:
                head = '{"kind":"call","frame":%d,"line":%d,"name":%s' % (fid, line, _name_j(x[3]))
                if x[4] is True:
                    append(head + ',"resumed":true}')
                else:
                    args = ",".join(["[" + _name_j(n) + "," + val(t) + "]" for n, t in x[4]])
                    append(head + ',"args":[' + args + "]}")
            elif kind == RETURN or kind == YIELD:
                append('{"kind":"%s","frame":%d,"line":%d,"value":%s}' % (
                    kind, fid, line, val(x[3])))
            elif kind == RAISE:
                append('{"kind":"raise","frame":%d,"line":%d,"name":%s,"text":%s}' % (
                    fid, line, _name_j(x[3]), _jstr(x[4])))
            elif kind == CAUGHT or kind == PROPAGATE:
                append('{"kind":"%s","frame":%d,"line":%d,"name":%s}' % (
                    kind, fid, line, _name_j(x[3])))
            elif kind == "output":
                where = "" if line is None else ',"line":%d' % line
                append('{"kind":"output","frame":%d%s,"stream":%s,"text":%s}' % (
                    fid, where, _jstr(x[3]), _jstr("".join(x[4]))))
        except Exception:       # a value that cannot be exported: leave the event out
            continue
    if pend:
        out.extend(pend)
    if len(out) > cap:
        del out[cap:]
        cut = True
    # Every LINE entry is one run of its line (repeats and unrecorded runs are extra_counts).
    counts = dict(rec.extra_counts)
    _count_elements(counts, filter(_is_int, raw))      # in C; markers (< 0) dropped below
    for marker in [k for k in counts if k < 0]:
        del counts[marker]
    return out, cut, counts


class RawJSON(str):
    """A value of the trace dict that build_trace wrote as JSON text already: dumps_trace
    puts it in as it is."""
    __slots__ = ()


_FRAME_FMT = '{"id":%d,"function":%s,"parent":%s,"depth":%d,"def_line":%d,"call_line":%s,' \
    '"kind":"%s"}'


def build_trace(data: dict, rec, tree, source_lines: list[str]) -> None:
    """Fill `data` (the trace JSON) from the recorder. Events (a list of JSON texts), frames,
    loops, lines and line counts (RawJSON) are JSON text already: write `data` with
    `dumps_trace`."""
    loops = rec.loops if rec.loops is not None else find_loops(tree)
    events, cut, counts = export_events(rec, loops)
    frames = []
    used = set(counts)
    for f in rec.frames:
        if f is None:
            continue
        fid, code, parent, depth, call_line = f
        kind = ("generator" if code.co_flags & 0x20 else
                "lambda" if code.co_name == "<lambda>" else "function")
        frames.append(_FRAME_FMT % (fid, _name_j(code.co_qualname),
                                    "null" if parent is None else parent, depth,
                                    code.co_firstlineno,
                                    "null" if call_line is None else call_line, kind))
        used.add(code.co_firstlineno)
    # Lines of non-LINE events (raise, return...) are lines that ran, so already in `counts`,
    # except for the rare event past a cut; the parsing side tolerates a missing line.
    data["frames"] = RawJSON("[" + ",".join(frames) + "]")
    data["events"] = events
    index = _loop_index(rec, loops)
    data["loops"] = RawJSON(index.json if index.json is not None else dumps(loops))
    n_lines = len(source_lines)
    data["lines"] = RawJSON("{" + ",".join(['"%d":%s' % (n, _jstr(source_lines[n - 1]))
                                            for n in sorted(used) if 0 < n <= n_lines]) + "}")
    data["line_counts"] = RawJSON("{" + ",".join(map('"%d":%d'.__mod__, sorted(counts.items())))
                                  + "}")
    data["steps"] = rec.steps
    data["truncated"] = (not rec.recording) or cut


def dumps_trace(data: dict) -> str:
    """The trace as one JSON text: like json.dumps(data, ensure_ascii=False,
    separators=(",", ":")), with what build_trace wrote as JSON text (events, RawJSON values)
    put in as it is."""
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
