"""The worked CoT examples shown in every prompt are the narrator's text for that run: the
same numbered format the fine-tuning targets have (one definition, no drift)."""

from __future__ import annotations

from tracecot.model import prompts as P
from tracecot.tracer import RunRequest
from tracecot.tracer.narration.narrate import narrate, narrate_backward, to_plain


def test_prompt_examples_are_the_narrators_plain_text(sandbox):
    req = RunRequest(function="f", args=P.EXAMPLE_ARGS, source=P.EXAMPLE_CODE)
    trace = sandbox.run(req)
    assert trace.ok
    assert to_plain(narrate(trace, req)).strip() == P.EXAMPLE_FORWARD
    assert to_plain(narrate_backward(trace, req)).strip() == P.EXAMPLE_BACKWARD
    target = P.completion("output", "cot", "f", P.EXAMPLE_ARGS, P.EXAMPLE_OUTPUT,
                          P.EXAMPLE_FORWARD)
    spec = P.output_prompt(P.EXAMPLE_CODE, "f", P.EXAMPLE_ARGS, "cot")
    assert spec.messages[2]["content"] == target.rstrip()     # the example reply is a target
