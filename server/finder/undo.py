"""Inverse guesses that read more than the target: the methods the code calls, the target's
words, separators and repetitions, and guesses that split the target among arguments.

blocks.inverses undoes one transformation of one argument from the target alone. Here:
- `more(t, b)`: values for one argument, from the target and what the code calls on its
  values (`expandtabs` undone into tabs, `popitem` drains keys last first), the target's
  words reordered or cut (`' '.join(reversed(s.split()))`), its halves around a separator
  swapped (`partition`), split back at a code constant (`sep.join`), a repeated target's
  period (`(s + sep) * n`), a container written out read back, pairs of a list joined
  back (`for e in d: e[0], e[1]`), the keys of a dict the function added to;
- `joint(t, arity)`: whole argument lists where the target is the arguments put together:
  a string cut in two (`a + b`), a dict or list with the element the function inserted
  taken out and given as the other arguments (`d[k] = v`, `d[k].append(v)`).
"""

from __future__ import annotations

import ast
from typing import Any

from .mutate import hashable

# Characters that make a str predicate true: a count of them is reached by repeating one.
PREDICATE_CHARS = {"isupper": "A", "islower": "a", "isdigit": "1", "isnumeric": "1",
                   "isdecimal": "1", "isspace": " ", "isalpha": "a", "isalnum": "a",
                   "istitle": "A"}


def unexpand(t: str, size: int) -> str:
    """A string whose expandtabs(size) is t: runs of spaces as tabs up to each tab stop."""
    out = []
    for line in t.split("\n"):
        parts, i = [], 0
        while i < len(line):
            if line[i] != " ":
                parts.append(line[i])
                i += 1
                continue
            end = i
            while end < len(line) and line[end] == " ":
                end += 1
            pos = i
            while (pos // size + 1) * size <= end:
                parts.append("\t")
                pos = (pos // size + 1) * size
            parts.append(" " * (end - pos))
            i = end
        out.append("".join(parts))
    return "\n".join(out)


def _period(s: str) -> str | None:
    """The shortest p with s == p * k, k >= 2."""
    n = len(s)
    for k in range(1, n // 2 + 1):
        if n % k == 0 and s[:k] * (n // k) == s:
            return s[:k]
    return None


def _str_more(t: str, b) -> list:
    out: list[Any] = []
    if "expandtabs" in b.methods and "  " in t:
        out += [unexpand(t, size) for size in sorted({8, 4, 2, *[i for i in b.ints
                                                                 if 1 < i <= 16]})]
    words = t.split()
    if 1 < len(words) <= 12:
        out += [" ".join(words[::-1])]
        for k in range(1, len(words)):      # the function added words at one end
            out += [" ".join(words[k:]), " ".join(words[:-k]),
                    " ".join(words[k:][::-1]), " ".join(words[:-k][::-1])]
    seps = [c for c in b.code_strs if c and len(c) <= 3] + [" "]
    for sep in dict.fromkeys(seps):
        at = t.find(sep)
        hits = 0
        while at >= 0 and hits < 4:        # halves around a separator, swapped back
            a, c = t[:at], t[at + len(sep):]
            for glue in dict.fromkeys([sep, *seps[:4]]):
                out += [c + glue + a, c.strip() + glue + a.strip()]
            at, hits = t.find(sep, at + 1), hits + 1
    out += _split_back(t, b.code_strs)
    out += _written(t)
    for s in (t, t[::-1]):
        p = _period(s)
        if p:
            out += [p, p[::-1]]
    return out


def _written(t: str) -> list:
    """A target that is a container written out (`str(d).replace(' ', '')`): the value
    read back, its keys, its values, and its values flattened."""
    if t[:1] not in ("[", "{", "(") or len(t) > 400:
        return []
    try:
        v = ast.literal_eval(t)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return []
    out: list[Any] = [v]
    items = list(v.values()) if isinstance(v, dict) else list(v) if \
        isinstance(v, (list, tuple, set)) else []
    if isinstance(v, dict):
        out += [list(v), items]
    if items and all(isinstance(x, (list, tuple)) for x in items):
        out += [[y for x in items for y in x]]
    return out


def _split_back(t: str, code_strs) -> list:
    """The target split at a code constant it holds (`sep.join(parts)`), as a list and a
    list of one list, also without another constant the function added at the end (its
    characters, as `parts.extend(const)` adds them, or whole)."""
    out: list[Any] = []
    for sep in [c for c in code_strs if c and c in t][:3]:
        parts = t.split(sep)
        variants = [parts]
        for k in code_strs:
            if k and k != sep and len(parts) > len(k) and parts[-len(k):] == list(k):
                variants.append(parts[:-len(k)])
            if k and k != sep and len(parts) > 1 and parts[-1] == k:
                variants.append(parts[:-1])
        for v in variants:
            out += [v, [v]]
    return out


def more(t, b) -> list:
    """More values for one argument (see the module docstring); `b`: blocks.Blocks."""
    out: list[Any] = []
    if isinstance(t, str):
        out += _str_more(t, b)
    if isinstance(t, (list, tuple)):
        seq = list(t)
        if seq and all(hashable(x) for x in seq):
            # keys drained by popitem (last first), and positions as values
            out += [dict.fromkeys(seq[::-1], 0), {x: i for i, x in enumerate(seq)},
                    {x: i for i, x in enumerate(seq[::-1])}]
        if len(seq) > 1 and all(isinstance(x, tuple) and len(x) == 2 and hashable(x[0])
                                for x in seq):      # items, then what the function added
            out += [dict(seq[:k]) for k in range(len(seq) - 1, 0, -1)][:8]
        if len(seq) >= 2 and all(isinstance(x, str) for x in seq):
            for w in (2, 3):
                if len(seq) % w == 0:
                    chunks = ["".join(seq[i:i + w]) for i in range(0, len(seq), w)]
                    out += [chunks, dict.fromkeys(chunks, 0)]
            joined = " ".join(seq)
            out += [joined.replace(c, " ") for c in b.code_strs if c and c in joined][:4]
        pairs = [x for x in seq if isinstance(x, int) and not isinstance(x, bool)]
        if len(pairs) == 2 == len(seq) and 0 <= min(pairs) and max(pairs) <= 80:
            lo, hi = sorted(pairs)     # (count of marked characters, length)
            out += [m * lo + "a" * (hi - lo) for m in marks(b)]
    if isinstance(t, int) and not isinstance(t, bool) and 0 < t <= 80:
        for m in marks(b):
            out += [m * k for k in dict.fromkeys((t, t // 2, t - 1, t + 1)) if k > 0]
    if isinstance(t, dict) and len(t) > 1:
        keys = list(t)
        out += [keys[:-1], keys[:-2], keys[1:], dict(list(t.items())[:-1])]
    return out


def marks(b) -> list[str]:
    """Characters the code tests for (its str predicates, its one-character constants)."""
    got = [PREDICATE_CHARS[m] for m in sorted(b.methods) if m in PREDICATE_CHARS]
    return list(dict.fromkeys(got + [c for c in b.code_strs if len(c) == 1][:3]))[:4]


def joint(t, arity: int) -> list[list]:
    """Whole argument lists for which the target is the arguments put together."""
    out: list[list] = []
    if arity == 2 and isinstance(t, str) and 1 < len(t) <= 40:
        for s in dict.fromkeys((t, t[::-1], _period(t) or t, _period(t[::-1]) or t)):
            out += [[s[:i], s[i:]] for i in range(1, len(s))]
    if isinstance(t, dict) and t and arity in (2, 3):
        for k, v in list(t.items())[-6:]:
            rest = {a: x for a, x in t.items() if a != k}
            out += [[rest, k, v], [rest, v, k]] if arity == 3 else [[rest, {k: v}], [rest, k]]
            if arity == 3 and isinstance(v, list) and v:
                out += [[{**t, k: v[:-1]}, k, v[-1]], [{**t, k: v[1:]}, k, v[0]]]
    return out
