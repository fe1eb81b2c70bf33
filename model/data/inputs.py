"""Typed random inputs, written as Python source the way a call `f(<args>)` shows them.

    args_source([("text", "str"), ("nums", "list[int]")], rng, "abc ")   # "'ab cba', [3, -1]"

Values are drawn from the program's alphabet (the characters its string literals use) so
that membership tests, `replace` and `split` calls see matching characters. Sets are written
sorted and dicts in insertion order, so the text never depends on this process's hash seed.
"""

from __future__ import annotations

import random

from .grammar import BOOL, DICT, INT, LIST_INT, LIST_STR, SET_INT, STR

FLOAT, NONE = "float", "None"


def literal(value) -> str:
    """Python source of a plain value (None, bool, int, float, str, list, tuple, dict, set)."""
    if isinstance(value, (set, frozenset)):
        if not value:
            return "set()" if isinstance(value, set) else "frozenset()"
        body = "{" + ", ".join(sorted(map(literal, value))) + "}"
        return body if isinstance(value, set) else f"frozenset({body})"
    if isinstance(value, list):
        return "[" + ", ".join(map(literal, value)) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(map(literal, value))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _word(rng: random.Random, alphabet: str, lo: int, hi: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def random_value(t: str, rng: random.Random, alphabet: str = "abcde"):
    """A random value of type `t` (one of grammar.TYPES, or float / None)."""
    letters = [c for c in alphabet if c.isalnum()] or list("abc")
    if t == INT:
        return rng.choice([rng.randint(0, 9), rng.randint(0, 9), rng.randint(-5, 20)])
    if t == BOOL:
        return rng.random() < 0.5
    if t == FLOAT:
        return round(rng.uniform(-10, 10), rng.choice([0, 1, 2]))
    if t == NONE:
        return None
    if t == STR:
        return _word(rng, alphabet, *rng.choice([(0, 3), (3, 8), (5, 12), (1, 6)]))
    if t == LIST_INT:
        return [random_value(INT, rng) for _ in range(rng.choice([0, 2, 3, 4, 5, 6, 7]))]
    if t == LIST_STR:
        return [_word(rng, "".join(letters), 1, 6) for _ in range(rng.randint(0, 5))]
    if t == DICT:
        keys = dict.fromkeys(_word(rng, "".join(letters), 1, 4) for _ in range(rng.randint(0, 4)))
        return {k: random_value(INT, rng) for k in keys}
    if t == SET_INT:
        return {random_value(INT, rng) for _ in range(rng.randint(0, 5))}
    raise ValueError(f"no generator for type {t!r}")


def args_source(params, rng: random.Random, alphabet: str = "abcde") -> str:
    """The arguments of one call: `params` is [(name, type), ...] (positional)."""
    return ", ".join(literal(random_value(t, rng, alphabet)) for _, t in params)
