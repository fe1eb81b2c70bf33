"""The canonical value encoder: one type-tagged JSON form for display, transport and equality.

`encode(obj)` turns any object into a bounded JSON dict without running user code: no
`__repr__`, `__eq__`, `__hash__`, `__len__`, `__iter__`, properties or metaclass attributes of
user classes are ever called (reads go through the C-level descriptors of the built-in types),
so an object whose `__repr__` hangs or raises, or whose `__len__` lies, is still encoded safely.
Bounds (depth, items per container, characters per string) leave explicit markers in the
encoding ("more": n items left out, "truncated": true) rather than cutting a finished repr.

Objects whose state cannot be read as data (iterators, generators, and other objects of
C-implemented types with hidden state) are encoded with "opaque": true: their type is shown,
their contents are not (reading an iterator would consume it).

Equality (`encoded_equal`) is *type-strict*: 1, 1.0 and True are three different values, a
tuple is not a list, a subclass is not its base; dict and set order never matters; NaN equals
NaN (same encoding) and -0.0 differs from 0.0. Values whose encoding was truncated, or is
opaque, are never reported equal, since equality could not be established.

One module of over 500 lines on purpose: the encoder, its limits, the renderer and the
equality all read one encoding format through shared private helpers; split, each part would
import the others' internals.
"""

from __future__ import annotations

import array as _array
import collections as _collections
import hashlib
import json
import sys
import types
from dataclasses import dataclass
from typing import Any

from .schema import EncodedValue

__all__ = ["Limits", "TRACE_LIMITS", "RESULT_LIMITS", "encode", "render", "encoded_equal",
           "is_complete", "canonical_key", "values_equal", "prepare", "exception_message"]


@dataclass(frozen=True)
class Limits:
    depth: int = 4        # containers nested deeper are shown as {"t": "deep"}
    items: int = 30       # items kept per container
    string: int = 200     # characters kept per string (digits per int)


TRACE_LIMITS = Limits()                                          # values inside a trace
RESULT_LIMITS = Limits(depth=24, items=10_000, string=100_000)   # arguments, results, comparisons

_MAX_EXACT_JSON_INT = 2 ** 53
# Types whose repr is defined by the standard library, deterministic and safe to call. Only the
# exact classes found in these modules when `prepare` runs (in the fork server, before any user
# code) qualify: a user class cannot join by setting its __module__, nor by subclassing one.
_SAFE_REPR_MODULES = ("decimal", "fractions", "datetime", "uuid", "pathlib", "re", "ipaddress",
                      "enum")

# Attribute reads that cannot reach user code: the C descriptors of `type` itself (a metaclass
# property named __name__ or __mro__ is never consulted) and of the built-in classes.
_type_name = type.__dict__["__name__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_dict = type.__dict__["__dict__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_exc_args = BaseException.__dict__["args"].__get__
_exc_dict = BaseException.__dict__["__dict__"].__get__
_IMMUTABLE_TYPE = 1 << 8          # Py_TPFLAGS_IMMUTABLETYPE: C-implemented (never a class stmt)
_real_get_int_digits = sys.get_int_max_str_digits
_real_set_int_digits = sys.set_int_max_str_digits
_GetSet, _Member = types.GetSetDescriptorType, types.MemberDescriptorType


def encode(obj: object, limits: Limits = TRACE_LIMITS) -> dict:
    """Encode `obj` into its canonical, bounded, JSON-compatible form."""
    return _enc(obj, limits, 0, ())


def _cls_name(tp: type) -> str:
    return _type_qualname(tp)


def _with_cls(d: dict, tp: type, base: type) -> dict:
    if tp is not base:
        d["cls"] = _cls_name(tp)
    return d


def _lookup(tp: type, name: str):
    """(class, attribute) where `name` is found along tp's MRO, read from the class dicts."""
    for k in _type_mro(tp):
        d = _type_dict(k)
        if name in d:
            return k, d[name]
    return None, None


def _is_c_type(k: type) -> bool:
    return bool(_type_flags(k) & _IMMUTABLE_TYPE)


def _enc(obj, lim: Limits, depth: int, ancestors: tuple) -> dict:
    tp = type(obj)
    # Scalars first: the common case, and never recursive.
    if obj is None:
        return {"t": "none"}
    if tp is bool:
        return {"t": "bool", "v": obj}
    if issubclass(tp, int):
        return _with_cls(_enc_int(int.__index__(obj), lim), tp, int)
    if issubclass(tp, float):
        return _with_cls({"t": "float", "v": float.__repr__(obj)}, tp, float)
    if issubclass(tp, str):
        return _with_cls(_enc_str(str.__str__(obj), lim), tp, str)
    if issubclass(tp, complex):
        return _with_cls({"t": "complex", "v": complex.__repr__(obj)}, tp, complex)
    if issubclass(tp, (bytes, bytearray)):
        base: type[Any] = bytes if issubclass(tp, bytes) else bytearray
        n = base.__len__(obj)
        d: EncodedValue = {"t": base.__name__,
                           "v": repr(bytes(base.__getitem__(obj, slice(0, lim.string))))}
        if n > lim.string:
            d["len"], d["truncated"] = n, True
        return _with_cls(d, tp, base)
    if obj is Ellipsis:
        return {"t": "ellipsis"}
    if obj is NotImplemented:
        return {"t": "notimplemented"}
    if tp is range:
        return {"t": "range", "v": repr(obj)}

    oid = id(obj)
    if oid in ancestors:
        return {"t": "cycle", "up": len(ancestors) - ancestors.index(oid)}
    if depth >= lim.depth:
        return {"t": "deep", "cls": _cls_name(tp)}
    inner = ancestors + (oid,)

    if tp is list or tp is tuple or issubclass(tp, (list, tuple, _collections.deque)):
        if issubclass(tp, list):
            base, seq = list, obj
        elif issubclass(tp, tuple):
            base, seq = tuple, obj
        else:   # the deque's own C iterator: a subclass's __iter__ is not called
            base, seq = _collections.deque, list(_collections.deque.__iter__(obj))
        getlen = list.__len__ if seq is not obj else base.__len__
        getitem = list.__getitem__ if seq is not obj else base.__getitem__
        n = getlen(seq)
        shown = min(n, lim.items)
        items: list[Any] = [_enc(getitem(seq, i), lim, depth + 1, inner) for i in range(shown)]
        if base is tuple and tp is not tuple:
            fields = _lookup(tp, "_fields")[1]
            names = [f for f in fields if type(f) is str] if type(fields) is tuple else []
            if names and len(names) == n:
                d = {"t": "namedtuple", "cls": _cls_name(tp), "fields": names[:shown],
                     "items": items}
                if n > shown:
                    d["len"], d["more"] = n, n - shown
                return d
        d = {"t": "deque" if base is _collections.deque else base.__name__, "items": items}
        if n > shown:
            d["len"], d["more"] = n, n - shown
        return _container(d, obj, tp, base, lim, depth, inner)
    if issubclass(tp, dict):
        n = dict.__len__(obj)
        pairs = dict.items(obj)
        ordered = issubclass(tp, _collections.OrderedDict)
        if ordered and all(map(_plain_key, dict.keys(obj))):
            # An OrderedDict's own order (move_to_end changes it, not the dict's); reading it
            # hashes the keys, so only when they are built-in scalars.
            pairs = _collections.OrderedDict.items(obj)
        items = []
        for i, (k, v) in enumerate(pairs):
            if i >= lim.items:
                break
            items.append([_enc(k, lim, depth + 1, inner), _enc(v, lim, depth + 1, inner)])
        d = {"t": "dict", "items": items}
        if ordered:
            d["ordered"] = True       # order matters for equality, as between OrderedDicts
        if n > len(items):
            d["len"], d["more"] = n, n - len(items)
        return _container(d, obj, tp, dict, lim, depth, inner)
    if issubclass(tp, (set, frozenset)):
        base = set if issubclass(tp, set) else frozenset
        n = base.__len__(obj)
        # Sorted so that rendering never depends on hash order: sets of ints or of strings in
        # their natural order (compared in C, no user code), others by canonical form.
        if n and _homogeneous(base.__iter__(obj)):
            encoded = [_enc(x, lim, depth + 1, inner)
                       for x in sorted(base.__iter__(obj))[:lim.items]]
        elif n <= 10 * lim.items:
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
        return _container(d, obj, tp, base, lim, depth, inner)
    if issubclass(tp, BaseException):
        args = _exc_args(obj)
        d = {"t": "exception", "cls": _cls_name(tp),
             "args": [_enc(a, lim, depth + 1, inner) for a in args[:lim.items]]}
        if len(args) > lim.items:
            d["more"] = len(args) - lim.items
        attrs: list = []
        left = _dict_attrs(_exc_dict(obj), lim, depth, inner, attrs)
        if attrs:
            d["attrs"] = attrs
        if left:
            d["more"] = d.get("more", 0) + left
        return d
    special = _SPECIAL.get(id(tp))
    if special is not None and special[0] is tp:
        return special[1](obj, lim, depth, inner)
    if issubclass(tp, type):
        return {"t": "type", "name": _cls_name(obj)}
    if issubclass(tp, _array.array):
        n = _array.array.__len__(obj)
        shown = min(n, lim.items)
        d = {"t": "array", "typecode": _array.array.typecode.__get__(obj),
             "items": [_enc(_array.array.__getitem__(obj, i), lim, depth + 1, inner)
                       for i in range(shown)]}
        if n > shown:
            d["len"], d["more"] = n, n - shown
        return _with_cls(d, tp, _array.array)
    if _safe_repr(obj, tp):
        text = repr(obj)
        d = {"t": "repr", "cls": _cls_name(tp), "v": _bounded(text, lim)}
        if len(text) > lim.string:
            d["len"], d["truncated"] = len(text), True
        return d
    return _enc_object(obj, tp, lim, depth, inner)


# Exact types (none can be subclassed, or only the exact type is meant) with their encoders.
def _enc_function(obj, lim, depth, inner) -> dict:
    return {"t": "function", "name": obj.__qualname__}


def _enc_method(obj, lim, depth, inner) -> dict:
    func = obj.__func__
    return {"t": "function",
            "name": func.__qualname__ if type(func) is types.FunctionType else "?"}


def _enc_builtin(obj, lim, depth, inner) -> dict:
    # Named from its own C fields: its __qualname__ would ask the owner's (meta)class.
    name, owner = obj.__name__, obj.__self__
    if owner is not None and type(owner) is not types.ModuleType:
        otp = owner if issubclass(type(owner), type) else type(owner)
        name = f"{_cls_name(otp)}.{name}"
    return {"t": "function", "name": name}


def _enc_descriptor(obj, lim, depth, inner) -> dict:
    name = obj.__qualname__
    return {"t": "function", "name": name if type(name) is str else "?"}


def _enc_code_object(tag: str):
    def enc(obj, lim, depth, inner) -> dict:
        return {"t": tag, "name": obj.__qualname__, "opaque": True}
    return enc


def _enc_module(obj, lim, depth, inner) -> dict:
    name = _module_dict(obj).get("__name__")
    return {"t": "module", "name": name if type(name) is str else "?"}


def _enc_slice(obj, lim, depth, inner) -> dict:
    return {"t": "slice", "items": [_enc(x, lim, depth + 1, inner)
                                    for x in (obj.start, obj.stop, obj.step)]}


def _enc_view(tag: str):
    def enc(obj, lim, depth, inner) -> dict:
        # The view's own C iterator reads the dict's storage: no user code, nothing consumed.
        n = len(obj)
        items: list[EncodedValue] = []
        for x in obj:
            if len(items) >= lim.items:
                break
            items.append(_enc(x, lim, depth + 1, inner))
        d: EncodedValue = {"t": tag, "items": items}
        if n > len(items):
            d["len"], d["more"] = n, n - len(items)
        if tag == "dict_values":
            d["opaque"] = True   # values views never compare equal in Python either
        return d
    return enc


def _enc_memoryview(mv: memoryview, lim: Limits, depth=0, inner=()) -> dict:
    try:
        fmt, nbytes, shape = mv.format, mv.nbytes, mv.shape
    except ValueError:   # released
        return {"t": "memoryview", "released": True, "opaque": True}
    n = min(nbytes, lim.string)
    try:
        data = mv.cast("B")[:n].tobytes() if mv.c_contiguous else mv.tobytes()[:n]
    except (TypeError, ValueError):   # formats cast() refuses
        data = mv.tobytes()[:n]
    d: EncodedValue = {"t": "memoryview", "format": fmt, "shape": list(shape or ()),
                       "v": repr(data)}
    if nbytes > n:
        d["len"], d["truncated"] = nbytes, True
    return d


_module_dict = vars(types.ModuleType)["__dict__"].__get__
_SPECIAL = {id(k): (k, f) for k, f in [
    (types.FunctionType, _enc_function), (types.MethodType, _enc_method),
    (types.BuiltinFunctionType, _enc_builtin), (types.MethodDescriptorType, _enc_descriptor),
    (types.WrapperDescriptorType, _enc_descriptor), (types.MethodWrapperType, _enc_descriptor),
    (types.ClassMethodDescriptorType, _enc_descriptor),
    (types.GeneratorType, _enc_code_object("generator")),
    (types.CoroutineType, _enc_code_object("coroutine")),
    (types.AsyncGeneratorType, _enc_code_object("async_generator")),
    (types.ModuleType, _enc_module), (slice, _enc_slice), (memoryview, _enc_memoryview),
    (type({}.keys()), _enc_view("dict_keys")), (type({}.values()), _enc_view("dict_values")),
    (type({}.items()), _enc_view("dict_items")),
]}
_safe_repr_ids: dict[int, type] | None = None


def prepare() -> dict[int, type]:
    """Fix the set of standard-library types whose repr may be called. Run it before any user
    code can run in the process (the fork server does); otherwise the first encoding of an
    object of an unknown type does. Returns that set (id -> type)."""
    global _safe_repr_ids
    if _safe_repr_ids is not None:
        return _safe_repr_ids
    found: dict[int, type] = {}
    for name in _SAFE_REPR_MODULES:
        try:
            module = __import__(name)
        except ImportError:
            continue
        for value in list(vars(module).values()):
            if not issubclass(type(value), type) or _type_module(value) not in _SAFE_REPR_MODULES:
                continue
            owner, _ = _lookup(value, "__repr__")
            if owner is not None and (_type_module(owner) in _SAFE_REPR_MODULES or
                                      _is_c_type(owner)):
                found[id(value)] = value
    _safe_repr_ids = found
    return found


def _safe_repr(obj, tp: type) -> bool:
    ids = _safe_repr_ids if _safe_repr_ids is not None else prepare()
    if ids.get(id(tp)) is not tp:
        return False
    # Exactly a library class: what its repr shows of the object's contents must be plain too.
    name = _type_name(tp)
    if name in ("datetime", "time") and _type_module(tp) == "datetime":
        tz = obj.tzinfo
        return tz is None or (type(tz) is _timezone() and type(tz.tzname(None)) is str)
    if name == "Pattern" and _type_module(tp) == "re":
        return type(obj.pattern) in (str, bytes)
    if name == "Match" and _type_module(tp) == "re":
        return type(obj.string) in (str, bytes)
    if name == "Fraction":
        d = _type_dict(tp)
        return all(type(d[s].__get__(obj)) is int for s in ("_numerator", "_denominator")
                   if type(d.get(s)) is _Member)
    return True


def _timezone():
    return sys.modules["datetime"].timezone


def _plain_key(k) -> bool:
    tp = type(k)
    return tp is str or tp is int or tp is bytes or tp is float or tp is bool or k is None


def _homogeneous(items) -> bool:
    """All exact ints, or all exact strings: sortable with no user code involved."""
    first = None
    for x in items:
        tp = type(x)
        if first is None:
            if tp is not int and tp is not str:
                return False
            first = tp
        elif tp is not first:
            return False
    return first is not None


def _bounded(s: str, lim: Limits) -> str:
    return s if len(s) <= lim.string else s[: lim.string] + "…"


def _enc_int(i: int, lim: Limits) -> dict:
    if -_MAX_EXACT_JSON_INT < i < _MAX_EXACT_JSON_INT:
        return {"t": "int", "v": i}
    bits = i.bit_length()
    if bits * 0.302 < min(lim.string, 4000):      # digits, under the default int->str limit
        try:
            return {"t": "int", "v": int.__repr__(i)}
        except ValueError:   # user code lowered sys.set_int_max_str_digits
            old = _real_get_int_digits()
            _real_set_int_digits(0)
            try:
                return {"t": "int", "v": int.__repr__(i)}
            finally:
                _real_set_int_digits(old)
    # Too large to print: exact identity through a digest of its bytes, plus its size.
    raw = i.to_bytes((bits + 8) // 8, "little", signed=True)
    return {"t": "int", "bits": bits, "sign": -1 if i < 0 else 1,
            "digest": hashlib.sha256(raw).hexdigest()[:32]}


def _enc_str(s: str, lim: Limits) -> dict:
    if len(s) <= lim.string:
        return {"t": "str", "v": s}
    return {"t": "str", "v": s[: lim.string], "len": len(s), "truncated": True}


def _dict_attrs(d, lim: Limits, depth: int, inner: tuple, attrs: list) -> int:
    """Append [name, encoded] pairs from an instance dict to `attrs`, up to the item bound;
    returns how many names were left out."""
    if type(d) is not dict:
        return 0
    left = 0
    for name, value in dict.items(d):
        if type(name) is not str:
            continue
        if len(attrs) < lim.items:
            attrs.append([name, _enc(value, lim, depth + 1, inner)])
        else:
            left += 1
    return left


_layouts: dict[int, tuple] = {}


def _layout(tp: type) -> tuple:
    """(type, (instance-dict descriptor, its class) or None, ((slot, descriptor, class), ...),
    the first C-implemented class other than object in the MRO or None), cached per type:
    slots and the MRO do not change after a class is created."""
    got = _layouts.get(id(tp))
    if got is not None and got[0] is tp:
        return got
    mro = _type_mro(tp)
    dict_desc = None
    for k in mro:
        desc = _type_dict(k).get("__dict__")
        if type(desc) is _GetSet or type(desc) is _Member:   # SimpleNamespace's is a member
            dict_desc = (desc, k)
            break
    slots = []
    for k in mro:
        names = _type_dict(k).get("__slots__", ())
        names = (names,) if type(names) is str else names if type(names) in (tuple, list) else ()
        for name in names:
            desc = _type_dict(k).get(name) if type(name) is str else None
            if type(desc) is _Member:
                slots.append((name, desc, k))
    hidden = next((k for k in mro if k is not object and k is not types.SimpleNamespace
                   and _is_c_type(k)), None)
    if len(_layouts) > 4096:
        _layouts.clear()
    got = _layouts[id(tp)] = (tp, dict_desc, tuple(slots), hidden)
    return got


def _attrs(obj, dict_desc, slots, lim: Limits, depth: int, inner: tuple) -> tuple[list, int]:
    """([name, encoded] of an instance's attributes, up to the item bound; how many more),
    read through the class's own descriptors: none of the object's code runs."""
    attrs: list = []
    left = 0
    if dict_desc is not None:
        try:
            d = dict_desc[0].__get__(obj, dict_desc[1])
        except Exception:  # noqa: BLE001 - a user object's __dict__ descriptor may raise anything
            d = None
        left += _dict_attrs(d, lim, depth, inner, attrs)
    for name, desc, k in slots:
        try:
            value = desc.__get__(obj, k)
        except AttributeError:
            continue   # slot not set
        if len(attrs) < lim.items:
            attrs.append([name, _enc(value, lim, depth + 1, inner)])
        else:
            left += 1
    return attrs, left


def _container(d: dict, obj, tp: type, base: type, lim: Limits, depth: int,
               inner: tuple) -> dict:
    """A built-in container's encoding `d`, finished: a subclass's class name, and a user
    subclass's own attributes too (`attrs`, and `attrs_more` when some are not shown)."""
    if tp is not base and not _is_c_type(tp):
        _, dict_desc, slots, _ = _layout(tp)
        attrs, left = _attrs(obj, dict_desc, slots, lim, depth, inner)
        if attrs:
            d["attrs"] = attrs
        if left:
            d["attrs_more"] = left
    return _with_cls(d, tp, base)


def _enc_object(obj, tp: type, lim: Limits, depth: int, inner: tuple) -> dict:
    """A user object: class name plus attributes, read without running any of its code."""
    _, dict_desc, slots, hidden = _layout(tp)
    attrs, left = _attrs(obj, dict_desc, slots, lim, depth, inner)
    d: EncodedValue = {"t": "object", "cls": _cls_name(tp), "attrs": attrs}
    if left:
        d["more"] = left
    # A C-implemented class (other than object) keeps state that is not in attributes.
    if hidden is not None:
        if "__next__" in _type_dict(hidden):
            d["t"] = "iterator"
        d["opaque"] = True
        if hidden is not tp:
            d["base"] = _cls_name(hidden)
    return d


def exception_message(exc: BaseException, limit: int = 2000) -> str:
    """What str(exc) says, computed without running user code: str() itself only when every
    part it reads is built-in code and plain data, else the same text rebuilt from the
    exception's arguments through the encoder (a user __str__ is never called)."""
    tp = type(exc)
    owner, _ = _lookup(tp, "__str__")
    if owner is not None and _is_c_type(owner) and _plain(_exc_args(exc), 2):
        fields = []
        for k in _type_mro(tp):
            if k is BaseException or k is object or not _is_c_type(k):
                continue
            for name, desc in _type_dict(k).items():
                if type(desc) in (_GetSet, _Member) and not name.startswith("__"):
                    try:
                        fields.append(desc.__get__(exc, k))
                    except AttributeError:
                        pass
        if all(_plain(x, 2) for x in fields):
            try:
                return str(exc)[:limit]
            except Exception:  # noqa: BLE001 - a user exception's __str__ may raise anything
                pass
    args = _exc_args(exc)
    if not args:
        return ""
    lim = Limits(depth=6, items=100, string=limit)
    if len(args) == 1:
        a = args[0]
        if issubclass(type(a), str):
            return str.__str__(a)[:limit]
        return render(encode(a, lim))[:limit]
    return render(encode(args, lim))[:limit]


_PLAIN = (str, int, float, bool, type(None), bytes, complex)


def _plain(x, depth: int) -> bool:
    tp = type(x)
    if any(tp is k for k in _PLAIN):
        return not (tp is int and x.bit_length() > 10_000) and \
            not (tp in (str, bytes) and len(x) > 100_000)
    if (tp is tuple or tp is list) and depth > 0 and len(x) <= 100:
        return all(_plain(y, depth - 1) for y in x)
    return False

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
            if t in ("dict", "dict_keys", "dict_items") and not v.get("ordered"):
                # order never matters for these (but does between OrderedDicts)
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
        if v.get("truncated") or "more" in v or "attrs_more" in v or v.get("opaque") \
                or v.get("t") == "deep":
            return False
        return all(is_complete(x) for k, x in v.items() if k in ("items", "attrs", "args"))
    if isinstance(v, list):
        return all(is_complete(x) for x in v)
    return True


def encoded_equal(a: dict, b: dict) -> bool:
    """Type-strict equality of two encoded values; False when either is truncated or opaque."""
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
    if t in ("dict_keys", "dict_values", "dict_items"):
        parts = [render(x) for x in v["items"]]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        return f"{t}([{', '.join(parts)}])"
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
        parts = [f'{n}={render(x)}' for n, x in zip(v['fields'], v['items'], strict=False)]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        return f"{v['cls']}({', '.join(parts)})"
    if t == "dict":
        parts = [f"{render(k)}: {render(x)}" for k, x in v["items"]]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        return _cls_wrap(v, "{" + ", ".join(parts) + "}")
    if t in ("object", "iterator"):
        parts = [f'{n}={render(x)}' for n, x in v['attrs']]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        if v.get("opaque"):
            return f"<{v['cls']}{' ' if parts else ''}{', '.join(parts)}>"
        return f"{v['cls']}({', '.join(parts)})"
    if t == "exception":
        parts = [render(a) for a in v["args"]]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        parts += [f"{n}={render(x)}" for n, x in v.get("attrs", ())]
        return f"{v['cls']}({', '.join(parts)})"
    if t in ("function", "generator", "coroutine", "async_generator", "module", "type"):
        return {"function": "<function {}>", "generator": "<generator {}>",
                "coroutine": "<coroutine {}>", "async_generator": "<async_generator {}>",
                "module": "<module {}>", "type": "<class {}>"}[t].format(v["name"])
    if t == "slice":
        return f"slice({', '.join(render(x) for x in v['items'])})"
    if t == "array":
        parts = [render(x) for x in v["items"]]
        if v.get("more"):
            parts.append(f"<{v['more']} more>")
        return _cls_wrap(v, f"array({v['typecode']!r}, [{', '.join(parts)}])")
    if t == "memoryview":
        if v.get("released"):
            return "<released memoryview>"
        s = v["v"] + (f"… ({v['len']} bytes)" if v.get("truncated") else "")
        if v["format"] == "B" and len(v["shape"]) == 1:
            return f"memoryview({s})"
        return f"<memoryview format={v['format']!r} shape={tuple(v['shape'])} {s}>"
    if t == "notimplemented":
        return "NotImplemented"
    if t == "repr":
        return v["v"]
    if t == "cycle":
        return "[...]"
    if t == "deep":
        return f"<{v['cls']} …>"
    return f"<{t}>"


def _cls_wrap(v: dict, s: str) -> str:
    if "cls" not in v:
        return s
    parts = [s] + [f"{n}={render(x)}" for n, x in v.get("attrs", ())]
    if v.get("attrs_more"):
        parts.append(f"<{v['attrs_more']} more>")
    return f"{v['cls']}({', '.join(parts)})"
