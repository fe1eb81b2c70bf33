"""Verifier: narratives checked claim by claim against a fresh run."""

import ast
import copy
import time

import pytest

from tracecot.tracer import RunRequest, Sandbox
from tracecot.tracer.narration.narrate import narrate, narrate_backward, to_markdown, to_plain
from tracecot.tracer.schema import OUTPUT, Event, RunError
from tracecot.tracer.values import RESULT_LIMITS, encode, encoded_equal, render
from tracecot.tracer.verification.verify import Facts, check_against, verify, verify_many
from tracecot.tracer.verification.verify_text import verify_text
from support.paths import FEATURES, HISTOGRAM

CASES = [("calls_and_aliases", "3"), ("comprehensions", "[3, 1, 2]"), ("generators", "4"),
         ("propagation", ""), ("methods_and_closures", "5"), ("fact", "4"),
         ("while_loop", "6")]


def req(function, args, path=FEATURES, **kw):
    return RunRequest(function=function, args=args, path=str(path), **kw)


def test_correct_narratives_verify(sandbox):
    r = req("histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)
    trace = sandbox.run(r)
    for n in (narrate(trace, r), narrate_backward(trace, r)):
        v = verify(n, sandbox=sandbox)
        assert v.verified, v.summary()
        assert len(v.verdicts) == len(n.claims) > 5
        assert all(x.verdict == "ok" for x in v.verdicts)
        md = to_markdown(n, v)
        assert "✓ verified" in md and "✗" not in md
    requests = [req(f, a) for f, a in CASES]
    narratives = [narrate(t, q) for t, q in zip(sandbox.run_many(requests), requests, strict=True)]
    for n, v in zip(narratives, verify_many(narratives, sandbox), strict=True):
        assert v.verified, (n.trace.call, [str(x) for x in v.verdicts if not x.ok])


def test_tampered_claims_fail_with_the_true_value(sandbox):
    r = req("histogram", "[1, 1, 3, 1, 2]", HISTOGRAM)
    n = narrate(sandbox.run(r), r)
    loop = next(c for c in n.claims if c.kind == "loop_count")
    loop.value = encode(4)
    bind = next(c for c in n.claims if c.kind == "binds" and c.variable == "pairs")
    true_pairs = bind.value
    bind.value = encode([(1, 3), (2, 1), (3, 1)])
    v = verify(n, sandbox=sandbox)
    assert not v.verified
    wrong = {x.claim.kind: x for x in v.verdicts if x.verdict == "wrong"}
    assert set(wrong) == {"loop_count", "binds"}
    assert wrong["loop_count"].actual == encode(5)
    assert wrong["binds"].actual == true_pairs
    assert "really 5" in str(wrong["loop_count"])
    md = to_markdown(n, v)
    assert "✗ NOT verified" in md and "✓ verified" not in md
    assert "runs 5 times. ✗ (really `5`)" in md
    assert "✗ (really pairs `[(1, 3), (3, 1), (2, 1)]`)" in md
    # a wrong conclusion is caught too
    n2 = narrate(sandbox.run(r), r)
    n2.conclusion_claims[0].value = encode([(1, 3)])
    v2 = verify(n2, sandbox=sandbox)
    assert not v2.verified and v2.verdicts[-1].verdict == "wrong"
    assert to_markdown(n2, v2).rstrip().endswith("✗ (really `[(1, 3), (3, 1), (2, 1)]`)")


def test_tolerates_shifted_event_indices(sandbox):
    r = req("calls_and_aliases", "3")
    trace = sandbox.run(r)
    n = narrate(trace, r)
    shifted = copy.deepcopy(trace)
    shifted.events.insert(1, Event(OUTPUT, 0, 10, text="noise\n", stream="stdout"))
    v = check_against(n, shifted)
    assert v.verified, [str(x) for x in v.verdicts if not x.ok]
    # while a claim about something that never happens is wrong
    n.steps[1].claims[0].line = 99
    v = check_against(n, shifted)
    assert not v.verified and "never happens" in v.wrong[0].note


def test_not_verified_when_the_fresh_run_fails_or_cannot_run(sandbox):
    r = req("while_loop", "6")
    trace = sandbox.run(r)
    n = narrate(trace, r)
    failed = copy.deepcopy(trace)
    failed.status, failed.error = "error", RunError("timeout", "stopped after 2 s")
    v = check_against(n, failed)
    assert not v.verified and all(x.verdict == "unverifiable" for x in v.verdicts)
    assert "fresh run failed" in v.error
    orphan = copy.deepcopy(trace)
    orphan.path = None
    n = narrate(orphan)
    assert n.request is None
    v = verify(n, sandbox=sandbox)
    assert not v.verified and "no request" in v.error
    assert "✗ NOT verified" in to_markdown(n, v)


def test_runs_stopped_by_a_limit_verify_against_a_fresh_run(sandbox):
    r = req("stubborn", "1", max_steps=2000)
    n = narrate(sandbox.run(r), r)
    v = verify(n, sandbox=sandbox)
    assert v.verified, [str(x) for x in v.verdicts if not x.ok]
    assert n.conclusion_claims[0].kind == "error"


def _cruxeval():
    from tracecot.tracer.datasets import cruxeval_tasks
    return cruxeval_tasks()


@pytest.mark.slow
@pytest.mark.core
def test_all_cruxeval_narratives_verify():
    """All 800 CruxEval tasks: the return value equals the recorded output (canonical
    encoder), forward and backward narratives (a claim on every step) verify against fresh
    runs, and the verify_text checker finds no wrong sentence in their plain text."""
    tasks = _cruxeval()
    requests = [RunRequest(function=t.function, args=t.args, source=t.code) for t in tasks]
    t0 = time.perf_counter()
    failures, sentences = [], 0
    with Sandbox() as sandbox:      # every run (traced and fresh) queued at once: they run in
        futures = [(sandbox.submit(r), sandbox.submit(r)) for r in requests]    # parallel meanwhile
        for k, (task, r) in enumerate(zip(tasks, requests, strict=True)):
            trace, fresh = futures[k][0].result(), futures[k][1].result()
            futures[k] = None                   # its traces are freed once checked
            assert trace.status == "returned", (r.args, trace.error)
            if not encoded_equal(trace.result, encode(ast.literal_eval(task.expected),
                                                      RESULT_LIMITS)):
                failures.append((trace.call, "result", render(trace.result), task.expected))
            facts = Facts(fresh, r)     # the fresh run indexed once, for both narratives
            for n in (narrate(trace, r), narrate_backward(trace, r)):
                failures += [(trace.call, n.direction, "step without claims", s.text)
                             for s in n.steps if not s.claims]
                v = check_against(n, fresh, facts)
                if not v.verified:
                    failures.append((trace.call, n.direction,
                                     [str(x) for x in v.verdicts if not x.ok][:3]))
                tv = verify_text(r.source, r.function, r.args, to_plain(n), trace=trace)
                sentences += len(tv)
                if not tv.ok:
                    failures.append((trace.call, "text", [s.text for s in tv.wrong]))
    elapsed = time.perf_counter() - t0
    print(f"\n800 CruxEval tasks: 1600 narratives verified, {sentences} sentences checked "
          f"in {elapsed:.1f} s")
    assert not failures, failures[:5]
