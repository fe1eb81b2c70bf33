"""The canonical value encoder: one type-tagged JSON form for display, transport and equality.

`encode(obj)` turns any object into a bounded JSON dict without running user code: no
`__repr__`, `__eq__`, `__len__`, `__iter__` or properties of user classes are ever called, so an
object whose `__repr__` hangs or raises, or whose `__len__` lies, is still encoded safely.
Bounds (depth, items per container, characters per string) leave explicit markers in the
encoding ("more": n items left out, "truncated": true) rather than cutting a finished repr.

Equality (`encoded_equal`) is *type-strict*: 1, 1.0 and True are three different values, a
tuple is not a list, a subclass is not its base; dict and set order never matters; NaN equals
NaN (same encoding) and -0.0 differs from 0.0. Values whose encoding was truncated are never
reported equal, since equality could not be established.
"""

from __future__ import annotations

import hashlib
import json
import types
from dataclasses import dataclass

__all__ = ["Limits", "TRACE_LIMITS", "RESULT_LIMITS", "encode", "render", "encoded_equal",
           "is_complete", "canonical_key", "values_equal"]


@dataclass(frozen=True)
class Limits:
    depth: int = 4        # containers nested deeper are shown as {"t": "deep"}
    items: int = 30       # items kept per container
    string: int = 200     # characters kept per string (digits per int)


TRACE_LIMITS = Limits()                                          # values inside a trace
RESULT_LIMITS = Limits(depth=24, items=10_000, string=100_000)   # arguments, results, comparisons

_MAX_EXACT_JSON_INT = 2 ** 53
# Types whose repr is defined by the standard library, deterministic and safe to call.
_SAFE_REPR_MODULES = {"decimal", "fractions", "datetime", "uuid", "pathlib", "re", "ipaddress",
                      "enum"}


def encode(obj: object, limits: Limits = TRACE_LIMITS) -> dict:
    """Encode `obj` into its canonical, bounded, JSON-compatible form."""
    return _enc(obj, limits, 0, ())


def _cls_name(tp: type) -> str:
    return tp.__qualname__ if isinstance(tp.__qualname__, str) else tp.__name__


def _with_cls(d: dict, tp: type, base: type) -> dict:
    if tp is not base:
        d["cls"] = _cls_name(tp)
    return d


def _mro_has(tp: type, name: str) -> bool:
    return any(name in vars(k) for k in tp.__mro__)


def _enc(obj, lim: Limits, depth: int, ancestors: tuple) -> dict:
    tp = type(obj)
    # Scalars first: the common case, and never recursive.
    if obj is None:
        return {"t": "none"}
    if tp is bool:
        return {"t": "bool", "v": obj}
    if issubclass(tp, int) and tp is not bool and not issubclass(tp, bool):
        return _with_cls(_enc_int(int.__index__(obj), lim), tp, int)
    if issubclass(tp, float):
        return _with_cls({"t": "float", "v": float.__repr__(obj)}, tp, float)
    if issubclass(tp, str):
        return _with_cls(_enc_str(str.__str__(obj), lim), tp, str)
    if tp is complex:
        return {"t": "complex", "v": complex.__repr__(obj)}
    if issubclass(tp, (bytes, bytearray)):
        base = bytes if issubclass(tp, bytes) else bytearray
        n = base.__len__(obj)
        d = {"t": base.__name__, "v": repr(bytes(base.__getitem__(obj, slice(0, lim.string))))}
        if n > lim.string:
            d["len"], d["truncated"] = n, True
        return _with_cls(d, tp, base)
    if obj is Ellipsis:
        return {"t": "ellipsis"}
    if tp is range:
        return {"t": "range", "v": repr(obj)}

    oid = id(obj)
    if oid in ancestors:
        return {"t": "cycle", "up": len(ancestors) - ancestors.index(oid)}
    if depth >= lim.depth:
        return {"t": "deep", "cls": _cls_name(tp)}
    inner = ancestors + (oid,)

    if issubclass(tp, (list, tuple)) or _is_deque(tp):
        base = list if issubclass(tp, list) else tuple if issubclass(tp, tuple) else None
        seq = list(obj) if base is None else obj       # deque: C iteration, safe
        getlen = len if base is None else base.__len__
        getitem = (lambda s, i: s[i]) if base is None else base.__getitem__
        n = getlen(seq)
        shown = min(n, lim.items)
        items = [_enc(getitem(seq, i), lim, depth + 1, inner) for i in range(shown)]
        if base is tuple and _mro_has(tp, "_fields"):
            names = [f for f in tp.__dict__.get("_fields", ()) if isinstance(f, str)]
            if len(names) == n:
                return {"t": "namedtuple", "cls": _cls_name(tp), "fields": names[:shown],
                        "items": items}
        d = {"t": base.__name__ if base else "deque", "items": items}
        if n > shown:
            d["len"], d["more"] = n, n - shown
        return d if base is None else _with_cls(d, tp, base)
    if issubclass(tp, dict):
        n = dict.__len__(obj)
        items = []
        for i, (k, v) in enumerate(dict.items(obj)):
            if i >= lim.items:
                break
            items.append([_enc(k, lim, depth + 1, inner), _enc(v, lim, depth + 1, inner)])
        d = {"t": "dict", "items": items}
        if n > len(items):
            d["len"], d["more"] = n, n - len(items)
        return _with_cls(d, tp, dict)
    if issubclass(tp, (set, frozenset)):
        base = set if issubclass(tp, set) else frozenset
        n = base.__len__(obj)
        # Sorted by canonical form so that rendering never depends on hash order.
        if n <= 10 * lim.items:
            encoded = sorted((_enc(x, lim, depth + 1, inner) for x in base.__iter__(obj)),
                             key=canonical_key)[:lim.items]
        else:
            encoded = []
            for x in base.__iter__(obj):
                if len(encoded) >= lim.items:
                    break
                encoded.append(_enc(x, lim, depth + 1, inner))
            encoded.sort(key=canonical_key)
        d = {"t": base.__name__, "items": encoded}
        if n > len(encoded):
            d["len"], d["more"] = n, n - len(encoded)
        return _with_cls(d, tp, base)
    if issubclass(tp, BaseException):
        args = BaseException.__getattribute__(obj, "args")
        return {"t": "exception", "cls": _cls_name(tp),
                "args": [_enc(a, lim, depth + 1, inner) for a in tuple(args)[:lim.items]]}
    if tp in (types.FunctionType, types.LambdaType):
        return {"t": "function", "name": obj.__qualname__}
    if tp in (types.BuiltinFunctionType, types.MethodType, types.BuiltinMethodType):
        return {"t": "function", "name": getattr(obj, "__qualname__", None) or "?"}
    if tp is types.GeneratorType:
        return {"t": "generator", "name": obj.__qualname__}
    if tp is types.ModuleType:
        return {"t": "module", "name": obj.__name__ if isinstance(obj.__name__, str) else "?"}
    if issubclass(tp, type):
        return {"t": "type", "name": _cls_name(obj)}
    if tp.__module__ in _SAFE_REPR_MODULES and _repr_is_library_code(tp):
        return {"t": "repr", "cls": _cls_name(tp), "v": _bounded(repr(obj), lim)}
    return _enc_object(obj, tp, lim, depth, inner)


def _is_deque(tp: type) -> bool:
    return tp.__module__ == "collections" and tp.__name__ == "deque"


def _repr_is_library_code(tp: type) -> bool:
    for k in tp.__mro__:
        if "__repr__" in vars(k):
            return k.__module__ in _SAFE_REPR_MODULES or k.__module__ == "builtins"
    return True


def _bounded(s: str, lim: Limits) -> str:
    return s if len(s) <= lim.string else s[: lim.string] + "…"


def _enc_int(i: int, lim: Limits) -> dict:
    if -_MAX_EXACT_JSON_INT < i < _MAX_EXACT_JSON_INT:
        return {"t": "int", "v": i}
    bits = i.bit_length()
    if bits * 0.302 < min(lim.string, 4000):      # digits, under the int->str limit
        return {"t": "int", "v": str(i)}
    # Too large to print: exact identity through a digest of its bytes, plus its size.
    raw = i.to_bytes((bits + 8) // 8, "little", signed=True)
    return {"t": "int", "bits": bits, "sign": -1 if i < 0 else 1,
            "digest": hashlib.sha256(raw).hexdigest()[:32]}


def _enc_str(s: str, lim: Limits) -> dict:
    if len(s) <= lim.string:
        return {"t": "str", "v": s}
    return {"t": "str", "v": s[: lim.string], "len": len(s), "truncated": True}


def _enc_object(obj, tp: type, lim: Limits, depth: int, inner: tuple) -> dict:
    """A user object: class name plus attributes, read without running any of its code."""
    attrs = []
    for k in tp.__mro__:
        desc = vars(k).get("__dict__")
        if isinstance(desc, types.GetSetDescriptorType):
            try:
                d = object.__getattribute__(obj, "__dict__")
            except Exception:
                d = None
            if type(d) is dict:
                for name, value in dict.items(d):
                    if isinstance(name, str) and len(attrs) < lim.items:
                        attrs.append([name, _enc(value, lim, depth + 1, inner)])
            break
    for k in tp.__mro__:
        slots = vars(k).get("__slots__", ())
        for name in ([slots] if isinstance(slots, str) else slots if isinstance(slots, (tuple, list)) else ()):
            desc = vars(k).get(name)
            if isinstance(desc, types.MemberDescriptorType) and len(attrs) < lim.items:
                try:
                    attrs.append([name, _enc(desc.__get__(obj, k), lim, depth + 1, inner)])
                except AttributeError:
                    pass  # slot not set
    return {"t": "object", "cls": _cls_name(tp), "attrs": attrs}


# ---------------------------------------------------------------------------------- equality

def canonical_key(v: dict) -> str:
    """A string that is equal for two encodings exactly when they denote equal values."""
    return json.dumps(_normal(v), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _normal(v):
    if isinstance(v, dict):
        t = v.get("t")
        out = {k: _normal(x) for k, x in v.items() if k != "items" and k != "attrs"}
        if "items" in v:
            items = [_normal(x) for x in v["items"]]
            if t == "dict":
                items.sort(key=lambda kv: json.dumps(kv, sort_keys=True))
            out["items"] = items
        if "attrs" in v:
            out["attrs"] = sorted(([a, _normal(x)] for a, x in v["attrs"]), key=lambda a: a[0])
        return out
    if isinstance(v, list):
        return [_normal(x) for x in v]
    return v


def is_complete(v) -> bool:
    """No bound was hit anywhere in this encoding."""
    if isinstance(v, dict):
        if v.get("truncated") or "more" in v or v.get("t") == "deep":
            return False
        return all(is_complete(x) for k, x in v.items() if k in ("items", "attrs", "args"))
    if isinstance(v, list):
        return all(is_complete(x) for x in v)
    return True


def encoded_equal(a: dict, b: dict) -> bool:
    """Type-strict equality of two encoded values; False when either is truncated."""
    return is_complete(a) and is_complete(b) and canonical_key(a) == canonical_key(b)


def values_equal(x: object, y: object) -> bool:
    """Type-strict equality of two live objects, through the canonical encoder."""
    return encoded_equal(encode(x, RESULT_LIMITS), encode(y, RESULT_LIMITS))


# ---------------------------------------------------------------------------------- rendering

def render(v: dict) -> str:
    """Python-like text for an encoded value; complete plain data renders as a valid literal."""
    t = v.get("t")
    if t == "none":
        return "None"
    if t == "bool":
        return "True" if v["v"] else "False"
    if t == "int":
        s = str(v["v"]) if "v" in v else f"<int with {v['bits']} bits>"
        return _cls_wrap(v, s)
    if t in ("float", "complex", "range"):
        return _cls_wrap(v, str(v["v"]))
    if t == "str":
        s = repr(v["v"])
        if v.get("truncated"):
            s = s[:-1] + f"…{s[-1]} ({v['len']} chars)"
        return _cls_wrap(v, s)
    if t in ("bytes", "bytearray"):
        s = v["v"] + (f"… ({v['len']} bytes)" if v.get("truncated") else "")
        return f"bytearray({s})" if t == "bytearray" else s
    if t == "ellipsis":
        return "Ellipsis"
    if t in ("list", "tuple", "set", "frozenset", "deque"):
        parts = [render(x) for x in v["items"]]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        body = ", ".join(parts)
        if t == "list":
            s = f"[{body}]"
        elif t == "tuple":
            s = f"({body},)" if len(parts) == 1 else f"({body})"
        elif t == "set":
            s = f"{{{body}}}" if parts else "set()"
        elif t == "frozenset":
            s = f"frozenset({{{body}}})" if parts else "frozenset()"
        else:
            s = f"deque([{body}])"
        return _cls_wrap(v, s)
    if t == "namedtuple":
        return f"{v['cls']}({', '.join(f'{n}={render(x)}' for n, x in zip(v['fields'], v['items']))})"
    if t == "dict":
        parts = [f"{render(k)}: {render(x)}" for k, x in v["items"]]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        return _cls_wrap(v, "{" + ", ".join(parts) + "}")
    if t == "object":
        return f"{v['cls']}({', '.join(f'{n}={render(x)}' for n, x in v['attrs'])})"
    if t == "exception":
        return f"{v['cls']}({', '.join(render(a) for a in v['args'])})"
    if t in ("function", "generator", "module", "type"):
        return {"function": "<function {}>", "generator": "<generator {}>",
                "module": "<module {}>", "type": "<class {}>"}[t].format(v["name"])
    if t == "repr":
        return v["v"]
    if t == "cycle":
        return "[...]"
    if t == "deep":
        return f"<{v['cls']} …>"
    return f"<{t}>"


def _cls_wrap(v: dict, s: str) -> str:
    return f"{v['cls']}({s})" if "cls" in v else s
