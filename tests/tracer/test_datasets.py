"""Every CruxEval task and every literal-argument HumanEval call, traced in the sandbox: the
return value must equal the recorded output under the canonical (type-strict) encoder."""

import ast

import pytest

from tracecot.tracer import RunRequest, encode, encoded_equal, render
from tracecot.tracer.datasets import cruxeval_tasks, humaneval_calls
from tracecot.tracer.values import RESULT_LIMITS


def _check_all(sandbox, tasks):
    traces = sandbox.run_many([RunRequest(function=t.function, args=t.args, source=t.code,
                                          expected=t.expected, timeout=10) for t in tasks])
    failures = []
    for task, trace in zip(tasks, traces, strict=True):
        if trace.status != "returned":
            failures.append((task.id, trace.status, trace.error or trace.exception))
            continue
        if task.expected is None:
            continue
        expected = encode(ast.literal_eval(task.expected), RESULT_LIMITS)
        if not encoded_equal(trace.result, expected):
            failures.append((task.id, render(trace.result)[:100], task.expected[:100]))
        elif not trace.comparison.canonical_equal:   # the child's own comparison agrees
            failures.append((task.id, "child comparison disagrees", trace.comparison))
    return traces, failures


@pytest.mark.core
def test_cruxeval_all_tasks_return_recorded_output(sandbox):
    tasks = cruxeval_tasks()
    assert len(tasks) == 800
    traces, failures = _check_all(sandbox, tasks)
    assert failures == []
    assert all(t.events and t.events[0].kind == "call" for t in traces)


@pytest.mark.core
def test_humaneval_literal_calls_on_canonical_solutions(sandbox):
    tasks = humaneval_calls()
    assert len(tasks) > 1000
    assert sum(t.expected is not None for t in tasks) > 900
    _, failures = _check_all(sandbox, tasks)
    assert failures == []


def test_cruxeval_ships_with_the_package_and_can_be_pointed_elsewhere(tmp_path, monkeypatch):
    from tracecot.model.evaluate import load_cruxeval
    from tracecot.tracer.datasets import CRUXEVAL_FILE, cruxeval_path
    monkeypatch.delenv("TRACECOT_CRUXEVAL", raising=False)
    assert cruxeval_path() == CRUXEVAL_FILE
    assert (CRUXEVAL_FILE.parent / "cruxeval.LICENSE").read_text().startswith("MIT License")
    assert len(load_cruxeval()) == 800
    other = tmp_path / "mine.jsonl"
    other.write_text('{"id": "x", "code": "def f(a):\\n    return a", '
                     '"input": "1", "output": "1"}\n')
    monkeypatch.setenv("TRACECOT_CRUXEVAL", str(other))
    assert [t.id for t in cruxeval_tasks()] == ["x"]
    assert load_cruxeval(str(CRUXEVAL_FILE), limit=2)[1]["id"] == "sample_1"   # --data wins
    monkeypatch.setenv("TRACECOT_CRUXEVAL", str(tmp_path / "missing.jsonl"))
    with pytest.raises(SystemExit, match="missing.jsonl"):
        load_cruxeval()


def test_the_wheel_carries_the_data_and_every_sub_package(tmp_path):
    import subprocess
    import sys
    import zipfile

    from support.paths import REPO
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path),
                    str(REPO)], check=True, capture_output=True, timeout=300)
    names = set(zipfile.ZipFile(next(tmp_path.glob("tracecot-*.whl"))).namelist())
    for data in ("cruxeval.jsonl", "cruxeval.LICENSE", "SOURCE.md"):
        assert f"tracecot/tracer/datasets/{data}" in names
    packages = {p.parent.relative_to(REPO).as_posix() for p in REPO.glob("*/**/__init__.py")
                if p.parts[len(REPO.parts)] in ("tracer", "model", "server")}
    for pkg in packages:
        assert f"tracecot/{pkg}/__init__.py" in names, f"{pkg} is missing from the wheel"
