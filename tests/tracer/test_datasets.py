"""Every CruxEval task and every literal-argument HumanEval call, traced in the sandbox: the
return value must equal the recorded output under the canonical (type-strict) encoder."""

import ast

import pytest

from tracecot.tracer import RunRequest, Sandbox, encode, encoded_equal, render
from tracecot.tracer.datasets import cruxeval_tasks, humaneval_calls
from tracecot.tracer.values import RESULT_LIMITS


def _check_all(sandbox, tasks):
    traces = sandbox.run_many([RunRequest(function=t.function, args=t.args, source=t.code,
                                          expected=t.expected, timeout=10) for t in tasks])
    failures = []
    for task, trace in zip(tasks, traces):
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
