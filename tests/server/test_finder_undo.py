"""Inverse guesses that read the code and split the target among arguments
(tracecot.server.finder.undo), and the types inferred in a second pass: each checked on a
hand-written function whose preimage needs it. Pure functions, no sandbox."""

import ast
import inspect

import pytest

from tracecot.server.finder import blocks as blk
from tracecot.server.finder import types as ty
from tracecot.server.finder import undo


def guesses(fn, target) -> list:
    """One-argument guesses for `fn` as the stage makes them: blocks.inverses + undo.more."""
    tree = ast.parse(inspect.getsource(fn).strip())
    b = blk.blocks(tree, target)
    return blk.inverses(target, b.code_strs) + undo.more(target, b)


def solves(fn, target, *rest) -> bool:
    for c in guesses(fn, target):
        try:
            if fn(c, *rest) == target:
                return True
        except Exception:  # noqa: BLE001 - a guess of the wrong type
            pass
    return False


def untab(text):
    return text.replace(" ", "\t").expandtabs(4)


def swap_words(s):
    return " ".join(s.split()[::-1])


def around(text):
    before, _, after = text.partition(",")
    return after + " " + before


def twice(s):
    return (s + s)[::-1]


def drain(d):
    out = []
    while d:
        out.append(d.popitem()[0])
    return out


def letters(d):
    out = []
    for e in d:
        out += [e[0], e[1]]
    return out


def uppers(s):
    return sum(1 for c in s if c.isupper())


def spaces_and_length(text):
    return sum(1 for c in text if c.isspace()), len(text)


def with_total(keys):
    d = dict.fromkeys(keys, 1)
    d["".join(keys)] = 3
    return d


def last_words(s):
    ws = s.split()
    return ws[:-2] + ["_".join(ws[-2:])]


def signed(messages):
    out = []
    for m in messages:
        m.extend("+35")
        out.append(";".join(m))
    return ". ".join(out)


def tally(xs):
    return str({x: xs.count(x) for x in xs}).replace(" ", "")


def doubled_items(data):
    items = list(data.items())
    return items + [(x, None) for x in items[::-1]]


@pytest.mark.parametrize("fn,target", [
    (doubled_items, [(2, 10), (3, 1), ((3, 1), None), ((2, 10), None)]),  # items, then more
    (tally, "{3:1,1:1}"),                              # a container written out, read back
    (signed, "Ann;Bo;+;3;5"),                          # split back, the added chars cut
    (untab, "\n        z   d\ng\n            e"),      # expandtabs undone into tabs
    (swap_words, "three two one"),                     # words reordered
    (around, " 105, -90 244"),                         # halves around a separator swapped
    (twice, "cbacba"),                                 # a repeated target's period
    (drain, ["k", "j", "h"]),                          # popitem: keys last first
    (letters, ["9", "m", "m", "A", "L", "k"]),         # pairs joined back
    (uppers, 4),                                       # a predicate's character, repeated
    (spaces_and_length, (2, 9)),                       # marked characters and a length
    (with_total, {"0": 1, "3": 1, "03": 3}),           # keys the function added cut off
    (last_words, ["one", "two", "three_four"]),        # a code constant put back to spaces
])
def test_the_one_argument_guesses_reach_a_preimage(fn, target):
    assert solves(fn, target)


def test_without_expandtabs_in_the_code_spaces_are_not_turned_into_tabs():
    def plain(s):
        return s.strip()
    assert not any(isinstance(c, str) and "\t" in c for c in guesses(plain, "a        b"))


def test_unexpand_inverts_expandtabs_for_every_size():
    for t in ["a b", "  x  y", "abc     d", "\t".expandtabs(8) + "q"]:
        for size in (2, 4, 8):
            assert undo.unexpand(t, size).expandtabs(size) == t


def test_joint_guesses_split_the_target_among_the_arguments():
    def glue(a, b):
        return a + b

    def put(d, k, v):
        d[k] = v
        return d

    def like(playlist, name, song):
        playlist.setdefault(name, []).append(song)
        return playlist
    assert any(glue(*args) == "abcd" for args in undo.joint("abcd", 2))
    assert [{"a": 1}, "b", 2] in undo.joint({"a": 1, "b": 2}, 3)
    def gives(args):
        try:
            return like(ast.literal_eval(repr(args[0])), *args[1:]) == target
        except TypeError:        # a shape with a list as the key
            return False
    target = {"aki": ["1", "5", "2"]}
    assert any(gives(a) for a in undo.joint(target, 3))
    assert undo.joint("abcd", 3) == [] and undo.joint(5, 2) == []


def test_a_parameter_returned_as_it_is_has_the_targets_kind():
    src = "def f(d, key):\n    del d[key]\n    return key\n"
    ps = {p.name: p for p in ty.infer(ast.parse(src), "f", target="Iron Man")}
    assert ps["key"].kinds[0] == "str"
    assert ps["d"].kinds[0] == "dict"        # indexed by a str: a dict
    ps = {p.name: p for p in ty.infer(ast.parse(src), "f")}
    assert ps["key"].kinds[:1] != ["str"]    # without the target nothing says so


def test_what_is_looked_for_in_a_str_is_a_str():
    src = ("def f(needle, haystack):\n    n = 0\n    while needle in haystack:\n"
           "        haystack = haystack.replace('x', '', 1)\n        n += 1\n    return n\n")
    assert {p.name: p for p in ty.infer(ast.parse(src), "f")}["needle"].kinds[0] == "str"


def test_positions_of_the_target_are_a_list_block():
    b = blk.blocks(ast.parse("def f(s, idx):\n    return [s[i] for i in idx]\n"), ["7", "6"])
    assert [0, 1] in b.lists


def test_slice_bounds_and_what_is_compared_with_a_length_are_ints():
    src = ("def f(s, n, m):\n    ls = s.split()\n    while len(ls) >= n:\n"
           "        ls = ls[:-m]\n    return ls\n")
    ps = {p.name: p for p in ty.infer(ast.parse(src), "f")}
    assert ps["n"].kinds[0] == "int" and ps["m"].kinds[0] == "int"


def test_a_key_error_is_repaired_with_the_key_it_names():
    from tracecot.server.finder.edits import repairs

    def drop(c, k, v):
        c[k] = v
        del c["message"]
        return c
    fixes = repairs("{1: 2}, 8, 2", "KeyError:'message'")
    assert any(drop(*ast.literal_eval(f"({f},)")) == {1: 2, 8: 2} for f in fixes)
    assert "[1, 'k']" in repairs("[1]", "KeyError:'k'")
    assert repairs("{1: 2}", "TypeError") == [] and repairs("{1: 2}", "KeyError:[1]") == []


def test_a_name_modulo_a_name_is_an_int_and_a_str_formats_a_tuple():
    src = "def f(index, fmt, d):\n    return index % len(d), fmt % (1, 2)\n"
    ps = {p.name: p for p in ty.infer(ast.parse(src), "f")}
    assert ps["index"].kinds[0] == "int" and ps["fmt"].kinds[0] == "str"


def test_guesses_of_a_kind_the_parameter_allows_come_first():
    from tracecot.server.finder.search import _fitting
    p = ty.Param("d", ["dict"])
    assert _fitting(["a", {"a": 1}, 3, {}], p) == [{"a": 1}, {}, "a", 3]
    assert _fitting(["a", (1,), [2]], ty.Param("xs", ["list"])) == [(1,), [2], "a"]
    assert _fitting(["a", 1], ty.Param("x", [])) == ["a", 1]      # nothing known: as is


def test_a_dict_indexed_by_its_own_loop_gets_sequence_values():
    src = ("def f(d1, d2):\n    best = 0\n    for k in d1:\n"
           "        best = max(best, len(d1[k]) + len(d2.get(k, [])))\n    return best\n")
    ps = {p.name: p for p in ty.infer(ast.parse(src), "f")}
    assert ps["d1"].kinds[0] == "dict" and ps["d1"].value == "list"


def test_a_name_compared_with_a_local_count_is_an_int():
    src = ("def f(text, char, least):\n    count = text.count(char)\n"
           "    if count < least:\n        return text.swapcase()\n    return text\n")
    assert {p.name: p for p in ty.infer(ast.parse(src), "f")}["least"].kinds[0] == "int"
