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
