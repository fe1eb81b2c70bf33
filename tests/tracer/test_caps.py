"""Runs that hit a cap: a narrative claims nothing about what was not recorded (issue 16)."""

import pytest

from tracecot.tracer import RunRequest
from tracecot.tracer.narration.narrate import narrate, narrate_backward
from tracecot.tracer.verification.verify import verify

SHOUT = '''\
def shout(n):
    for i in range(n):
        print("x" * 1000)
    return n
'''


@pytest.mark.parametrize("max_events", [20_000, 2_000, 2_001, 2_002, 2_003, 2_004, 2_005])
def test_loop_cut_by_the_event_cap_has_no_count_nor_ending(sandbox, max_events):
    """The record stops right at the loop's header (its next line not recorded): the loop's
    count and ending are unknown, not 'runs 4983 times ... the loop ends'."""
    req = RunRequest(function="shout", args="10000", source=SHOUT, max_events=max_events)
    trace = sandbox.run(req)
    assert trace.truncated and trace.status == "returned"
    assert trace.line_counts[2] == 10_001     # complete whatever the caps
    for story in (narrate(trace, req), narrate_backward(trace, req)):
        counts = [c.value for c in story.claims if c.kind == "loop_count"]
        assert all(c == {"t": "int", "v": 10_000} for c in counts), counts
        assert not any("loop ends" in s.plain for s in story.steps)
        v = verify(story, sandbox)
        for verdict in v.verdicts:
            if verdict.claim.kind == "loop_count":
                assert not verdict.ok
    # What the record cannot show, the line counts can: stated and checked as such.
    story = narrate(trace, req)
    counted = [c for c in story.conclusion_claims if c.kind == "line_count"]
    assert [(c.line, c.value["v"]) for c in counted] == [(2, 10_001)]
    assert "line 2 ran 10,001 times" in story.conclusion
    verdicts = {v.claim.kind: v for v in verify(story, sandbox).verdicts}
    assert verdicts["line_count"].ok
    counted[0].value = {"t": "int", "v": 4983}
    verdicts = {v.claim.kind: v for v in verify(story, sandbox).verdicts}
    assert verdicts["line_count"].verdict == "wrong"


def test_print_cut_by_the_output_cap_is_not_claimed(sandbox):
    """The print the output cap cut short has a prefix of its text in the trace: no claim of
    it, and an excerpt of what was kept, bounded, saying how much more."""
    req = RunRequest(function="shout", args="3", source=SHOUT, output_bytes=1500)
    trace = sandbox.run(req)
    story = narrate(trace, req)
    prints = [c for c in story.claims if c.kind == "prints"]
    outputs = [i for i, e in enumerate(trace.events) if e.kind == "output"]
    assert len(outputs) == 2 and [c.event_index for c in prints] == outputs[:1]
    assert "the output cap was reached" in story.steps[-1].plain + "".join(
        s.plain for s in story.steps)
    assert all(len(s.text) < 400 and s.claims for s in story.steps)
    assert "… 880 more characters" in "".join(s.text for s in story.steps)
    assert "later printed output was not kept" in story.conclusion
    assert verify(story, sandbox).verified


def test_exception_raised_where_nothing_was_recorded_is_not_traced_back(sandbox):
    """The last recorded raise was caught; the one the call ends with is raised in a call
    too deep to record: the backward narrative must not blame the caught one."""
    src = '''\
def deep(n):
    if n == 0:
        raise ValueError("deep")
    return deep(n - 1)


def f(n):
    try:
        int("x")
    except ValueError:
        pass
    return deep(n)
'''
    req = RunRequest(function="f", args="5", source=src, max_depth=2)
    trace = sandbox.run(req)
    assert trace.status == "raised"
    story = narrate_backward(trace, req)
    assert not any(c.kind == "raises" for c in story.claims)
    assert "cannot be traced back" in story.steps[0].plain


def test_a_long_print_is_an_excerpt_that_verify_text_does_not_take_for_the_whole(sandbox):
    from tracecot.tracer.narration.narrate import to_plain
    from tracecot.tracer.verification.verify_text import verify_text
    req = RunRequest(function="shout", args="1", source=SHOUT)
    trace = sandbox.run(req)
    text = to_plain(narrate(trace, req))
    assert "... 600 more characters" in text
    tv = verify_text(SHOUT, "shout", "1", text, trace=trace)
    (excerpt,) = [s for s in tv.sentences if "more characters" in s.text]
    assert excerpt.verdict == "unchecked" and not tv.wrong


LOOPY = '''\
def loopy(n):
    t = 0
    for i in range(n):
        t += i
    print("done", t)
    while n < 0:
        pass
    return t
'''


def test_an_unrecorded_run_returns_its_result_and_output_and_is_still_stopped(sandbox):
    """record=False: no events and no step cap, the same result, output and comparison; a
    loop that never ends is stopped by the timeout all the same."""
    req = RunRequest(function="loopy", args="5000", source=LOOPY, record=False,
                     max_steps=100, expected="12497500")
    trace = sandbox.run(req)
    assert trace.status == "returned" and trace.comparison.python_equal
    assert trace.stdout == "done 12497500\n" and trace.steps == 0 and not trace.events
    hung = sandbox.run(RunRequest(function="loopy", args="-1", source=LOOPY, record=False,
                                  timeout=0.5))
    assert hung.status == "error" and hung.error.kind == "timeout"
