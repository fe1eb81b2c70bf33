"""verify_text: free-form reasoning checked sentence by sentence against a real run.

Hand-written correct rationales must get no ✗ (and some ✓); subtly wrong ones must get a ✗
on the sentence that is wrong, with the true value.
"""


import pytest

from tracecot.tracer.verification.verify_text import (extract_claims, parse_call, safe_eval,
                                                      split_clauses, split_sentences, verify_text)
from tracecot.tracer.verification.safe_eval import Unsafe
from support.paths import FEATURES as FEATURES_PATH, HISTOGRAM as HISTOGRAM_PATH

FEATURES = FEATURES_PATH.read_text()
HISTOGRAM = HISTOGRAM_PATH.read_text()
ONE_LINERS = '''\
def f(s):
    res = ''
    for c in s: res += c.upper()
    i = 0
    while i < 3: i += 1
    return res, i
'''
EXAMPLE = ("def f(nums):\n    total = 0\n    for n in nums:\n        if n % 2 == 0:\n"
           "            total += n\n    return [total, len(nums)]")

# CruxEval tasks (evaluation data, used here as test material): code, input.
CRUX = {
    0: ('def f(nums):\n    output = []\n    for n in nums:\n        output.append((nums.count(n), '
        'n))\n    output.sort(reverse=True)\n    return output', '[1, 1, 3, 1, 3, 1]'),
    1: ('def f(a, b, c):\n    result = {}\n    for d in a, b, c:\n        result.update(dict.'
        'fromkeys(d))\n    return result', '(1, ), (1, ), (1, 2)'),
    5: ("def f(text, lower, upper):\n    count = 0\n    new_text = list()\n    for char in text:"
        "\n        char = lower if char.isdecimal() else upper\n        if char in ['p', 'C']:\n"
        "            count += 1\n        new_text.append(char)\n    return count, ''.join("
        "new_text)", "'DSUWeqExTQdCMGpqur', 'a', 'x'"),
    11: ('def f(a, b):\n    for key, value in b.items():\n        if key not in a:\n            '
         'a[key] = [value]\n        else:\n            a[key].append(value)\n    return a',
         "{}, {'foo': 'bar'}"),
    20: ("def f(text):\n    result = ''\n    for i in range(len(text)-1, -1, -1):\n        "
         "result += text[i]\n    return result", "'was,'"),
    25: ('def f(d):\n    d = d.copy()\n    d.popitem()\n    return d',
         '{"l": 1, "t": 2, "x:": 3}'),
    31: ('def f(string):\n    upper = 0\n    for c in string:\n        if c.isupper():\n'
         '            upper += 1\n    return upper * (2,1)[upper % 2]', "'PoIOarTvpoead'"),
    44: ("def f(text):\n    ls = list(text)\n    for i in range(0, len(ls)):\n        if ls[i]!="
         "'+':\n            ls.insert(i, '+')\n            ls.insert(i, '*')\n            break"
         "\n    return '+'.join(ls)", "'nzoh'"),
    60: ("def f(doc):\n    for x in doc:\n        if x.isalpha():\n            return x.capitalize"
         "()\n    return '-'", "'raruwa'"),
}


def crux(i):
    code, args = CRUX[i]
    return code, f"f({args})"


CORRECT = [
    ((EXAMPLE, "f([3, 4, 6])"), """f is called with nums = [3, 4, 6].
total is set to 0.
The loop starts: n is 3. 3 % 2 == 0 is False, so total stays 0.
Next n is 4. 4 % 2 == 0 is True, so total becomes 4.
Next n is 6. 6 % 2 == 0 is True, so total becomes 10.
The loop ends. f returns [total, len(nums)], which is [10, 3]."""),
    (crux(0), """Let's execute the code step by step:
1. The function f is defined, which takes a single argument nums.
2. The function is called with the argument [1, 1, 3, 1, 3, 1], so within the function, nums is initially [1, 1, 3, 1, 3, 1].
3. An empty list output is created.
4. The for loop iterates over each element n in nums:
   - For n = 1, nums.count(1) is 4, so (4, 1) is appended to output.
   - For n = 1, (4, 1) is appended again.
   - For n = 3, nums.count(3) is 2, so (2, 3) is appended to output.
5. After the loop, output is [(4, 1), (4, 1), (2, 3), (4, 1), (2, 3), (4, 1)].
6. output is sorted in reverse order, so output becomes [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)].
7. The function returns output, which is [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)].
[ANSWER]
assert f([1, 1, 3, 1, 3, 1]) == [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]
[/ANSWER]"""),  # noqa: E501 - a model's answer, verbatim
    (crux(1), """We call f with a = (1,), b = (1,) and c = (1, 2).
result starts as an empty dictionary.
The loop runs 3 times, with d = (1,), then (1,), then (1, 2).
dict.fromkeys((1,)) is {1: None}, so result becomes {1: None}.
The second update changes nothing.
Finally result becomes {1: None, 2: None}.
So the function returns {1: None, 2: None}."""),
    (crux(20), """Let's execute the code step by step:
1. The function f is called with text = 'was,'.
2. result is initialized to an empty string.
3. The loop iterates over i from 3 down to 0, so it runs 4 times.
4. When i = 3, text[3] is ',', so result becomes ','.
5. When i = 2, text[2] is 's', so result becomes ',s'.
6. When i = 1, result becomes ',sa'.
7. When i = 0, result becomes ',saw'.
8. The function returns ',saw'."""),
    (crux(5), """The function is called with text = 'DSUWeqExTQdCMGpqur', lower = 'a' and upper = 'x'.
count starts at 0 and new_text is an empty list.
For each character, char is replaced by lower if it is a decimal digit, otherwise by upper.
There are no digits in text, so every char becomes 'x'.
'x' is never in ['p', 'C'], so count stays 0.
After the loop, new_text contains 18 'x' characters.
The function returns (0, 'xxxxxxxxxxxxxxxxxx')."""),  # noqa: E501 - a model's answer, verbatim
    (crux(11), """a is {} and b is {'foo': 'bar'}.
The loop goes over b.items(), so key = 'foo' and value = 'bar'.
'foo' is not in a, so a['foo'] is set to ['bar'].
a is now {'foo': ['bar']}.
The loop runs once.
So the function returns {'foo': ['bar']}."""),
    (crux(31), """Let's count the uppercase letters in 'PoIOarTvpoead': P, I, O and T, so upper ends up as 4.
upper is 4, so upper % 2 is 0 and (2,1)[0] is 2.
The return value is upper * 2 = 8.
So the output is 8."""),  # noqa: E501 - a model's answer, verbatim
    (crux(44), """ls = ['n', 'z', 'o', 'h'].
In the first iteration i = 0, and ls[0] is 'n', which is not '+'.
So '+' is inserted at index 0, then '*' is inserted at index 0.
ls becomes ['*', '+', 'n', 'z', 'o', 'h'] and the loop breaks.
Joining with '+' gives '*+++n+z+o+h'.
The function returns '*+++n+z+o+h'."""),
    (crux(60), """The loop looks at x = 'r' first.
'r'.isalpha() is True, so the function returns 'r'.capitalize(), which is 'R'.
The loop runs only once because the function returns inside it.
So f('raruwa') == 'R'."""),
    ((FEATURES, "fact(4)"), """fact(4) calls fact(3), which calls fact(2), which calls fact(1).
fact(1) returns 1.
Then fact(2) returns 2 * 1 = 2, fact(3) returns 3 * 2 = 6, and fact(4) returns 4 * 6 = 24.
So the result is 24."""),
    ((FEATURES, "while_loop(6)"), """n starts at 6 and steps at 0.
6 is even, so n becomes 3 and steps becomes 1.
3 is odd, so n becomes 10 and steps becomes 2.
Then n becomes 5, 16, 8, 4, 2 and finally 1.
steps is incremented each time, so it ends at 8.
The loop runs 8 times and the function returns 8."""),
    ((FEATURES, "calls_and_aliases(3)"), """out and alias are the same list.
helper appends len(xs) to the list and returns it: first 0, then 1, then 2.
So total becomes 0 + 1 + 2 = 3 and out becomes [0, 1, 2].
Then a ValueError is raised and caught, and 'caught boom' is printed.
The function returns (3, [0, 1, 2])."""),
    ((HISTOGRAM, "histogram([1, 1, 3, 1, 2])"), """counts starts empty.
v = 1: 1 is not in counts, so counts[1] = 1 and counts is {1: 1}.
v = 1 again: counts becomes {1: 2}.
v = 3: counts becomes {1: 2, 3: 1}.
v = 1: counts becomes {1: 3, 3: 1}.
v = 2: counts becomes {1: 3, 3: 1, 2: 1}.
pairs = [(1, 3), (3, 1), (2, 1)], and sorting by -count keeps this order because the sort is stable.
The function returns [(1, 3), (3, 1), (2, 1)]."""),
    ((ONE_LINERS, "f('abc')"), """res starts as ''.
The one-line loop adds c.upper() for each character: res becomes 'A', then 'AB', then 'ABC'.
Then i counts up: i becomes 1, then 2, then 3.
So the function returns ('ABC', 3)."""),
]

WRONG = [   # (call, text, the wrong sentence starts with, its true value contains)
    ((EXAMPLE, "f([3, 4, 6])"), """f is called with nums = [3, 4, 6].
total is set to 0.
Next n is 4. 4 % 2 == 0 is True, so total becomes 5.
So f returns [10, 3].""", "4 % 2 == 0 is True, so total becomes 5", "4"),
    (crux(20), """result starts as ''.
When i = 3, result becomes ','.
When i = 2, result becomes ',s'.
When i = 1, result becomes 'as,'.
The function returns ',saw'.""", "When i = 1, result becomes 'as,'", "',sa'"),
    (crux(31), """The uppercase letters are P, I, O, T and A, so upper is 5.
So the output is 5.""", "The uppercase letters", "4"),
    (crux(11), """key = 'foo' and value = 'bar'.
'foo' is not in a, so a['foo'] is set to 'bar'.
a is now {'foo': ['bar']}.""", "'foo' is not in a", "['bar']"),
    (crux(44), """ls = ['n', 'z', 'o', 'h'].
i = 0 and ls[0] is 'n'.
After the two inserts, ls becomes ['+', '*', 'n', 'z', 'o', 'h'].""",
     "After the two inserts", "['*', '+', 'n', 'z', 'o', 'h']"),
    (crux(60), """x is 'r', which is alphabetic.
The loop runs 6 times.
The function returns 'R'.""", "The loop runs 6 times", "1"),
    ((FEATURES, "fact(4)"), """fact(1) returns 1.
fact(2) returns 3.
fact(4) returns 24.""", "fact(2) returns 3", "2"),
    ((FEATURES, "while_loop(6)"), """n becomes 3, then 10, 5, 16, 8, 4, 2, 1.
The loop runs 7 times.""", "The loop runs 7 times", "8"),
    ((FEATURES, "calls_and_aliases(3)"), """total becomes 3 and out becomes [0, 1, 2].
A KeyError is raised and caught.
The function returns (3, [0, 1, 2]).""", "A KeyError is raised", "ValueError"),
    ((FEATURES, "calls_and_aliases(3)"), """The except block prints 'caught'.""",
     "The except block prints", "'caught boom'"),
    ((HISTOGRAM, "histogram([1, 1, 3, 1, 2])"), """v = 1: counts becomes {1: 1}.
v = 1: counts becomes {1: 2}.
v = 3: counts becomes {1: 2, 3: 2}.""", "v = 3", "{1: 2, 3: 1}"),
    ((EXAMPLE, "f([3, 4, 6])"), """total becomes 4.
Next n is 6. The condition n % 2 == 0 is false, so total stays 4.""", "The condition n % 2",
     "True"),
    (crux(25), """d is copied, so d = {'l': 1, 't': 2, 'x:': 3}.
d.popitem() removes the first item, so d becomes {'t': 2, 'x:': 3}.""",
     "d.popitem() removes", "{'l': 1, 't': 2}"),
    (crux(0), """n = 1, so output becomes [[4, 1]].""", "n = 1", "[(4, 1)]"),
    (crux(5), """count stays 0 because no char is 'p' or 'C'.
The function returns (0, 'xxxxxxxxxxxxxxxxx').""", "The function returns",
     "'xxxxxxxxxxxxxxxxxx'"),
    ((EXAMPLE, "f([3, 4, 6])"), """So len(nums) must be 4.""", "So len(nums)", "3"),
    ((EXAMPLE, "f([3, 4, 6])"), """total becomes 10.
Then n is 3.""", "Then n is 3", "6"),     # n was 3 only before total became 10
]


@pytest.mark.parametrize("case", range(len(CORRECT)))
def test_correct_rationales_get_no_false_wrong(sandbox, case):
    (code, call), text = CORRECT[case]
    result = verify_text(code, *parse_call(call), text, sandbox=sandbox)
    assert result.ok, [(s.text, s.actual, s.note) for s in result.wrong]
    assert result.checked >= 1
    assert len(result) == len(split_sentences(text))


@pytest.mark.parametrize("case", range(len(WRONG)))
def test_subtly_wrong_rationales_are_caught(sandbox, case):
    (code, call), text, bad, truth = WRONG[case]
    result = verify_text(code, *parse_call(call), text, sandbox=sandbox)
    wrong = [s for s in result if s.verdict == "wrong"]
    assert wrong and wrong[0].text.startswith(bad), [(s.verdict, s.text) for s in result]
    assert truth in (wrong[0].actual or ""), wrong[0]
    assert not result.ok


def test_verdict_details(sandbox):
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", "total becomes 5.\nSo the output is [10, 3].",
                    sandbox=sandbox)
    bad, good = r.sentences
    assert (bad.verdict, bad.text) == ("wrong", "total becomes 5.")
    assert bad.claim.kind == "value" and bad.claim.subject == "total" and bad.claim.value == 5
    assert bad.actual == "one of 0, 4, 10" and "never has that value" in bad.note
    assert good.verdict == "ok" and good.claim.kind == "returns" and good.actual is None
    assert (r.status, r.result, r.function, r.args) == ("returned", "[10, 3]", "f", "[3, 4, 6]")
    # equal under == but not type-strict: accepted, with a note
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", "total becomes 4.0.", sandbox=sandbox)
    assert r[0].verdict == "ok" and "not the same type" in r[0].note
    # a sentence without a checkable claim
    assert verify_text(EXAMPLE, "f", "[3, 4, 6]", "We add the even numbers.",
                       sandbox=sandbox)[0].verdict == "unchecked"


def test_numbered_steps_are_marked_sentence_by_sentence(sandbox):
    text = ("1. nums = [3, 4, 6] and total = 0.\n"
            "2. For n = 4, total becomes 4.\n"
            "3. We skip the odd numbers.\n"
            "4. For n = 6, total becomes 11.\n"
            "5. So the function returns [10, 3].")
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", text, sandbox=sandbox)
    assert r.marked().splitlines() == [
        "✓ nums = [3, 4, 6] and total = 0.",
        "✓ For n = 4, total becomes 4.",
        "· We skip the odd numbers. (unchecked)",
        "✗ For n = 6, total becomes 11. (really one of 4, 10)",
        "✓ So the function returns [10, 3]."]
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", "x = 5.\nThe function returns 'ab'.",
                    sandbox=sandbox)
    assert [s.verdict for s in r] == ["unchecked", "wrong"]    # no x in this run
    assert r.marked().splitlines()[1] == "✗ The function returns 'ab'. (really [10, 3])"


def test_one_signature_and_verdicts_as_json(sandbox):
    from tracecot.tracer import SentenceVerdict
    from tracecot.tracer.verification import verify as verify_module
    a = verify_text(EXAMPLE, *parse_call("f([3, 4, 6])"), "total becomes 4.", sandbox=sandbox)
    b = verify_text(EXAMPLE, "f", "[3, 4, 6]", "total becomes 4.", sandbox=sandbox)
    assert [s.verdict for s in a] == [s.verdict for s in b] == ["ok"]
    assert verify_module.verify_text is verify_text
    assert parse_call("f([1, 2], 'a')") == ("f", "[1, 2], 'a'")
    assert parse_call("Stack.push(s, 3)") == ("Stack.push", "s, 3")
    with pytest.raises(ValueError):
        parse_call("not a call")
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", "total becomes 5.", sandbox=sandbox)
    got = [v.to_json() for v in r]
    assert [(v["text"], v["verdict"], v["actual"]) for v in got] == [
        ("total becomes 5.", "wrong", "one of 0, 4, 10")]
    back = SentenceVerdict.from_json(got[0])
    assert (back.text, back.verdict, back.actual, back.note) == \
        (r[0].text, r[0].verdict, r[0].actual, r[0].note)


def test_backward_reasoning_is_order_free(sandbox):
    text = ("f returns [total, len(nums)], and the output is [10, 3].\n"
            "So len(nums) must be 3 and total must be 10.\n"
            "total is 4 after the second number, and it was 0 at the start.\n"
            "So nums = [3, 4, 6] works.")
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", text, sandbox=sandbox)
    assert r.ok and [s.verdict for s in r] == ["ok", "ok", "ok", "ok"]
    # forced forward, the restated earlier value is out of order
    r = verify_text(EXAMPLE, "f", "[3, 4, 6]", "total becomes 10.\ntotal is 4.", sandbox=sandbox,
                    mode="forward")
    assert [s.verdict for s in r] == ["ok", "wrong"]
    assert "only earlier" in r[1].note


def test_runs_that_fail_leave_everything_unchecked(sandbox):
    from tracecot.tracer import RunRequest
    forever = "def f(x):\n    while True:\n        x += 1\n"
    trace = sandbox.run(RunRequest(function="f", args="1", source=forever, timeout=0.3))
    r = verify_text(forever, "f", "1", "x becomes 2.\nThe function returns 3.", trace=trace)
    assert r.status == "error" and r.error
    assert [s.verdict for s in r] == ["unchecked", "unchecked"]
    r = verify_text("def f(x):\n    raise ValueError('no')\n", "f", "1",
                    "The function raises ValueError.\nIt returns 1.", sandbox=sandbox)
    assert [s.verdict for s in r] == ["ok", "unchecked"]
    r = verify_text("def f(x):\n    raise ValueError('no')\n", "f", "1",
                    "So the function returns 1.", sandbox=sandbox)
    assert r[0].verdict == "wrong" and "raises ValueError" in r[0].actual


def test_sentence_and_clause_splitting():
    text = ("1. x is 3.5. Then y is 'a. b'.\n"
            "2) **Step** `z` becomes [1, 2] (e.g. the first two).\n"
            "- Let's see: it is 2 ** 3 = 8!")
    assert split_sentences(text) == ["x is 3.5.", "Then y is 'a. b'.",
                                     "Step z becomes [1, 2] (e.g. the first two).",
                                     "Let's see: it is 2 ** 3 = 8!"]
    assert split_clauses("x is 1, 2 and 3") == ["x is 1, 2 and 3"]
    assert split_clauses("a = 1 and b = 2, so c becomes 3") == ["a = 1", "b = 2",
                                                                 "so c becomes 3"]
    assert split_clauses("the condition x > 1 and y < 2 is true") == [
        "the condition x > 1 and y < 2 is true"]
    merged = split_clauses("f returns [a, b], which is [1, 2]")
    assert len(merged) == 1 and merged[0].endswith("[1, 2]")


@pytest.mark.parametrize("clause,expected", [
    ("x = 5", [("value", "x", 5)]),
    ("so x is now [1, 2]", [("value", "x", [1, 2])]),
    ("total becomes total + n = 4 + 6 = 10", [("value", "total", 10)]),
    ("res is an empty list", [("value", "res", [])]),
    ("the condition v in counts is false", [("truth", "v in counts", False)]),
    ("the function returns 'ab'", [("returns", "", "ab")]),
    ("So the output is 12", [("returns", "", 12)]),
    ("helper returns 0", [("returns", "helper", 0)]),
    ("the loop runs three times", [("loop_count", "loop", 3)]),
    ("3 is appended to res", [("appends", "res", 3)]),
    ("it prints 'hi'", [("prints", "", "hi")]),
    ("a ValueError is raised", [("raises", "ValueError", None)]),
    # nothing checkable (or nothing safe to check)
    ("x is not 3", []), ("if x is 3", []), ("the length of s is 5", []),
    ("x is 3 times bigger", []), ("x = 5 if a else 3", []), ("x = y + 1", []),
    ("x is 'a', 'b' and 'c'", []), ("the key 'a' is 1", []), ("x might be 3", []),
    ("x.upper() is 'A'", [("value", "x.upper()", "A")]),
])
def test_claim_extraction(clause, expected):
    got = [(c.kind, c.subject, c.value) for c in extract_claims(clause)]
    assert got == expected


def test_expressions_are_evaluated_safely():
    import ast

    def ev(src, **env):
        return safe_eval(ast.parse(src, mode="eval").body, env)

    assert ev("len(s) + s.count('a')", s="banana") == 9
    assert ev("x[1:] == [2, 3] and 4 % 2 == 0", x=[1, 2, 3]) is True
    for bad in ("'a' * 10 ** 9", "2 ** 100000", "__import__('os')", "x.__class__",
                "(lambda: 1)()", "open('f')", "[1] * 10 ** 7", "1 << 100000"):
        with pytest.raises(Unsafe):
            ev(bad, x=[1])
