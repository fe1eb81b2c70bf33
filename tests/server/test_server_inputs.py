"""Finding functions and their known inputs in source text (tracecot.server.inputs,
tracecot.server.calls): pure."""

import ast

from tracecot.server.calls import args_of_call, examples_in_test_file, is_test_file
from tracecot.server.inputs import identifier_at, parse_document, runnable_source

SRC = '''\
import math

LIMIT = 3


def histogram(nums):
    """Count values.

    >>> histogram([1, 1, 3])
    [(2, 1), (2, 1),
     (1, 3)]
    >>> histogram([])
    []
    >>> len(histogram([1]))
    1
    >>> other(2)
    4
    """
    output = []
    for n in nums:
        output.append((nums.count(n), n))
    return output


def divide(a, b=1, *, scale=2):
    """
    >>> divide(1, 0)
    Traceback (most recent call last):
      ...
    ZeroDivisionError: division by zero
    """
    return a / b * scale


class Shapes:
    @staticmethod
    def area(w, h):
        return w * h

    def method(self):
        return 1


assert histogram([LIMIT]) == [(1, 3)]
assert [(1, 2)] == histogram([2])
assert divide(4, b=2) == 4.0, "message"
assert histogram(nums=[x for x in range(3)]) == [(1, 2), (1, 1), (1, 0)]
assert histogram(undefined_name) == []   # needs a variable that is not global: skipped
assert Shapes.area(2, 3) == 6
print(histogram([1]))
'''


def test_functions_and_ranges():
    doc = parse_document(SRC)
    assert doc.syntax is None
    names = [f.name for f in doc.functions]
    assert names == ["histogram", "divide", "Shapes.area", "Shapes.method"]
    h = doc.function("histogram")
    assert h.def_line == 5 and h.name_range == (5, 4, 5, 13)
    assert h.end_line == 21
    assert doc.function_at(20).name == "histogram"
    assert doc.function_at(2) is None
    d = doc.function("divide")
    assert d.params == ["a", "b", "scale"] and d.required == 1
    # where an assert for it may go: after the function, or after the class of a method
    lines = SRC.splitlines()
    assert h.after_line == 22 and lines[21].strip() == "return output"
    assert doc.function("Shapes.area").after_line == lines.index("        return 1") + 1


def test_doctest_examples():
    doc = parse_document(SRC)
    ex = doc.function("histogram").examples
    assert [(e.args, e.expected) for e in ex] == [
        ("[1, 1, 3]", "[(2, 1), (2, 1), (1, 3)]"), ("[]", "[]")]
    first = ex[0]
    assert first.origin == "doctest" and first.line == 8
    # the expected output spans two lines in the document
    assert first.expected_range == (9, 4, 10, 12)
    lines = SRC.splitlines()
    assert lines[9][4:].startswith("[(2, 1)") and lines[10][:12].endswith("(1, 3)]")
    raises = doc.function("divide").examples[0]
    assert raises.args == "1, 0" and raises.raises == "ZeroDivisionError"
    assert raises.expected is None


def test_assert_examples():
    doc = parse_document(SRC)
    got = [(e.function, e.args, e.expected) for e in doc.asserts]
    assert got == [("histogram", "[LIMIT]", "[(1, 3)]"),
                   ("histogram", "[2]", "[(1, 2)]"),
                   ("divide", "4, b=2", "4.0"),
                   ("histogram", "nums=[x for x in range(3)]", "[(1, 2), (1, 1), (1, 0)]"),
                   ("Shapes.area", "2, 3", "6")]
    e = doc.asserts[1]
    line = SRC.splitlines()[e.line]
    l0, c0, l1, c1 = e.expected_range
    assert line[c0:c1] == "[(1, 2)]"
    assert [x.args for x in doc.examples_for("histogram")] == [
        "[1, 1, 3]", "[]", "[LIMIT]", "[2]", "nums=[x for x in range(3)]"]


def test_runnable_source_blanks_top_level_asserts_and_calls():
    out = runnable_source(SRC)
    assert len(out.splitlines()) == len(SRC.splitlines())
    assert "assert" not in out and "print(" not in out
    assert '"""Count values.' in out and "LIMIT = 3" in out
    ast.parse(out)
    # a statement sharing its line with another is kept (cannot blank half a line)
    assert runnable_source("x = 1; assert x == 2\n") == "x = 1; assert x == 2\n"
    assert runnable_source("def f():\n    assert True\n") == "def f():\n    assert True\n"


def test_syntax_error_is_reported_not_raised():
    doc = parse_document("def f(:\n    pass\n")
    assert doc.syntax is not None and doc.syntax.line == 0
    assert "syntax error at line 1" in doc.syntax.message
    assert doc.functions == []
    assert parse_document("\x00").syntax is not None


def test_odd_documents():
    for text in ["", "\n\n", "def f(): pass", "async def g(x):\n    return x\n",
                 "x = (" * 200 + ")" * 200, "def f(x):\n    '''>>> f(\n'''\n",
                 "def f():\n    '''\n    >>> f()\n      bad indent\n   '''\n"]:
        doc = parse_document(text)
        assert doc.digest


def test_test_file_examples():
    text = ("from ex import histogram\nimport ex\n\n"
            "def test_a():\n    assert histogram([1, 2]) == [(1, 2), (1, 1)]\n"
            "    histogram([5])\n    ex.histogram([6, 6])\n    histogram(x)\n"
            "    other([1])\n")
    got = examples_in_test_file(text, "ex", {"histogram"}, "tests/test_ex.py")
    assert [(e.args, e.expected) for e in got] == [
        ("[1, 2]", "[(1, 2), (1, 1)]"), ("[5]", None), ("[6, 6]", None)]
    assert all(e.origin == "test" and e.where == "tests/test_ex.py" for e in got)
    # a test file that does not import the module gives nothing
    assert examples_in_test_file("histogram([1])\n", "ex", {"histogram"}) == []
    assert is_test_file("tests/helpers.py") and is_test_file("test_x.py")
    assert not is_test_file("src/x.py")


def test_evaluable_arguments():
    from tracecot.server.calls import is_literalish
    import ast
    ok = ["[1, 2]", "''.join(['A'] * 20)", "'a-b'.split('-')", "lambda x: x < 2",
          "[x * 2 for x in range(3)]", "LIMIT + 1", "{1: (2,)}", "-3"]
    for src in ok:
        assert is_literalish(ast.parse(src, mode="eval").body, {"LIMIT"}), src
    for src in ["x", "x + 1", "[y for x in range(3)]", "(z := 3)", "lambda: q"]:
        assert not is_literalish(ast.parse(src, mode="eval").body, {"LIMIT"}), src


def test_identifier_and_call_parsing():
    assert identifier_at("    total += v", 5) == ("total", 4, 9)
    assert identifier_at("    total += v", 9) == ("total", 4, 9)
    assert identifier_at("    total += v", 13) == ("v", 13, 14)
    assert identifier_at("x = 12abc", 7) is None
    assert identifier_at("", 0) is None
    assert args_of_call("f([1, 2], k=3)") == ("f", "[1, 2], k=3")
    assert args_of_call("f(") is None and args_of_call("1 + 2") is None
