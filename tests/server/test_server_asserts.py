"""assert_edit: where and how a verified assert goes into the module (one pure helper for the
code action and the findInput command)."""

from tracecot.server.asserts import assert_edit

SOURCE = "\n".join([
    "import math",                                   # 0
    "",                                              # 1
    "def histogram(xs):",                            # 2
    "    counts = {}",                               # 3
    "    for x in xs:",                              # 4
    "        counts[x] = counts.get(x, 0) + 1",      # 5
    "    return counts",                             # 6
    "",                                              # 7
    "",                                              # 8
    "def other(a):",                                 # 9
    "    return a",                                  # 10
    "",                                              # 11
])


def apply(text: str, edit) -> str:
    lines = text.split("\n")
    s = edit.range.start
    assert (s.line, s.character) == (edit.range.end.line, edit.range.end.character)
    line = lines[s.line]
    lines[s.line] = line[:s.character] + edit.new_text + line[s.character:]
    return "\n".join(lines)


def test_between_functions_one_blank_line_each_side():
    e = assert_edit(SOURCE, "assert histogram([1]) == {1: 1}", 7)
    assert (e.range.start.line, e.range.start.character) == (7, 0)
    assert e.new_text == "\nassert histogram([1]) == {1: 1}\n"
    assert "    return counts\n\nassert histogram([1]) == {1: 1}\n\n\ndef other" in apply(SOURCE, e)
    e = assert_edit(SOURCE, "assert x", 9)            # right before the next def
    assert (e.range.start.line, e.new_text) == (9, "assert x\n\n")


def test_at_the_end_of_the_file():
    e = assert_edit(SOURCE, "assert other(1) == 1", 11)
    assert apply(SOURCE, e).endswith("    return a\n\nassert other(1) == 1\n")
    bare = "def f(a):\n    return a"                  # no final newline
    e = assert_edit(bare, " assert f(1) == 1 ", 2)
    assert (e.range.start.line, e.range.start.character) == (1, 12)
    assert apply(bare, e) == "def f(a):\n    return a\n\nassert f(1) == 1\n"
    assert assert_edit(bare, "assert f(1) == 1", 99) == e
    assert apply("", assert_edit("", "assert g() == 0", 0)) == "assert g() == 0\n"


def test_a_session_block_stays_at_column_zero():
    src = "class Stack:\n    def pop(self):\n        return 1\ny = 2\n"
    block = "s = Stack()\ns.push(1)\nassert s.pop() == 1"
    e = assert_edit(src, block, 3)
    assert apply(src, e) == ("class Stack:\n    def pop(self):\n        return 1\n\n"
                             "s = Stack()\ns.push(1)\nassert s.pop() == 1\n\ny = 2\n")
