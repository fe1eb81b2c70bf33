"""Value tokens and small pieces of the trace as JSON text, for trace_export.

Everything here writes exactly what `json.dumps(values.encode(x), ensure_ascii=False,
separators=(",", ":"))` would, but for the common tokens (ints, short strings, snapshots of
flat lists and dicts) without building the encoding dict first. A trace of a few dozen events
is exported in microseconds, so what costs is per-call set-up, Python calls per item and
int-to-text conversions (a `%d` costs as much as a dict lookup and a string concatenation
together): runs of strings or ints inside a container are written by one C-level join, and
texts that only depend on a small int (digits, a line's '"n":' key, an int value) come from
`Memo` tables that are filled for the usual range at import, in the fork server, before any
run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from operator import call
from typing import Any
from json.encoder import encode_basestring as _jstr

from .recorder import K_BYTES, K_DICT, K_LIST, K_SET, Snap
from ..values import TRACE_LIMITS, encode

_ITEMS = TRACE_LIMITS.items
_STRING = TRACE_LIMITS.string
_MAX_EXACT_JSON_INT = 2 ** 53
# "Are all these types int?" in C, stopping at the first that is not.
_int_only = frozenset({int}).issuperset


class Memo(dict):
    """memo[key] is f(key), kept for the first `size` keys. Only for pure functions whose
    keys compare equal only when f gives the same text (e.g. not 1 and True for an int's
    encoding: callers look up exact ints only)."""
    __slots__ = ("f", "size")

    def __init__(self, f, size: int = 10_000, prefill=()):
        super().__init__()
        self.f, self.size = f, size
        for key in prefill:
            self[key] = f(key)

    def __missing__(self, key):
        text = self.f(key)
        if len(self) < self.size:
            self[key] = text
        return text


def _default(o):
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


try:
    # Not in the stubs: the C encoder json.dumps itself uses (None without the _json module).
    from json.encoder import c_make_encoder as _c_make  # type: ignore[attr-defined]
    _C_ENC = _c_make(None, _default, _jstr, None, ":", ",", False, False, True) \
        if _c_make is not None else None
except Exception:  # noqa: BLE001  # pragma: no cover - pure-Python json: no C encoder
    _C_ENC = None


def dumps(obj) -> str:
    """json.dumps(obj, ensure_ascii=False, separators=(",", ":")), without per-call set-up."""
    if _C_ENC is not None:
        return "".join(_C_ENC(obj, 0))
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# Small ints as text: frame ids, line numbers, counts, reference numbers. Subscripting these
# does what '%d' % n does (a non-int raises TypeError), memoised.
DIGITS = Memo("%d".__mod__, 1 << 14, range(1024))
KEYS = Memo('"%d":'.__mod__, 1 << 14, range(1024))          # '"n":' for a line number n
NAMES = Memo(_jstr)     # variable, function and exception names as JSON strings


def scalar_field_j(v) -> str | None:
    """JSON of a plain str, int, bool, None or finite float (what the trace's top-level
    fields mostly hold), else None: cheaper than a dumps call for each small dict."""
    tp = type(v)
    if tp is str:
        return _jstr(v)
    if tp is bool:
        return "true" if v else "false"
    if tp is int:
        return DIGITS[v]
    if v is None:
        return "null"
    if tp is float and v - v == 0.0:       # finite: json writes NaN and infinities apart
        return float.__repr__(v)
    return None


# ---------------------------------------------------------------------- scalars

NONE_J = '{"t":"none"}'
TRUE_J, FALSE_J = '{"t":"bool","v":true}', '{"t":"bool","v":false}'
_STR_OPEN = '{"t":"str","v":'
_INT_OPEN = '{"t":"int","v":'


def _int_j(i: int) -> str:
    if -_MAX_EXACT_JSON_INT < i < _MAX_EXACT_JSON_INT:
        return _INT_OPEN + repr(i) + "}"
    return dumps(encode(i, TRACE_LIMITS))


INTS = Memo(_int_j, 1 << 14, range(-16, 256))     # exact ints (not bools) -> their JSON


def str_j(s: str) -> str:
    if len(s) <= _STRING:
        return _STR_OPEN + _jstr(s) + "}"
    return dumps(encode(s, TRACE_LIMITS))


def _float_j(x: float) -> str:
    return '{"t":"float","v":"' + float.__repr__(x) + '"}'


def _tuple_j(t: tuple) -> str:
    if len(t) <= _ITEMS:
        try:        # each item by the function for its type, called from C
            return '{"t":"tuple","items":[' + \
                ",".join(map(call, map(_SCALAR_J_OF.__getitem__, map(type, t)), t)) + "]}"
        except KeyError:    # not a flat tuple of scalars
            pass
    return dumps(encode(t, TRACE_LIMITS))


def _encoded_j(x) -> str:
    return dumps(encode(x, TRACE_LIMITS))


_SCALAR_J: dict[type, Callable[[Any], str]] = {
    int: INTS.__getitem__, str: str_j, float: _float_j,
    bool: lambda b: TRUE_J if b else FALSE_J, type(None): lambda _: NONE_J,
    bytes: _encoded_j, complex: _encoded_j}
# The scalars a tuple's encoding is written for here, item by item (the others: by encode).
_SCALAR_J_OF: dict[type, Callable[[Any], str]] = {
    tp: _SCALAR_J[tp] for tp in (int, str, float, bool, type(None))}
# What a snapshot's items can be (capture.snapshot): scalars and flat tuples of them.
_ITEM_J: dict[type, Callable[[Any], str]] = {**_SCALAR_J, tuple: _tuple_j}


def _item_j(x) -> str:
    f = _ITEM_J.get(type(x))
    return f(x) if f is not None else _encoded_j(x)


# ---------------------------------------------------------------------- snapshots

_NUL, _NUL_J = "\0", "\\u0000"       # a character and its JSON escape


def _texts(items: tuple, sep: str) -> str:
    """The JSON texts of non-empty flat items joined by `sep` (a comma, or NUL to split them
    apart): strings all at once, ints from INTS, the rest each by the function for its type,
    called from C."""
    if type(items[0]) is str:
        j = _strs_j(items, sep)
        if j is not None:
            return j
    elif _int_only(map(type, items)):
        return sep.join(map(INTS.__getitem__, items))
    return sep.join(_each_j(items))


def _strs_j(items: tuple, sep: str) -> str | None:
    """Strings as their JSON items joined by `sep`, escaped by one encode_basestring call:
    it escapes character by character, so the escape of NUL marks where each string ends, as
    long as none holds a NUL or a backslash. None if not all are strings of at most
    `_STRING` characters."""
    try:
        joined = _NUL.join(items)           # TypeError unless all are strings
    except TypeError:
        return None
    if len(joined) - len(items) >= _STRING and max(map(len, items)) > _STRING:
        return None
    if "\\" in joined or joined.count(_NUL) != len(items) - 1:
        return _STR_OPEN + ("}" + sep + _STR_OPEN).join(map(_jstr, items)) + "}"
    return _STR_OPEN + _jstr(joined).replace(_NUL_J, '"}' + sep + _STR_OPEN + '"') + "}"


def _each_j(items: tuple):
    """The items' JSON texts, each by the function for its type called from C."""
    try:
        return list(map(call, map(_ITEM_J.__getitem__, map(type, items)), items))
    except KeyError:
        return list(map(_item_j, items))


_pair_j = ",".join


def _more(n: int, shown: int) -> str:
    return ',"len":%d,"more":%d}' % (n, n - shown) if n > shown else "}"


def snap_j(s: Snap) -> str:
    kind, n = s[0], s[1]
    if kind == K_LIST:
        items = s[2]
        body = _texts(items, ",") if items else ""
        if n > len(items):
            return f'{{"t":"list","items":[{body}],"len":{n},"more":{n - len(items)}}}'
        return f'{{"t":"list","items":[{body}]}}'
    if kind == K_DICT:
        keys, vals = s[2], s[3]
        if not keys:
            return '{"t":"dict","items":[]' + _more(n, 0)
        pairs = zip(_texts(keys, _NUL).split(_NUL), _texts(vals, _NUL).split(_NUL), strict=True)
        return '{"t":"dict","items":[[' + "],[".join(map(_pair_j, pairs)) + "]]" + \
            _more(n, len(keys))
    if kind == K_SET:
        enc = encode(set(s[2]), TRACE_LIMITS)
        if n > len(s[2]):
            enc["len"], enc["more"] = n, n - len(enc["items"])
        return dumps(enc)
    if kind == K_BYTES:
        head = s[2]
        out = '{"t":"bytearray","v":' + _jstr(repr(head))
        return out + (',"len":%d,"truncated":true}' % n if n > _STRING else "}")
    raise ValueError(f"unknown snapshot kind {kind}")


def value_j(token) -> str:
    """The JSON text of a value token (see trace_export); strings are not memoised."""
    tp = type(token)
    if tp is int:
        return INTS[token]
    if tp is str:
        return str_j(token)
    if tp is Snap:
        return snap_j(token)
    if tp is dict:
        return dumps(token)
    f = _SCALAR_J.get(tp)
    if f is not None:
        return f(token)
    if tp is tuple:
        return _tuple_j(token)
    return dumps(encode(token, TRACE_LIMITS))


def memo_value_j(strs: dict, token) -> str:
    """value_j, with strings memoised in `strs` (one export's: they are the user's data)."""
    if type(token) is str:
        j = strs.get(token)
        if j is None:
            j = strs[token] = str_j(token)
        return j
    return value_j(token)
