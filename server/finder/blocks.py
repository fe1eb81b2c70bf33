"""Building blocks for candidate inputs, and inverse guesses from the target.

Blocks come from the code (its constants, literals, the arguments of method calls) and from
the target output (its elements, substrings, keys, lengths): the input of a CruxEval-style
function is usually made of pieces that show in one or the other. Inverse guesses undo the
common transformations: the output is often the input reversed, sorted, sliced, joined,
split, counted or with a case change.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .mutate import hashable, sorted_or
from .undo import PREDICATE_CHARS


@dataclass
class Blocks:
    ints: list[int] = field(default_factory=list)
    strs: list[str] = field(default_factory=list)
    floats: list[float] = field(default_factory=list)
    lists: list[list] = field(default_factory=list)
    dicts: list[dict] = field(default_factory=list)
    code_strs: list[str] = field(default_factory=list)     # string constants of the code
    methods: set[str] = field(default_factory=set)         # names of the methods it calls


def _add(seq: list, v, limit: int = 60) -> None:
    if v not in seq and len(seq) < limit:
        seq.append(v)


def _walk_value(v, b: Blocks, depth: int = 0) -> None:
    """Elements of the target (and of its elements), breadth first."""
    if depth > 3:
        return
    if isinstance(v, bool):
        return
    if isinstance(v, int):
        _add(b.ints, v)
    elif isinstance(v, float):
        _add(b.floats, v)
    elif isinstance(v, str):
        _add(b.strs, v)
        for num in re.findall(r"-?\d+", v[:200])[:6]:    # numbers the output writes out
            if len(num) <= 18:
                _add(b.ints, int(num))
        if 1 < len(v) <= 40:
            for part in v.split():
                _add(b.strs, part)
            for ch in dict.fromkeys(v):
                _add(b.strs, ch)
    elif isinstance(v, (list, tuple, set, frozenset)):
        items = list(v)[:30]
        _add(b.lists, list(items))
        _add(b.ints, len(items))
        if depth == 0:
            _add(b.lists, list(range(len(items))))     # its positions (indices into an input)
        for x in items:
            _walk_value(x, b, depth + 1)
    elif isinstance(v, dict):
        _add(b.dicts, dict(v))
        _add(b.ints, len(v))
        for k, x in list(v.items())[:30]:
            _walk_value(k, b, depth + 1)
            _walk_value(x, b, depth + 1)


def from_code(tree: ast.AST, b: Blocks) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            b.methods.add(node.func.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("encode", "decode") and node.args:
            for name in ("utf-8", "ascii", "latin-1"):    # an encoding given as an argument
                _add(b.strs, name, 80)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, int):
                for w in (v, v + 1, v - 1):
                    _add(b.ints, w)
            elif isinstance(v, float):
                _add(b.floats, v)
            elif isinstance(v, str) and len(v) <= 40:
                _add(b.strs, v)
                _add(b.code_strs, v, 30)
                if len(v) > 1:
                    for ch in dict.fromkeys(v):
                        _add(b.strs, ch, 80)


def blocks(tree: ast.AST, target) -> Blocks:
    b = Blocks()
    _walk_value(target, b)
    from_code(tree, b)
    for m in sorted(b.methods & set(PREDICATE_CHARS)):
        _add(b.strs, PREDICATE_CHARS[m], 100)
    for v in (0, 1, 2, 3, -1, 5, 10):
        _add(b.ints, v, 80)
    for s in ("a", "ab", "abc", " ", "", "x", "ba", "hello world", "A", "1", "aB1 ", "ü", "!",
              "a\nb", "a\n\nb", "@#"):
        _add(b.strs, s, 100)
    return b


def _camel_split(t: str) -> str:
    return re.sub(r"(?<=[^\s])(?=[A-Z])", " ", t)


def _slices(v) -> list:
    """Prefixes and suffixes, longest first: the output often holds the input plus
    what the function appended or prepended."""
    n = len(v)
    cuts = range(1, n) if n <= 24 else sorted({round(i * n / 24) for i in range(1, 24)})
    out = []
    for k in sorted(cuts, key=lambda k: -min(k, n)):
        out += [v[:k], v[n - k:]]
    return out


def inverses(t, code_strs: Sequence[str] = ()) -> list:
    """Values that the target is a simple transformation of (one argument's worth);
    `code_strs`: the code's string constants (what it may have added or replaced)."""
    out: list = [t]
    if isinstance(t, str):
        if " " in t.strip():
            initials = "".join(w[:1] for w in t.split())
            out += [initials, initials.lower()]
        for c in [c for c in code_strs if c and c in t][:6]:
            out.append(t.replace(c, ""))
            for ch in list(dict.fromkeys(t))[:4] + [" ", "-"]:
                if ch not in c:
                    out.append(t.replace(c, ch))
        spaced = _camel_split(t)
        if spaced != t:
            out += [spaced.lower(), spaced]
        out += [t[::-1], t.lower(), t.upper(), t.swapcase(), t.strip(), t.title(),
                t.capitalize(), t + t, t[1:], t[:-1], " " + t, t + " ", t.replace(" ", ""),
                list(t), t.split(), t.split(","), " ".join(t), t.replace("-", " ")]
        out += _written_values(t)
        if t.isdigit():
            out += [int(t)]
        try:
            out.append(float(t))
        except ValueError:
            pass
    elif isinstance(t, bool):
        out += ["", "a", "1", [], [1], 0, 1, "abc", "ABC", "123"]
    elif isinstance(t, int):
        chars = [c for c in code_strs if len(c) == 1][:3]
        if 0 < t <= 40:
            out += ["a" * t] + [c * t for c in chars]
            # t pieces, or a marker after t characters (counts, splits, find/index)
            out += [sep.join(["a"] * t) for sep in ("\n", " ", ",")]
            out += ["a" * t + c for c in chars + ["\n", " "]]
        out += [str(t), [t], t - 1, t + 1, t * 2, t // 2, -t, "a" * max(0, min(t, 30)),
                list(range(max(0, min(t, 30)))), [1] * max(0, min(t, 30)), "x" * max(0, min(t, 30))]
    elif isinstance(t, float):
        out += [int(t), str(t), [t]]
    elif isinstance(t, (list, tuple)):
        seq = list(t)
        if seq and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 60
                       for x in seq) and len(set(seq)) == len(seq):
            marks = set(seq)          # positions: a string with a marker at each
            out += ["".join("x" if i in marks else "a" for i in range(max(seq) + 1))]
        out += [[seq]]
        out += [seq, seq[::-1], sorted_or(seq), sorted_or(seq)[::-1], seq[:-1], seq[1:],
                seq + seq, tuple(seq)]
        if all(isinstance(x, str) for x in seq):
            out += ["".join(seq), " ".join(seq), ",".join(seq), "".join(seq)[::-1],
                    "\n".join(seq)]       # lines: splitlines, split('\n')
            out += _formatted_pairs(seq, code_strs)
        if all(isinstance(x, (list, tuple)) for x in seq):
            flat = [y for x in seq for y in x]
            out += [flat]
            if all(isinstance(y, str) for y in flat):
                out += [["\n".join(x) for x in seq], [" ".join(x) for x in seq]]
            if all(len(x) == 2 for x in seq):
                try:     # items, in order or popped last first (popitem)
                    out += [dict(seq), dict(seq[::-1])]
                except TypeError:
                    pass
        if all(isinstance(x, int) and not isinstance(x, bool) for x in seq):
            out += [[x for x in seq for _ in range(2)]]
            out += _counted(seq)
            for g in (lambda x: x // 2, lambda x: x * 2, lambda x: x - 1, lambda x: x + 1,
                      lambda x: -x, lambda x: x // 3, lambda x: x // 5):
                out += [[g(x) for x in seq], [g(x) for x in seq][::-1]]
            # numbers read from strings (int(s), s.isdigit()): the same, as digit strings
            out += [[str(x) for x in seq]] + [[str(g(x)) for x in seq]
                                              for g in (lambda x: x // 2, lambda x: x - 1)]
            chars = [c for c in code_strs if len(c) == 1]
            if len(chars) >= len(seq) and all(0 <= x <= 40 for x in seq):
                # counted characters (there may be more characters than counts)
                out += ["".join(c * x for c, x in zip(chars, seq, strict=False))]
        if seq and all(isinstance(x, (list, tuple)) and x for x in seq):
            width = min(len(x) for x in seq)
            out += [[x[j] for x in seq] for j in range(min(width, 3))]   # one column
        if all(hashable(x) for x in seq):
            out += [dict(zip(seq, seq, strict=True)), dict(enumerate(seq)),
                    {f"k{i}": x for i, x in enumerate(seq)}]
            # the elements gathered from nested containers (for k in d: for x in d[k])
            out += [[[x] for x in seq], {x: [x] for x in seq}, {"a": list(seq)}]
    if isinstance(t, (str, list, tuple)) and len(t) > 1:
        out += [list(x) if isinstance(t, tuple) else x for x in _slices(t)]
    out += _codes(t)
    if isinstance(t, dict):
        if all(isinstance(x, int) and not isinstance(x, bool) for x in t.values()):
            out += [{k: g(x) for k, x in t.items()} for g in
                    (lambda x: x * 2, lambda x: x // 2, lambda x: x - 1, lambda x: x + 1)]
            if t and all(0 < x <= 40 for x in t.values()):     # a count of each key
                each = [k for k, x in t.items() for _ in range(x)]
                out += [each, dict(enumerate(each))]      # of the elements, of the values
                if all(isinstance(k, str) for k in t):
                    out += ["".join(each)]
        out += [[t], [{k: v} for k, v in t.items()]]
        out += [list(t), list(t.items()), list(t.values()), {v: k for k, v in t.items()
                                                              if hashable(v)}]
    return out


def _written_values(t: str) -> list:
    """Tuples or lists written out in the target (str() of each, joined): read back, as a
    list, and pairs also as a dict, in order and reversed."""
    chunks = re.findall(r"\([^()]*\)|\[[^\[\]]*\]", t[:400])
    if not chunks or len(chunks) > 20:
        return []
    try:
        seq = [ast.literal_eval(c) for c in chunks]
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return []
    out: list[Any] = [seq]
    if all(isinstance(x, tuple) and len(x) == 2 and hashable(x[0]) for x in seq):
        out += [dict(seq), dict(seq[::-1])]
    return out


def _formatted_pairs(seq: list[str], code_strs) -> list:
    """Strings formatted from pairs ('%s => %s' % (k, v)): split back at the format's
    literal text, as a dict and as a list of pairs."""
    out: list[Any] = []
    for c in code_strs:
        for sep in re.split(r"%[sdr]|\{[^{}]*\}", c):
            if sep.strip() and seq and all(sep in x for x in seq):
                pairs: list[Any] = [tuple(x.split(sep, 1)) for x in seq]
                out += [dict(pairs), pairs] if len({k for k, _ in pairs}) == len(pairs) \
                    else [pairs]
    return out[:6]


def _codes(t) -> list:
    """Character codes written out in the target (ord(c) for c in the input, or the bytes
    of its encoding): the characters they stand for, as a string."""
    if not isinstance(t, (str, bytes, list, tuple)):
        return []
    if isinstance(t, (list, tuple)):
        nums = [x for x in t if isinstance(x, int) and not isinstance(x, bool)]
        nums = nums if len(nums) == len(t) else []
    else:
        text = t.decode("latin-1") if isinstance(t, bytes) else t
        nums = [int(x) for x in re.findall(r"\d+", text)]
    if len(nums) < 2 or not all(32 <= x < 127 for x in nums):
        return []
    return ["".join(chr(x) for x in nums)]


def _counted(seq: list[int]) -> list:
    """The target as each element's count in the input ([x.count(i) for i in x]): labels
    such that each position's label occurs as often as its number says, as str and int."""
    if not seq or len(seq) > 40 or min(seq) < 1 or \
            any(seq.count(v) % v for v in set(seq)):
        return []
    labels: list[int] = []
    used = 0
    open_: dict[int, tuple[Any, int]] = {}
    for v in seq:
        lab, left = open_.get(v, (None, 0))
        if not left:
            lab, left = used, v
            used += 1
        labels.append(lab)
        open_[v] = (lab, left - 1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [[letters[i % 26] * (1 + i // 26) for i in labels], labels]


@dataclass(frozen=True)
class Code:
    """A candidate argument that is not a literal (a function): its repr is its source."""
    src: str

    def __repr__(self) -> str:
        return self.src


# Functions a parameter that is called may be given, simplest first: identity, constant,
# predicates, conversions, and the in-place methods whose None return is often discarded.
_FUNCS = ("lambda x: x", "lambda *a: None", "lambda x: not x", "len", "str", "int", "bool",
          "abs", "sorted", "list", "sum", "max", "min", "lambda x: x * 2", "lambda x: x + 1",
          "lambda x: x - 1", "lambda x: x % 2 == 0", "lambda x: x % 2 == 1",
          "lambda x: x.reverse()", "lambda x: x.sort()", "lambda x: x.pop()",
          "lambda x: x.clear()", "lambda x: x.upper()", "lambda x: x.lower()",
          "lambda x: x[::-1]", "lambda x: x[0]", "lambda *a: a[0]", "lambda *a: True",
          "lambda *a: False", "lambda *a: 0")


def functions(b: Blocks) -> list[Code]:
    """Candidate functions: the simplest fixed ones, comparisons with the small ints known,
    then the other fixed ones and comparisons."""
    ks = sorted({v for v in b.ints if -10 <= v <= 10})[:8]
    first = [f"lambda x: x {op} {k}" for k in ks for op in ("<", ">", "==")]
    then = [f"lambda x: x {op} {k}" for k in ks for op in ("<=", ">=", "!=")]
    # the pool per kind is cut at 40: the commonest shapes first
    return [Code(s) for s in (*_FUNCS[:8], *first, *_FUNCS[8:], *then)]
