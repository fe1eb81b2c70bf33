"""The canonical encoder: bounded, deterministic, type-strict, never runs user code."""

import math

from tracecot.tracer.values import (RESULT_LIMITS, Limits, encode, encoded_equal, is_complete,
                                    render, values_equal)


def test_type_strict_equality():
    assert not values_equal(1, 1.0)
    assert not values_equal(1, True)
    assert not values_equal(1.0, True)
    assert not values_equal([1, 2], (1, 2))
    assert values_equal({"a": 1, "b": 2}, {"b": 2, "a": 1})     # dict order never matters
    assert values_equal({3, 1, 2}, {2, 3, 1})
    assert values_equal(float("nan"), float("nan"))
    assert not values_equal(0.0, -0.0)
    assert values_equal(float("inf"), float("inf"))


def test_render_is_python_like_and_round_trips_plain_data():
    for value in [[1, "a", (2, 3.5)], {"k": [None, True]}, (1,), set(), frozenset({1}),
                  {"x": {"y": b"z"}}, -7, "it's", 2 ** 70]:
        text = render(encode(value, RESULT_LIMITS))
        assert eval(text) == value, text
    assert render(encode(float("nan"))) == "nan"
    assert render(encode(-0.0)) == "-0.0"


def test_sets_render_sorted_whatever_the_hash_order():
    assert render(encode({"b", "a", "c"})) == "{'a', 'b', 'c'}"


def test_bounds_leave_explicit_markers():
    lim = Limits(depth=2, items=3, string=5)
    big = encode(list(range(10)), lim)
    assert big["more"] == 7 and big["len"] == 10 and not is_complete(big)
    assert render(big) == "[0, 1, 2, <7 more>]"
    s = encode("abcdefgh", lim)
    assert s["truncated"] and s["len"] == 8 and render(s) == "'abcde…' (8 chars)"
    deep = encode([[[1]]], lim)
    assert deep["items"][0]["items"][0]["t"] == "deep"
    assert not encoded_equal(big, big)            # equality is never claimed on partial values


def test_huge_ints_are_encoded_without_printing():
    n = 10 ** 5000
    e = encode(n)
    assert "digest" in e and e["bits"] == n.bit_length()
    assert encoded_equal(e, encode(10 ** 5000)) and not encoded_equal(e, encode(10 ** 5000 + 1))


def test_cycles_are_references():
    a = [1]
    a.append(a)
    e = encode(a)
    assert e["items"][1] == {"t": "cycle", "up": 1}
    assert render(e) == "[1, [...]]"


class Hostile:
    def __init__(self):
        self.x = 1

    def __repr__(self):
        while True:
            pass

    def __len__(self):
        return 10 ** 100

    def __eq__(self, other):
        raise RuntimeError("no")

    def __getattribute__(self, name):
        if name == "__dict__":
            raise RuntimeError("no")
        return object.__getattribute__(self, name)


def test_objects_are_read_without_running_their_code():
    e = encode(Hostile())
    assert e == {"t": "object", "cls": "Hostile", "attrs": [["x", {"t": "int", "v": 1}]]}
    assert render(e) == "Hostile(x=1)"


def test_subclasses_and_namedtuples_keep_their_class():
    from collections import OrderedDict, namedtuple
    P = namedtuple("P", "x y")
    assert render(encode(P(1, 2))) == "P(x=1, y=2)"
    assert render(encode(OrderedDict(a=1))) == "OrderedDict({'a': 1})"
    assert not values_equal(OrderedDict(a=1), {"a": 1})


def test_special_floats_and_strings():
    assert encode(math.inf) == {"t": "float", "v": "inf"}
    assert render(encode("a\nb")) == "'a\\nb'"
