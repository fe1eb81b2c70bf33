"""The input finder end to end in the sandbox: batches, each stage, shrinking, budgets,
cancellation, and functions for which no input exists."""

import ast
import asyncio
import time

import pytest

from tracecot.server.finder import Problem, find, run_batch, sandbox_runner
from tracecot.server.finder import solvers
from tracecot.server.finder import types as ty
from tracecot.tracer import RunRequest

SRC = '''
def rev(s):
    return s[::-1]

def shout(text):
    return text.replace("a", "").upper() + "!"

def total(n):
    t = 0
    for v in range(n):
        t += v
    return t

def pick(d, key):
    return d[key] * 2

def insert(xs, i, v):
    xs.insert(i, v)
    return xs

def spin(x):
    while True:
        pass

def mixed(x):
    while x == 1:
        pass
    raise ValueError(x)

def boom(x):
    raise ValueError(x)

def never(x):
    return len(str(x)) < 0

def poly(x):
    if x > 100 and x % 7 == 3 and x % 11 == 5:
        return "deep"
    return "shallow"

def twice(fn, n):
    return fn(fn(n))

def untouched(items, operation):
    copy = items[:]
    copy.sort()
    operation(copy)
    return items

class Acc:
    def __init__(self, start):
        self.start = start

    def add(self, n):
        return self.start + n
'''


def go(sandbox, function, target, callee=None, **kw):
    return asyncio.run(find(Problem(SRC, function, target, callee=callee),
                            sandbox_runner(sandbox), **kw))


def proven(sandbox, function, args, target) -> bool:
    tr = sandbox.run(RunRequest(function=function, args=args, source=SRC, expected=target))
    return tr.status == "returned" and tr.comparison.python_equal


def test_a_batch_runs_many_candidates_in_one_sandbox_run(sandbox):
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(SRC, "rev", "'cba'"),
                                 ["'abc'", "'x'", "1", "'abc', 2"]))
    assert [o.kind for o in outs] == ["r", "r", "x", "x"]
    assert [o.equal for o in outs] == [True, False, False, False]
    assert outs[1].text == "'x'" and outs[2].text == "TypeError"


def test_a_hanging_candidate_ends_its_batch_and_the_earlier_results_are_kept(sandbox):
    src = "def f(x):\n    while x == 2:\n        pass\n    return x\n"
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(src, "f", "1"),
                                 ["1", "3", "2", "1"], timeout=0.5, max_steps=50_000))
    assert [o.kind for o in outs] == ["r", "r", "hang"]     # the last one is sent again later
    assert outs[0].equal and not outs[1].equal


def test_a_slow_candidate_is_stopped_alone_and_the_batch_goes_on(sandbox):
    # a loop that never ends, even one that swallows every exception it can
    src = ("def f(x):\n    while x == 2:\n        try:\n            pass\n"
           "        except Exception:\n            pass\n    return x\n")
    t0 = time.monotonic()
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(src, "f", "1"),
                                 ["1", "2", "3", "1"], timeout=5.0, per=0.1,
                                 max_steps=2_000_000))
    assert [o.kind for o in outs] == ["r", "hang", "r", "r"], outs
    assert outs[1].text == "slow" and outs[3].equal
    assert time.monotonic() - t0 < 3.0      # not the batch's 5 s timeout


def test_each_outcome_says_how_much_cpu_its_call_took(sandbox):
    src = "def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(src, "f", "0"),
                                 ["1", "3000000"], timeout=5.0))
    assert [o.kind for o in outs] == ["r", "r"]
    assert outs[0].cpu < 0.01 < outs[1].cpu


def test_the_hang_cap_shrinks_where_calls_are_fast_and_not_where_they_are_slow():
    from tracecot.server.finder.batch import Outcome
    from tracecot.server.finder.hangs import HangCap
    fast, slow = HangCap(0.1), HangCap(0.1)
    assert fast.per() == 0.01            # nothing known yet: a tenth
    for _ in range(5):
        fast.saw(Outcome("1", "r", cpu=0.0001))
    assert fast.per() == 0.01            # loops now cost 10 ms
    for _ in range(10):
        slow.saw(Outcome("1", "hang", text="slow"))
    assert slow.per() == 0.1             # every call slow: each gets the full allowance
    slow.saw(Outcome("1", "r", cpu=0.08))
    assert slow.per() == 0.1


def test_where_most_candidates_loop_forever_the_answer_is_still_reached(sandbox):
    src = ("def grow(text, old, new):\n    while old in text:\n"
           "        text = text.replace(old, new)\n    return text\n")
    res = asyncio.run(find(Problem(src, "grow", "'a test string'"), sandbox_runner(sandbox),
                           budget=4, solvers=False))
    assert res.found, res.closest
    tr = sandbox.run(RunRequest(function="grow", args=res.found[0].args, source=src,
                                expected="'a test string'"))
    assert tr.comparison.python_equal


def test_user_output_cannot_forge_results(sandbox):
    src = "def f(x):\n    print('\\x00TC0\\tr\\t1\\tforged')\n    return x\n"
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(src, "f", "99"), ["1"]))
    assert len(outs) == 1 and not outs[0].equal and outs[0].text == "1"


@pytest.mark.parametrize("function,target,stage", [
    ("rev", "'olleh'", "inverse"),
    ("shout", "'BC!'", None),
    ("total", "45", None),
    ("pick", "14", None),
    ("insert", "[1, 9, 2, 3]", "inverse"),
])
def test_known_preimages_are_found_and_proven(sandbox, function, target, stage):
    res = go(sandbox, function, target, budget=8, solvers=False)
    assert res.found, res
    if stage:
        assert res.found[0].stage == stage
    for f in res.found:
        assert proven(sandbox, function, f.args, target)
    sizes = [len(f.args) for f in res.found]
    assert sizes == sorted(sizes)          # simplest first


@pytest.mark.parametrize("function,target", [("twice", "12"), ("untouched", "[3, 1, 2]")])
def test_a_parameter_that_is_called_gets_functions(sandbox, function, target):
    res = go(sandbox, function, target, budget=8, solvers=False)
    assert res.found, res.closest
    fn = res.found[0].args.split(", ")[0 if function == "twice" else -1]
    assert fn.startswith("lambda") or fn.isidentifier(), res.found[0].args
    assert proven(sandbox, function, res.found[0].args, target)


def test_answers_are_shrunk(sandbox):
    res = go(sandbox, "shout", "'B!'", budget=8, solvers=False)
    assert res.found and len(res.found[0].args) <= len("'ab'")


def test_a_method_is_searched_on_its_instance(sandbox):
    res = go(sandbox, "Acc.add", "12", callee="Acc(10).add", budget=8, solvers=False)
    assert res.found and res.found[0].args == "2"


def test_the_search_stage_reaches_what_the_blocks_do_not(sandbox):
    res = go(sandbox, "total", "4950", budget=8, solvers=False)      # n = 100
    assert res.found and res.found[0].args == "100"


def test_no_input_exists_says_so_within_the_budget(sandbox):
    t = time.monotonic()
    res = go(sandbox, "never", "True", budget=1.5, solvers=False)
    assert not res.found and time.monotonic() - t < 6
    assert res.closest and res.closest[0].result == "False"


@pytest.mark.parametrize("function,why", [("spin", "hang"), ("boom", "raised"),
                                          ("mixed", "failed")])
def test_functions_that_fail_on_every_candidate_are_reported(sandbox, function, why):
    t = time.monotonic()
    res = go(sandbox, function, "1", budget=1.5, solvers=False)
    assert not res.found and res.all_failed == why and time.monotonic() - t < 6


def test_the_run_budget_bounds_the_search(sandbox):
    res = go(sandbox, "never", "True", budget=30, max_runs=3, solvers=False)
    assert not res.found and res.runs <= 3


def test_progress_is_reported_and_the_search_can_be_cancelled(sandbox):
    seen = []

    async def main():
        task = asyncio.ensure_future(find(Problem(SRC, "never", "True"),
                                          sandbox_runner(sandbox), budget=30, solvers=False,
                                          progress=lambda *a: seen.append(a)))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    t = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t < 5 and seen and seen[-1][0] > 0


def test_the_model_stage_runs_proposals_and_takes_none_on_its_word(sandbox):
    class Model:
        calls = 0

        async def predict_inputs(self, code, function, target):
            Model.calls += 1
            return [{"prediction": "'wrong'"}, {"prediction": "'dlrow'"}]
    res = go(sandbox, "rev", "'world'", budget=8, solvers=False, model=Model())
    assert Model.calls == 1 and res.found[0].args == "'dlrow'"
    assert res.found[0].stage == "model"


def test_solvers_run_in_a_locked_down_process_and_find_what_search_does_not(sandbox):
    params = ty.infer(ast.parse(SRC), "poly")
    got = asyncio.run(solvers.solve(Problem(SRC, "poly", "'deep'"), params, 20.0))
    assert got, "no solver answer"
    assert proven(sandbox, "poly", got[0], "'deep'")


def test_the_solver_process_cannot_write_outside_its_folder(tmp_path):
    target = tmp_path / "escaped.txt"
    src = (f"def f(x: int):\n    open({str(target)!r}, 'w').write('x')\n    return 1\n")
    asyncio.run(solvers.run_solver("hypothesis", src, "f", "1", [{"kind": "int"}], 5.0))
    assert not target.exists()


def test_a_key_error_tells_the_search_which_key_to_add(sandbox):
    src = ("def tag(c, index, value):\n    c[index] = value\n    del c['message']\n"
           "    return c\n")
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(src, "tag", "{}"),
                                 ["{}, 1, 2"]))
    assert outs[0].kind == "x" and outs[0].text == "KeyError:'message'"
    res = asyncio.run(find(Problem(src, "tag", "{1: 2, 3: 4, 8: 2}"), sandbox_runner(sandbox),
                           budget=4, solvers=False))
    assert res.found and "'message'" in res.found[0].args


def test_values_that_only_ever_loop_are_put_aside():
    from tracecot.server.finder.batch import Outcome
    from tracecot.server.finder.hangs import LoopValues
    lv = LoopValues()
    lv.saw([Outcome("'text', 'x', 'y'", "r")])
    assert not lv.holds_looping("'other', '', 'z'")       # nothing looped yet: not watched
    lv.saw([Outcome(f"'text', '', {new}", "hang") for new in ("'a'", "'b'", "'c'")]
           + [Outcome("'text', 'x', 'y'", "r")])
    assert lv.holds_looping("'other', '', 'z'") and lv.aside == ["'other', '', 'z'"]
    assert not lv.holds_looping("'text', 'q', 'z'")     # 'text' also finished: kept
    lv.saw([Outcome("'other', '', 'z'", "r")])            # it finished after all: cleared
    assert not lv.holds_looping("'more', '', 'w'")


def test_a_candidate_that_fills_memory_ends_alone_and_the_batch_goes_on(sandbox):
    src = "def f(s, new):\n    while '' in s:\n        s = s.replace('', new)\n    return s\n"
    t0 = time.monotonic()
    outs = asyncio.run(run_batch(sandbox_runner(sandbox), Problem(src, "f", "1"),
                                 ["'ab', 'xxxxxxxxxxxxxxxx'", "1, 2", "'a', 'y'"], timeout=5.0,
                                 per=0.01))
    assert len(outs) == 3 and outs[1].kind == "x", outs
    assert time.monotonic() - t0 < 3.0
