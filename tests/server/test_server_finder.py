"""The model-free input finder (tracecot.server.finder): mutations, and search by execution."""

import asyncio
import time

import pytest

from tracecot.server import finder
from tracecot.server.runs import Runner
from tracecot.tracer import RunRequest


def test_parse_and_format_args():
    assert finder.parse_args("[1, 2], 'a', k=3") == ([[1, 2], "a"], {"k": 3})
    assert finder.parse_args("x") is None          # not a literal
    assert finder.parse_args("*xs") is None
    assert finder.parse_args("") == ([], {})
    assert finder.format_args([[1, 2], "a"], {"k": 3}) == "[1, 2], 'a', k=3"
    assert finder.format_args([set(), float("nan")], {}) == "set(), float('nan')"


def test_neighbours_cover_the_usual_edits():
    n = finder.neighbours(5, target=9)
    assert {4, 6, 10, 2, 0, -5, 9}.issubset(set(n))
    s = finder.neighbours("abc", target="xy")
    assert {"bc", "ac", "ab", "cba", "ABC", "abcx", "xy"}.issubset(set(s))
    lst = finder.neighbours([1, 2, 3])
    for want in ([2, 3], [1, 3], [3, 2, 1], [1, 1, 2, 3], [2, 2, 3], [1, 2, 3, 3]):
        assert want in lst
    assert (2, 1) in finder.neighbours((1, 2))
    assert {"a": 2} in finder.neighbours({"a": 1})
    assert finder.neighbours(True) == [False]
    assert finder.neighbours(object()) == []


def test_candidates_and_seeds():
    c = finder.candidates("[1, 2], 3")
    assert "[2], 3" in c and "[1, 2], 4" in c and len(c) == len(set(c))
    assert finder.candidates("x + 1") == []
    s = finder.seeds(["[1]"], "[3, 2]", 1)
    assert s[0] == "[1]" and "[3, 2]" in s and "[2, 3]" in s
    assert "" in finder.seeds([], "1", 0)
    assert all(finder.parse_args(x) is not None for x in finder.seeds([], "'ab'", 2))


def test_closeness_prefers_similar_results():
    assert finder.closeness("[1, 2, 3]", "[1, 2, 4]") > finder.closeness("'x'", "[1, 2, 4]")
    assert finder.closeness("44", "45") > finder.closeness("4", "45")
    assert finder.closeness("", "1") == 0.0


class _FakeTrace:
    def __init__(self, status, result, equal, looks_equal=None):
        from tracecot.tracer import encode
        from tracecot.tracer.schema import Comparison
        self.status, self.result = status, encode(result)
        self.comparison = Comparison(None, equal if looks_equal is None else looks_equal, equal)


def test_search_with_a_fake_runner_finds_and_stops():
    # f(x) = 3 * x; want 21. Pure Python stand-in for the sandbox: fast and deterministic.
    tried = []

    async def run(args):
        tried.append(args)
        parsed = finder.parse_args(args)
        if parsed is None or len(parsed[0]) != 1 or not isinstance(parsed[0][0], int) \
                or isinstance(parsed[0][0], bool):
            return _FakeTrace("raised", None, False)
        v = 3 * parsed[0][0]
        return _FakeTrace("returned", v, v == 21)

    res = asyncio.run(finder.search(run, ["1"], "21", 1, budget=5, want=1))
    assert [f.args for f in res.found] == ["7"]
    assert res.tried == len(tried) < 200


def test_search_reports_a_lookalike_and_stops_soon_after():
    # the result looks like the target (canonical encoding) but `==` is False, as for objects
    # of a class without __eq__: nothing can be found, and the search says what it saw
    async def run(args):
        parsed = finder.parse_args(args)
        v = parsed[0][0] if parsed and len(parsed[0]) == 1 else None
        return _FakeTrace("returned", v, False, looks_equal=v == 5)

    t = time.monotonic()
    res = asyncio.run(finder.search(run, ["1"], "5", 1, budget=30, linger=0.2))
    assert res.found == [] and res.lookalike is not None and res.lookalike.args == "5"
    assert time.monotonic() - t < 10


def test_search_respects_the_budget_and_cancels():
    async def run(args):
        await asyncio.sleep(10)

    t = time.monotonic()
    res = asyncio.run(finder.search(run, ["1"], "2", 1, budget=0.3))
    assert res.found == [] and time.monotonic() - t < 2


SRC = '''
def total(n):
    t = 0
    for v in range(n):
        t += v
    return t

def shout(text):
    return text.replace("a", "").upper() + "!"

def pairs(xs, k):
    return [x * k for x in xs if x > 0]

def spin(x):
    while x != 3:
        pass
    return x
'''


@pytest.mark.parametrize("fn,known,target,arity", [
    ("total", ["5"], "45", 1),
    ("shout", ["'abc'"], "'BC!'", 1),
    ("pairs", ["[1, 2], 1"], "[2, 4, 6]", 2),
    ("spin", ["3"], "3", 1),
])
def test_search_in_the_sandbox_proves_inputs(sandbox, fn, known, target, arity):
    runner = Runner(sandbox)

    def run(args):
        return runner.run(RunRequest(function=fn, args=args, source=SRC, expected=target,
                                     timeout=0.5, max_events=64), cache=False)

    res = asyncio.run(finder.search(run, known, target, arity, budget=8, want=1))
    assert res.found, res
    for f in res.found:     # proven again, independently
        trace = sandbox.run(RunRequest(function=fn, args=f.args, source=SRC, expected=target))
        assert trace.comparison.python_equal
