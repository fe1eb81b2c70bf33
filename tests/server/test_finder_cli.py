"""`tracecot find-input` on the command line, and the input finder benchmark's blindness: the
finder's code path is given CruxEval tasks without their recorded input."""

import asyncio
import dataclasses
import importlib.util
import json
import subprocess
import sys

import pytest
from support.paths import REPO

from tracecot.server.finder import sandbox_runner

SRC = '''
def rev(s):
    """>>> rev('ab')"""
    return s[::-1]

def pair(xs, n):
    return [x * n for x in xs]

def spin(x):
    while True:
        pass

def boom(x):
    raise ValueError(x)

def sq(n: int):
    return n * n
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    p = tmp_path_factory.mktemp("find") / "m.py"
    p.write_text(SRC)
    return str(p)


def tracecot(*args, timeout=90):
    return subprocess.run([sys.executable, "-m", "tracecot.server", "find-input", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def test_json_lists_argument_lists_simplest_first(mod):
    p = tracecot(f"{mod}:pair", "[2, 4]", "--json", "--budget", "10")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["inputs"] and out["function"] == "pair"
    sizes = [len(a) for a in out["inputs"]]
    assert sizes == sorted(sizes)
    ns = {}
    exec(SRC, ns)
    for a in out["inputs"]:           # each one really gives the output
        assert eval(f"pair({a})", ns) == [2, 4]
    assert all(f["stage"] for f in out["found"])
    assert "backwards" in out["why"] or "output" in out["why"]     # the first one's story


def test_text_output_names_the_call_and_the_stage(mod):
    p = tracecot(f"{mod}:rev", "'olleh'", "--budget", "10")
    assert p.returncode == 0 and "rev('hello') == 'olleh'" in p.stdout
    assert "backwards:" in p.stdout and "s = 'hello'" in p.stdout


@pytest.mark.parametrize("func,output,words", [
    ("nope", "1", "no function named 'nope'"),
    ("rev", "'ab", "OUTPUT is not a Python expression"),
])
def test_usage_errors_exit_2(mod, func, output, words):
    p = tracecot(f"{mod}:{func}", output)
    assert p.returncode == 2 and words in p.stderr


@pytest.mark.parametrize("func,words", [("spin", "hung"), ("boom", "raised an exception")])
def test_a_function_failing_on_every_candidate_exits_3(mod, func, words):
    p = tracecot(f"{mod}:{func}", "1", "--budget", "1.5")
    assert p.returncode == 3 and words in p.stderr


def test_nothing_found_exits_1_with_the_closest_outputs(mod):
    p = tracecot(f"{mod}:sq", "3", "--budget", "1.5")
    assert p.returncode == 1
    assert "no input found" in p.stdout and "closest outputs reached" in p.stdout


def _benchmark():
    spec = importlib.util.spec_from_file_location("input_finder_bench",
                                                  REPO / "benchmarks" / "input_finder.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench         # dataclasses look their module up
    spec.loader.exec_module(bench)
    return bench


def test_the_benchmark_gives_the_finder_no_recorded_input(sandbox, monkeypatch):
    bench = _benchmark()
    row = {"id": "t1", "code": "def f(s):\n    return s[::-1]\n", "input": "'SECRET-abc'",
           "output": "'cba-TERCES'"}
    task = bench.blind(row)
    assert "input" not in {f.name for f in dataclasses.fields(task)}
    assert "SECRET" not in repr(dataclasses.astuple(task)[:3])     # id, code, function
    # the finder's path cannot reach the dataset either
    import tracecot.tracer.datasets as ds

    def no_dataset(*a, **k):
        raise AssertionError("the finder read the dataset")
    monkeypatch.setattr(ds, "cruxeval_rows", no_dataset)
    monkeypatch.setattr(bench, "cruxeval_rows", no_dataset)
    seen = []
    runner = sandbox_runner(sandbox)

    async def run(req):
        seen.append(req)
        return await runner(req)
    r = asyncio.run(bench.run_finder(task, run, 5.0))
    assert r["solved"] and r["args"] == "'SECRET-abc'"   # found from the output alone
    assert seen and all(req.function in ("f", "__tracecot_probe__") for req in seen)
