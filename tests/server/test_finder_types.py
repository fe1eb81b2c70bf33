"""Argument types inferred from the code (tracecot.server.finder.types), building blocks and
inverse guesses (blocks): pure functions, no sandbox."""

import ast

import pytest

from tracecot.server.finder import blocks as blk
from tracecot.server.finder import types as ty


def kinds(src: str, func: str = "f", known=None) -> dict:
    return {p.name: p for p in ty.infer(ast.parse(src), func, known)}


@pytest.mark.parametrize("body,name,kind", [
    ("return s.upper()", "s", "str"),
    ("x.append(1)\n    return x", "x", "list"),
    ("return d['key']", "d", "dict"),
    ("return [i for i in range(n)]", "n", "int"),
    ("return n + 1", "n", "int"),
    ("return s + '!'", "s", "str"),
    ("return sum(1 for k, v in d.items())", "d", "dict"),
    ("return text[a:b]", "a", "int"),
    ("return text.rsplit(sep, num)", "num", "int"),
    ("return text.rsplit(sep, num)", "sep", "str"),
    ("return s.add(1)", "s", "set"),
    ("return [x for x in text if a(x)]", "a", "func"),
])
def test_usage_says_the_type(body, name, kind):
    src = ("def f(s=None, x=None, d=None, n=None, text=None, a=None, b=None, sep=None, num=None):"
           f"\n    {body}\n")
    # defaults of None say nothing: the usage decides
    assert kinds(src)[name].kinds[0] == kind


def test_len_and_iteration_make_a_sequence_and_elements_get_kinds():
    p = kinds("def f(xs):\n    for c in xs:\n        c.upper()\n    return len(xs)\n")["xs"]
    assert p.kinds[0] == "list" and p.elem == "str"
    d = kinds("def f(d):\n    for k, v in d.items():\n        k.upper(); v + 1\n"
              "    return d\n")["d"]
    assert d.kinds[0] == "dict" and d.key == "str" and d.value == "int"


def test_hints_defaults_and_known_inputs_outweigh_usage():
    assert kinds("def f(x: str):\n    return x * 2\n")["x"].kinds[0] == "str"
    assert kinds("def f(x=[]):\n    return x\n")["x"].kinds[0] == "list"
    assert kinds("def f(x):\n    return x\n", known=[[{"a": 1}]])["x"].kinds[0] == "dict"
    assert kinds("def f(x: list[int]):\n    return x\n")["x"].elem == "int"


def test_methods_leave_self_out_and_missing_functions_give_nothing():
    src = "class C:\n    def m(self, t):\n        return t.lower()\n"
    ps = ty.infer(ast.parse(src), "C.m")
    assert [p.name for p in ps] == ["t"] and ps[0].kinds[0] == "str"
    assert ty.infer(ast.parse(src), "nope") == []


def test_blocks_come_from_code_constants_and_the_target():
    tree = ast.parse("def f(s):\n    return s.replace('ab', 'X') + str(7)\n")
    b = blk.blocks(tree, ["q", 42])
    assert "ab" in b.strs and "X" in b.strs and "q" in b.strs
    assert 7 in b.ints and 42 in b.ints and 2 in b.ints     # 2: the target's length
    assert b.code_strs[:2] == ["ab", "X"]


def test_inverses_undo_common_transformations():
    assert "olleh" in blk.inverses("hello")                    # reversed
    assert [3, 2, 1] in blk.inverses([1, 2, 3])
    assert "a-b" in blk.inverses(["a", "-", "b"])              # joined
    assert "aa bb" in blk.inverses("aa___bb", ["___"])         # a code constant replaced
    assert "hello world" in blk.inverses("HelloWorld")         # title().replace(' ', '')
    assert [1, 2, 3] in blk.inverses([2, 4, 6])                # doubled
    assert "111000" in blk.inverses((3, 3), ["1", "0"])        # counted characters


def test_inverses_undo_counting_and_splitting_into_lines():
    def counts(li):
        return [li.count(i) for i in li]
    target = [1, 3, 1, 3, 3, 2, 1, 2]
    inv = blk.inverses(target)
    assert any(isinstance(c, list) and counts(c) == target for c in inv)
    assert blk.inverses([4, 4, 1]) == blk.inverses([4, 4, 1])      # no labelling exists
    assert not any(isinstance(c, list) and len(c) == 3 and counts(c) == [4, 4, 1]
                   for c in blk.inverses([4, 4, 1]))
    lines = blk.inverses(["ab c", "d"])
    assert "ab c\nd" in lines
    assert ["x\ny"] in blk.inverses([["x", "y"]])


def test_inverses_undo_a_count_of_each_key():
    def tally(xs):
        d = {}
        for x in xs:
            d[x] = d.get(x, 0) + 1
        return d
    target = {"m": 2, "e": 2, " ": 1}
    assert any(tally(c) == target for c in blk.inverses(target) if isinstance(c, (str, list)))
    assert any(isinstance(c, list) and tally(c) == {3: 2, 5: 1} for c in blk.inverses({3: 2, 5: 1}))
    # ... and of a dict's values
    assert any(isinstance(c, dict) and tally(c.values()) == {0: 5} for c in blk.inverses({0: 5}))


def test_inverses_read_character_codes_and_digit_strings():
    def codes(text):
        return b"".join(f"{ch}; ".encode() for ch in text.encode())
    assert "os|x" in blk.inverses(codes("os|x"))
    assert "hi!" in blk.inverses([104, 105, 33])
    assert ["91", "16"] in blk.inverses([182, 32]) and ["182", "32"] in blk.inverses([182, 32])
    assert not [c for c in blk.inverses(5) if c == "\x05"]


def test_called_parameters_get_functions_with_the_codes_small_ints_early():
    tree = ast.parse("def f(nums, verdict):\n    return [verdict(x) for x in nums if x != 7]\n")
    fs = [repr(c) for c in blk.functions(blk.blocks(tree, [True]))]
    assert fs[0] == "lambda x: x" and "lambda x: x.reverse()" in fs
    assert "lambda x: x < 7" in fs[:40] and "lambda x: x == 2" in fs[:40]


def test_inverses_undo_popping_items_last_first():
    def drain(d):
        out = []
        while d:
            out.append(d.popitem())
        return out
    target = [(87.5, 3), ("x", 2), (5, 1)]
    assert any(isinstance(c, dict) and drain(dict(c)) == target for c in blk.inverses(target))


def test_inverses_split_formatted_pairs_back():
    def show(d):
        return ["%s => %s" % (k, d[k]) for k in d]
    target = show({"-4": "4", "1": "2", "-": "-3"})
    inv = blk.inverses(target, ["%s => %s"])
    assert {"-4": "4", "1": "2", "-": "-3"} in inv


def test_inverses_nest_the_elements_for_gathering_loops():
    def gather(data):
        out = []
        for k in data:
            for x in data[k]:
                if x not in out:
                    out.append(x)
        return sorted(out)
    target = ["a", "b", "inf"]
    assert any(isinstance(c, dict) and gather(c) == target for c in blk.inverses(target))


def test_numbers_written_in_the_target_are_int_blocks():
    b = blk.blocks(ast.parse("def f(a, b):\n    return f'{b // a} {b % a}'\n"), "1234567 0")
    assert 1234567 in b.ints and 0 in b.ints


def test_an_encoding_argument_gets_encoding_names():
    b = blk.blocks(ast.parse("def f(t, enc):\n    return t.encode(enc)\n"), b"x")
    assert "utf-8" in b.strs
    assert "utf-8" not in blk.blocks(ast.parse("def f(t):\n    return t.upper()\n"), "X").strs


def test_inverses_read_back_values_written_out_in_the_target():
    def show(a):
        return " ".join(str(i) for i in dict(list(a.items())[::-1]).items())
    target = show({15: "Qltuf", 12: "Rw"})
    assert {15: "Qltuf", 12: "Rw"} in blk.inverses(target)
    assert blk.inverses("no (brackets here") == blk.inverses("no (brackets here")
