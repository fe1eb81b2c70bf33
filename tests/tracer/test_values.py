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


class Bag(list):
    def __getattribute__(self, name):      # never runs: attributes are read directly
        raise AssertionError("user code ran")


class Inventory(dict):
    pass


class Tags(set):
    __slots__ = ("owner",)


def test_container_subclasses_show_their_own_attributes():
    b = Bag([1, 2])
    object.__setattr__(b, "tag", "y")
    shown = render(encode(b))          # (outside the assert: pytest would inspect `b`)
    assert shown == "Bag([1, 2], tag='y')"
    inv = Inventory(a=1)
    inv.owner = "ann"
    assert render(encode(inv)) == "Inventory({'a': 1}, owner='ann')"
    t = Tags({2, 1})
    t.owner = "bo"
    assert render(encode(t)) == "Tags({1, 2}, owner='bo')"
    assert render(encode(Inventory(a=1))) == "Inventory({'a': 1})"     # none: as before
    # the attributes are part of the value
    other = Inventory(a=1)
    other.owner = "cy"
    assert not values_equal(inv, other) and not values_equal(inv, Inventory(a=1))
    same = Inventory(a=1)
    same.owner = "ann"
    assert values_equal(inv, same)
    many = Inventory()
    for i in range(RESULT_LIMITS.items + 2):
        setattr(many, f"a{i}", i)
    enc = encode(many, RESULT_LIMITS)
    assert enc["attrs_more"] == 2 and not is_complete(enc) and render(enc).endswith("<2 more>)")


def test_special_floats_and_strings():
    assert encode(math.inf) == {"t": "float", "v": "inf"}
    assert render(encode("a\nb")) == "'a\\nb'"


# ------------------------------------------------------------------------------ faithful types

def test_slices_arrays_memoryviews_namespaces_keep_their_contents():
    import array
    from types import SimpleNamespace
    assert not values_equal(slice(None), slice(None, -1))
    assert values_equal(slice(1, 5, 2), slice(1, 5, 2))
    assert render(encode(slice(None, -1))) == "slice(None, -1, None)"
    assert not values_equal(array.array("i", [1, 2]), array.array("i", [1, 3]))
    assert not values_equal(array.array("i", [1, 2]), array.array("l", [1, 2]))
    assert values_equal(array.array("d", [1.5]), array.array("d", [1.5]))
    assert render(encode(array.array("i", [1, 2]))) == "array('i', [1, 2])"
    assert not values_equal(memoryview(b"ab"), memoryview(b"ac"))
    assert values_equal(memoryview(b"ab"), memoryview(bytearray(b"ab")))
    assert render(encode(memoryview(b"ab"))) == "memoryview(b'ab')"
    big = encode(memoryview(bytes(1000)), Limits(string=10))
    assert big["truncated"] and big["len"] == 1000 and not is_complete(big)
    view = memoryview(b"x")
    view.release()
    assert not encoded_equal(encode(view), encode(view))
    assert not values_equal(SimpleNamespace(a=1), SimpleNamespace(a=2))
    assert values_equal(SimpleNamespace(a=1, b=[2]), SimpleNamespace(b=[2], a=1))
    assert render(encode(SimpleNamespace(a=1))) == "SimpleNamespace(a=1)"
    assert not values_equal(complex(1, 2), type("C", (complex,), {})(1, 2))


def test_iterators_are_opaque_never_equal_and_not_consumed():
    def gen():
        yield 1
    makers = [lambda: iter([1, 2]), lambda: map(abs, [1, 2]), lambda: filter(None, [1, 2]),
              lambda: zip([1, 2], [3, 4], strict=True), lambda: enumerate([1, 2]), gen,
              lambda: iter(range(2)), lambda: reversed([1, 2])]
    for make in makers:
        it = make()
        e = encode(it, RESULT_LIMITS)
        assert e.get("opaque") and not is_complete(e), e
        assert not values_equal(make(), make())
        assert not encoded_equal(e, e)
        assert next(it) in (1, 2, (1, 3), (0, 1), 0)      # nothing was consumed
    assert render(encode(iter([1]))) == "<list_iterator>"
    assert render(encode(gen())).startswith("<generator ")

    class MyMap(map):       # a subclass still carries the C iterator's hidden state
        pass
    assert not values_equal(MyMap(abs, [1]), MyMap(abs, [2]))


def test_dict_views():
    assert values_equal({1: 2, 3: 4}.keys(), {3: 0, 1: 0}.keys())     # set-like, as in Python
    assert not values_equal({1: 2}.keys(), {2: 1}.keys())
    assert values_equal({1: 2}.items(), {1: 2}.items())
    assert not values_equal({1: 2}.items(), {1: 3}.items())
    assert not values_equal({1: 2}.values(), {1: 2}.values())       # never equal in Python
    assert render(encode({"a": 1}.items())) == "dict_items([('a', 1)])"


def test_objects_with_more_attributes_than_the_bound_are_marked():
    class Many:
        pass
    a, b = Many(), Many()
    for i in range(40):
        setattr(a, f"x{i}", i)
        setattr(b, f"x{i}", i if i < 35 else -i)
    lim = Limits(items=30)
    assert encode(a, lim)["more"] == 10
    assert not encoded_equal(encode(a, lim), encode(b, lim))
    assert not values_equal(a, b)
    e = ValueError(*range(50))
    assert encode(e, lim)["more"] == 20 and not is_complete(encode(e, lim))


class _MetaTrap(type):
    def __eq__(cls, other):
        raise AssertionError("metaclass __eq__ ran")

    __hash__ = type.__hash__

    @property
    def __mro__(cls):
        raise AssertionError("metaclass __mro__ ran")


def test_classes_that_fight_the_encoder_run_none_of_their_code():
    class Trapped(metaclass=_MetaTrap):
        def __init__(self):
            self.x = 1
    assert render(encode(Trapped())).endswith("Trapped(x=1)")

    ran = []

    class Plain:
        pass

    class Sub(Plain):
        @property
        def __dict__(self):
            ran.append("__dict__ property")
            return {}
    s = Sub()
    s.x = 1                   # stored in the real instance dict
    assert render(encode(s)).endswith("Sub(x=1)") and not ran

    class Args(Exception):
        @property
        def args(self):
            raise AssertionError("args property ran")
    assert render(encode(Args(1, 2))).endswith("Args(1, 2)")

    import pathlib

    class Spoof(pathlib.PurePosixPath):       # claims the library's module to get repr() called
        __module__ = "pathlib"

        def __str__(self):
            raise AssertionError("__str__ ran")
    assert encode(Spoof("/a"))["t"] == "object"

    import datetime

    class Zone(datetime.tzinfo):
        def __repr__(self):
            raise AssertionError("tzinfo __repr__ ran")

        def utcoffset(self, dt):
            return datetime.timedelta(0)
    assert encode(datetime.datetime(2020, 1, 1, tzinfo=Zone()))["t"] != "repr"
    assert render(encode(datetime.date(2020, 1, 2))) == "datetime.date(2020, 1, 2)"


def test_large_ints_whatever_the_int_to_str_limit():
    import sys
    old = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(640)     # as user code may do
        e = encode(10 ** 1000, RESULT_LIMITS)
        assert e == {"t": "int", "v": "1" + "0" * 1000}
        assert sys.get_int_max_str_digits() == 640
    finally:
        sys.set_int_max_str_digits(old)


def test_exception_message_never_runs_user_code():
    from tracecot.tracer.values import exception_message

    class Evil(Exception):
        def __str__(self):
            raise AssertionError("__str__ ran")

    class Shown:
        def __str__(self):
            raise AssertionError("argument __str__ ran")

        def __repr__(self):
            raise AssertionError("argument __repr__ ran")
    assert exception_message(Evil("boom")) == "boom"
    assert exception_message(Evil("a", 1)) == "('a', 1)"
    assert exception_message(ValueError(Shown())).endswith(".Shown()")
    assert exception_message(KeyError(Shown())).endswith(".Shown()")
    # Built-in messages stay exactly what str() says for plain arguments.
    for exc in (ZeroDivisionError("integer division or modulo by zero"), KeyError("k"),
                OSError(2, "No such file or directory", "x.txt"), SystemExit(2), ValueError(),
                UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")):
        assert exception_message(exc) == str(exc)
    e = OSError(2, "No such file or directory")
    e.filename = Shown()
    assert exception_message(e) == "(2, 'No such file or directory')"   # from the arguments


def test_set_order_is_natural_for_ints_and_strings_and_never_hash_order():
    assert render(encode({10, 9, 100})) == "{9, 10, 100}"
    big = set(range(1000, 0, -1))
    e = encode(big, Limits(items=3))
    assert render(e) == "{1, 2, 3, <997 more>}"          # the smallest, not the first hashed
    assert render(encode({"b", "a", 3})).startswith("{")   # mixed: canonical order


def test_ordered_dicts_keep_their_order_and_compare_by_it():
    from collections import OrderedDict
    od = OrderedDict(a=1, b=2)
    od.move_to_end("a")
    assert render(encode(od)) == "OrderedDict({'b': 2, 'a': 1})"
    assert not values_equal(OrderedDict(a=1, b=2), OrderedDict(b=2, a=1))
    assert values_equal(OrderedDict(a=1, b=2), OrderedDict(a=1, b=2))
    assert values_equal({"a": 1, "b": 2}, {"b": 2, "a": 1})


def test_cut_namedtuples_and_library_reprs_are_marked():
    from collections import namedtuple
    from decimal import Decimal
    Wide = namedtuple("Wide", [f"f{i}" for i in range(40)])
    lim = Limits(items=30, string=20)
    a, b = Wide(*range(40)), Wide(*range(39), -1)
    assert encode(a, lim)["more"] == 10 and render(encode(a, lim)).endswith("<10 more>)")
    assert not encoded_equal(encode(a, lim), encode(b, lim))
    big = encode(Decimal("1." + "1" * 50), lim)
    assert big["truncated"] and not is_complete(big)
    assert not encoded_equal(big, encode(Decimal("1." + "1" * 49 + "2"), lim))
