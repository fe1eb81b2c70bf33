"""Every literal-argument `candidate(...)` call in HumanEval's tests, on the canonical solutions:
traced in the sandbox, narrated forward and backward, every claim of both narratives verified
against a fresh run, the plain text of both checked sentence by sentence, and the return value
equal to the asserted one under the canonical (type-strict) encoder.

All runs (the traced one and the fresh one of each call) are submitted at once, so the fork
server runs them in parallel while this process narrates and checks the ones already back.
"""

import ast
import time

import pytest

from tracecot.tracer import RunRequest, Sandbox, encode, encoded_equal, render
from tracecot.tracer.datasets import humaneval_calls
from tracecot.tracer.narration.narrate import narrate, narrate_backward, to_plain
from tracecot.tracer.values import RESULT_LIMITS
from tracecot.tracer.verification.verify import Facts, check_against
from tracecot.tracer.verification.verify_text import verify_text

# Calls that legitimately cannot be verified, with the reason (task id -> why). Each is
# still traced and must still return the expected value; only the claim check is waived.
# None so far: every canonical solution is deterministic under the sandbox (fixed hash seed).
UNVERIFIABLE: dict[str, str] = {}


def _request(task) -> RunRequest:
    return RunRequest(function=task.function, args=task.args, source=task.code, timeout=10)


def check_call(task, trace, fresh) -> list[tuple]:
    """What is wrong with one call: its run, its result, its narratives, their text."""
    if trace.status != "returned":
        return [(task.id, "run", trace.status, trace.error or trace.exception)]
    problems = []
    if task.expected is not None:
        want = encode(ast.literal_eval(task.expected), RESULT_LIMITS)
        if not encoded_equal(trace.result, want):
            problems.append((task.id, "result", render(trace.result)[:100],
                             task.expected[:100]))
    if task.id in UNVERIFIABLE:
        return problems
    request = _request(task)
    facts = Facts(fresh, request)       # the fresh run indexed once, for both narratives
    for n in (narrate(trace, request), narrate_backward(trace, request)):
        assert n.steps and all(s.index == k for k, s in enumerate(n.steps, 1))
        bare = [s.text for s in n.steps if not s.claims]
        if bare:
            problems.append((task.id, f"{n.direction} steps without claims", bare[:3]))
        v = check_against(n, fresh, facts)
        if not v.verified:
            problems.append((task.id, n.direction, [str(x) for x in v.verdicts
                                                    if not x.ok][:3]))
        tv = verify_text(task.code, task.function, task.args, to_plain(n), trace=trace)
        if not tv.ok:
            problems.append((task.id, f"{n.direction} text", [s.text for s in tv.wrong][:3]))
    return problems


@pytest.mark.slow
@pytest.mark.core
def test_all_humaneval_literal_calls_narrate_and_verify():
    tasks = humaneval_calls()
    assert len(tasks) > 1000
    assert sum(t.expected is not None for t in tasks) > 900
    ids = {t.id for t in tasks}
    assert set(UNVERIFIABLE) <= ids, set(UNVERIFIABLE) - ids
    t0 = time.perf_counter()
    failures = []
    with Sandbox() as sb:
        futures = [(sb.submit(_request(t)), sb.submit(_request(t))) for t in tasks]
        for k, task in enumerate(tasks):
            traced, fresh = futures[k]
            futures[k] = None                   # its traces are freed once checked
            failures += check_call(task, traced.result(), fresh.result())
    elapsed = time.perf_counter() - t0
    print(f"\n{len(tasks)} HumanEval calls: traced, narrated both ways and verified in "
          f"{elapsed:.1f} s ({len(UNVERIFIABLE)} waived)")
    assert not failures, failures[:5]


def test_check_call_reports_a_wrong_result_and_a_wrong_narrative():
    """The checker above can fail: a wrong expected value and a fresh run that differs."""
    task = next(t for t in humaneval_calls() if t.id == "HumanEval/0#0")
    with Sandbox() as sb:
        trace, other = sb.run_many([_request(task), RunRequest(
            function=task.function, args="[1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05",
            source=task.code)])
    assert check_call(task, trace, trace) == []
    wrong = type(task)(task.id, task.code, task.function, task.args, "False")
    assert [p[1] for p in check_call(wrong, trace, trace)] == ["result"]
    kinds = {p[1] for p in check_call(task, trace, other)}
    assert {"forward", "backward"} <= kinds
