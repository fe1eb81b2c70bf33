"""One-edit neighbours of an argument list for the distance-guided search.

Where mutate.neighbours makes a fixed handful of edits near the front of a value, these
reach every position: delete, insert, replace one character or element with a building
block (a character of the target or of the code's strings, a target element), swap two
neighbours, step a number. A seeded sample per parent keeps each expansion small; the
parents whose outputs came closest to the target are expanded first (search.py).
"""

from __future__ import annotations

import difflib
import random

from .mutate import format_args, hashable, parse_args, parse_target


def _str_edits(s: str, chars: list[str], rng: random.Random, n: int) -> list[str]:
    out = []
    L = len(s)
    for _ in range(n):
        op = rng.random()
        i = rng.randrange(L + 1) if op < 0.35 else rng.randrange(L) if L else 0
        if op < 0.35:
            out.append(s[:i] + rng.choice(chars) + s[i:])
        elif L and op < 0.6:
            out.append(s[:i] + s[i + 1:])
        elif L and op < 0.85:
            out.append(s[:i] + rng.choice(chars) + s[i + 1:])
        elif L > 1:
            j = min(i + 1, L - 1)
            out.append(s[:i] + s[j] + s[i] + s[j + 1:] if j > i else s)
    return out


def _num_edits(v: int, rng: random.Random, n: int) -> list:
    steps = [1, -1, 2, -2, 3, -3, 5, -5, 10, -10]
    out = [v + rng.choice(steps) for _ in range(n)]
    return out + [-v, v * 2, v // 2]


def _seq_edits(seq: list, pieces: list, rng: random.Random, n: int) -> list[list]:
    out = []
    L = len(seq)
    for _ in range(n):
        op = rng.random()
        if op < 0.25 or not L:
            i = rng.randrange(L + 1)
            out.append(seq[:i] + [rng.choice(pieces)] + seq[i:])
        elif op < 0.45:
            i = rng.randrange(L)
            out.append(seq[:i] + seq[i + 1:])
        elif op < 0.7:
            i = rng.randrange(L)
            out.append(seq[:i] + [rng.choice(pieces)] + seq[i + 1:])
        elif op < 0.85:
            i = rng.randrange(L)
            x = seq[i]
            if isinstance(x, int) and not isinstance(x, bool):
                w = rng.choice(_num_edits(x, rng, 2))
            elif isinstance(x, str):
                w = (_str_edits(x, [c for c in pieces if isinstance(c, str) and len(c) == 1]
                                or ["a"], rng, 1) or [x])[0]
            else:
                w = rng.choice(pieces)
            out.append(seq[:i] + [w] + seq[i + 1:])
        elif L > 1:
            i = rng.randrange(L - 1)
            out.append(seq[:i] + [seq[i + 1], seq[i]] + seq[i + 2:])
    return out


def _dict_edits(d: dict, keys: list, vals: list, rng: random.Random, n: int) -> list[dict]:
    out = []
    items = list(d.items())
    for _ in range(n):
        op = rng.random()
        if op < 0.3 or not items:
            k = rng.choice(keys)
            if hashable(k):
                out.append({**d, k: rng.choice(vals)})
        elif op < 0.5:
            k = rng.choice(items)[0]
            out.append({a: b for a, b in items if a != k})
        elif op < 0.8:
            k, v = rng.choice(items)
            if isinstance(v, int) and not isinstance(v, bool):
                w = rng.choice(_num_edits(v, rng, 2))
            elif isinstance(v, list):
                w = rng.choice(_seq_edits(v, vals, rng, 1) or [v])
            else:
                w = rng.choice(vals)
            out.append({**d, k: w})
        else:
            k, v = rng.choice(items)
            k2 = rng.choice(keys)
            if hashable(k2):
                out.append({(k2 if a == k else a): b for a, b in items})
    return out


def value_edits(v, pieces: dict, rng: random.Random, n: int) -> list:
    if isinstance(v, bool):
        return [not v]
    if isinstance(v, int):
        return _num_edits(v, rng, n)
    if isinstance(v, float):
        return [v + 1, v - 1, v * 2, v / 2, round(v, 1)]
    if isinstance(v, str):
        return _str_edits(v, pieces["chars"], rng, n)
    if isinstance(v, (list, tuple)):
        got = _seq_edits(list(v), pieces["elems"], rng, n)
        return [tuple(x) for x in got] if isinstance(v, tuple) else got
    if isinstance(v, dict):
        return _dict_edits(v, pieces["keys"], pieces["vals"], rng, n)
    return []


def edits(args_src: str, pieces: dict, n: int = 24) -> list[str]:
    """About `n` one-edit neighbours per argument, seeded by the argument list itself."""
    parsed = parse_args(args_src)
    if parsed is None:
        return []
    pos, kw = parsed
    rng = random.Random(args_src)
    out = []
    for i, v in enumerate(pos):
        for w in value_edits(v, pieces, rng, n):
            out.append(format_args(pos[:i] + [w] + pos[i + 1:], kw))
    return list(dict.fromkeys(out))


def pieces_for(b) -> dict:
    """Building blocks for edits, from blocks.Blocks."""
    chars = [s for s in b.strs if len(s) == 1] or ["a"]
    words = [s for s in b.strs if len(s) > 1][:10]
    return {"chars": chars, "elems": (b.ints[:15] + b.strs[:15] + words) or [0],
            "keys": (b.strs[:12] + b.ints[:8]) or ["a"],
            "vals": (b.ints[:10] + b.strs[:6] + [[]]) or [0]}


def _spots(text: str, piece: str, limit: int = 6) -> list[int]:
    """Where `piece` occurs in `text` (the first and last few occurrences)."""
    if not piece:
        return []
    at, i = [], text.find(piece)
    while i >= 0:
        at.append(i)
        i = text.find(piece, i + 1)
    return at[:limit] + at[-limit:] if len(at) > 2 * limit else at


_CASES = (str, str.lower, str.upper)


def _number(text: str) -> bool:
    return type(parse_target(text)) in (int, float)


def _length_steps(args_src: str, reached: str, target: str) -> list[str]:
    """Where the output is `d` too long or short, each int argument stepped by `d` (and
    half of it): counts, slice bounds and repetitions often set the length."""
    parsed = parse_args(args_src)
    r, t = parse_target(reached), parse_target(target)
    if parsed is None or not isinstance(r, (str, list, tuple, bytes)) or \
            not isinstance(t, (str, list, tuple, bytes)) or len(r) == len(t):
        return []
    pos, kw = parsed
    d = len(r) - len(t)
    out = []
    for i, v in enumerate(pos):
        if isinstance(v, int) and not isinstance(v, bool):
            for w in {v - d, v + d, v - d // 2, v + d // 2} - {v}:
                out.append(format_args(pos[:i] + [w] + pos[i + 1:], kw))
    return out


def diff_edits(args_src: str, reached: str, target: str, ops: int = 6) -> list[str]:
    """Neighbours that carry the difference between a reached output and the target back
    into the argument source: outputs often contain the inputs (copied, joined, formatted,
    reversed), so where the reached output has `x` and the target `y`, the argument's `x`
    (or `x` reversed) becomes `y`; an insertion goes after (or before) the same context.
    Works on the source text, so it reaches every type at once; unparsable results dropped."""
    a, b = reached[:400], target.strip()[:400]
    if not a or a == b or (_number(a) and _number(b)):
        return []          # numbers: their digits are not the input's (stepping is)
    codes = [c for c in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
             if c[0] != "equal"][:ops]
    out = []
    for _, i1, i2, j1, j2 in codes:
        for case in _CASES:      # the output may be the input case-changed
            old, new = case(a[i1:i2]), case(b[j1:j2])
            for was, now in ((old, new), (old[::-1], new[::-1])):
                for i in _spots(args_src, was):
                    out.append(args_src[:i] + now + args_src[i + len(was):])
            if old:
                continue
            for k in (3, 2, 1):
                left, right = case(a[max(0, i1 - k):i1]), case(a[i2:i2 + k])
                for i in _spots(args_src, left, 3):
                    out.append(args_src[:i + len(left)] + new + args_src[i + len(left):])
                for i in _spots(args_src, right, 3):
                    out.append(args_src[:i] + new + args_src[i:])
                for i in _spots(args_src, left[::-1], 3):     # the input reversed
                    out.append(args_src[:i] + new[::-1] + args_src[i:])
    out += _length_steps(args_src, reached, target)
    seen, good = {args_src}, []
    for c in out:
        if c not in seen:
            seen.add(c)
            if parse_args(c) is not None:
                good.append(c)
    return good


def repairs(args_src: str, error: str) -> list[str]:
    """Where the call raised KeyError(k), the function said what it needs: each dict
    argument given key k (a few values) or k as one of its values, each list given k."""
    if not error.startswith("KeyError:"):
        return []
    key_src = error[len("KeyError:"):]
    k = parse_target(key_src)
    parsed = parse_args(args_src)
    if parsed is None or (k is None and key_src != "None") or not hashable(k):
        return []
    pos, kw = parsed
    out = []
    for i, v in enumerate(pos):
        if isinstance(v, dict):
            variants: list = [{**v, k: x} for x in (0, 1, "", k)]
            variants += [{**v, old: k} for old in list(v)[:3]]
        elif isinstance(v, list):
            variants = [v + [k]]
        else:
            continue
        out += [format_args(pos[:i] + [w] + pos[i + 1:], kw) for w in variants]
    return [c for c in dict.fromkeys(out) if c != args_src]
