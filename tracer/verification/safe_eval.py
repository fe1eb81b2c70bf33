"""Plain data for checking text claims: encoded trace values decoded back to Python objects,
small expressions evaluated over them without running anything unsafe, and claimed values
compared with recorded ones (type-strict through the canonical encoder).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from ..values import RESULT_LIMITS, encode, encoded_equal, is_complete, render

__all__ = ["decode", "safe_eval", "equal_encoded", "equal_py", "Undecodable", "Unsafe",
           "SAFE_FUNCS"]


class Undecodable(Exception):
    pass


def decode(v: dict):
    """An encoded value back to a Python object (plain data only)."""
    t = v.get("t")
    if not is_complete(v) or "cls" in v and t != "object":
        raise Undecodable
    if t == "none":
        return None
    if t == "bool":
        return bool(v["v"])
    if t == "int":
        if "v" not in v:
            raise Undecodable
        return int(v["v"])
    if t == "float":
        return float(v["v"])
    if t == "str":
        return v["v"]
    if t == "complex":
        return complex(v["v"])
    if t in ("bytes", "bytearray"):
        b = ast.literal_eval(v["v"])
        return bytearray(b) if t == "bytearray" else b
    if t in ("list", "tuple", "set", "frozenset"):
        items = [decode(x) for x in v["items"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[t](items)
    if t == "dict":
        return {decode(k): decode(x) for k, x in v["items"]}
    raise Undecodable


_MAX_SIZE = 100_000


class Unsafe(Exception):
    pass


SAFE_FUNCS: dict[str, Callable[..., Any]]
SAFE_FUNCS = {"len": len, "sum": sum, "min": min, "max": max, "sorted": sorted, "abs": abs,
               "str": str, "int": int, "float": float, "bool": bool, "list": list,
               "tuple": tuple, "set": set, "dict": dict, "round": round, "ord": ord,
               "chr": chr, "any": any, "all": all, "repr": repr,
               "reversed": lambda x: list(reversed(x)),
               "enumerate": lambda x: list(enumerate(x)),
               "zip": lambda *x: list(zip(*x, strict=False))}   # as Python's zip
_SAFE_METHODS = {"count", "index", "find", "rfind", "upper", "lower", "strip", "lstrip",
                 "rstrip", "split", "rsplit", "join", "startswith", "endswith", "isdigit",
                 "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric",
                 "isdecimal", "title", "capitalize", "swapcase", "get", "keys", "values",
                 "items", "casefold", "partition", "rpartition", "removeprefix", "removesuffix",
                 "zfill", "istitle"}
_PLAIN = (str, list, tuple, dict, set, frozenset, int, float, bool, bytes, type(None))


def _guard(x):
    if isinstance(x, (str, list, tuple, dict, set, frozenset, bytes)) and len(x) > _MAX_SIZE:
        raise Unsafe
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 4096:
        raise Unsafe
    return x


_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
    ast.Invert: operator.invert}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor}
# `is` only against None: other identities depend on how the values were built.
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda x, y: x in y, ast.NotIn: lambda x, y: x not in y,
    ast.Is: lambda x, y: x is y if y is None or x is None else _no(),
    ast.IsNot: lambda x, y: x is not y if y is None or x is None else _no()}


def safe_eval(node: ast.AST, env: dict):
    """Evaluate a small expression over plain data: no attribute access but a few methods of
    built-in types, a few built-in functions, bounded sizes. Raises on anything else."""
    def ev(n: ast.AST) -> Any:
        return safe_eval(n, env)

    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise Unsafe
        return env[node.id]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [ev(x) for x in node.elts]
        return _guard({ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items))
    if isinstance(node, ast.Dict):
        keys = [k for k in node.keys if k is not None]
        if len(keys) < len(node.keys):      # a `**mapping` entry
            raise Unsafe
        return {ev(k): ev(v) for k, v in zip(keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp):
        x = ev(node.operand)
        return _UNARY[type(node.op)](x)
    if isinstance(node, ast.BinOp):
        a, b = ev(node.left), ev(node.right)
        op = type(node.op)
        if op is ast.Pow and (not isinstance(b, (int, float)) or abs(b) > 64 or
                              isinstance(a, (int, float)) and abs(a) > 10 ** 6):
            raise Unsafe
        if op is ast.Mult and isinstance(a, (str, list, tuple, bytes)) or \
                op is ast.Mult and isinstance(b, (str, list, tuple, bytes)):
            seq, k = (a, b) if isinstance(a, (str, list, tuple, bytes)) else (b, a)
            if not isinstance(k, int) or len(seq) * max(k, 0) > _MAX_SIZE:
                raise Unsafe
        if op is ast.LShift and (not isinstance(b, int) or b > 4096):
            raise Unsafe
        if op not in _BINARY or (op is ast.Mod and isinstance(a, str)):
            raise Unsafe
        return _guard(_BINARY[op](a, b))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            r = True
            for v in node.values:
                r = ev(v)
                if not r:
                    return r
            return r
        r = False
        for v in node.values:
            r = ev(v)
            if r:
                return r
        return r
    if isinstance(node, ast.Compare):
        left = ev(node.left)
        for cmp, right_node in zip(node.ops, node.comparators, strict=True):
            right = ev(right_node)
            if not _COMPARE[type(cmp)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return ev(node.body) if ev(node.test) else ev(node.orelse)
    if isinstance(node, ast.Subscript):
        obj = ev(node.value)
        if isinstance(node.slice, ast.Slice):
            s = node.slice
            sl = slice(ev(s.lower) if s.lower else None, ev(s.upper) if s.upper else None,
                       ev(s.step) if s.step else None)
            return obj[sl]
        return obj[ev(node.slice)]
    if isinstance(node, ast.Call) and not node.keywords:
        args = [ev(a) for a in node.args]
        if isinstance(node.func, ast.Name) and node.func.id in SAFE_FUNCS \
                and node.func.id not in env:
            if node.func.id in ("str", "repr") and args and not isinstance(args[0], _PLAIN):
                raise Unsafe
            return _guard(SAFE_FUNCS[node.func.id](*args))
        if isinstance(node.func, ast.Attribute) and node.func.attr in _SAFE_METHODS:
            obj = ev(node.func.value)
            if type(obj) not in (str, list, tuple, dict, bytes):
                raise Unsafe
            res = getattr(obj, node.func.attr)(*args)
            if node.func.attr in ("keys", "values", "items"):
                res = list(res)
            return _guard(res)
    raise Unsafe


def _no():
    raise Unsafe


def _encode(x) -> dict:
    return encode(x, RESULT_LIMITS)


def equal_encoded(py, enc: dict | None) -> tuple[bool | None, str]:
    """(equal?, note): True, False, or None when the trace's value cannot settle it."""
    if enc is None:
        return None, ""
    if encoded_equal(_encode(py), enc):
        return True, ""
    if not is_complete(enc):
        return None, ""
    try:
        real = decode(enc)
    except (Undecodable, ValueError, SyntaxError):
        return (None, "") if enc.get("t") == "object" else (False, "")
    try:
        same = real == py
        if isinstance(same, bool) and same:
            return True, f"equal under ==, not the same type ({render(enc)} vs {py!r})"
    except Exception:  # noqa: BLE001 - comparing plain data; be safe anyway
        return None, ""
    return False, ""


def equal_py(got, want, enc: dict | None = None) -> tuple[bool | None, str]:
    """Compare a value computed from the text with the claimed one (or with an encoding)."""
    if enc is not None:
        return equal_encoded(got, enc)
    try:
        if encoded_equal(_encode(got), _encode(want)):
            return True, ""
        if got == want:
            return True, f"equal under ==, not the same type ({got!r} vs {want!r})"
        if isinstance(got, float) and isinstance(want, float) and math.isnan(got) \
                and math.isnan(want):
            return True, ""
    except Exception:  # noqa: BLE001
        return None, ""
    return False, ""
