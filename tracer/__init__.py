"""tracecot.tracer: run a function in a sandbox, record what it did, narrate and verify it.

Standard library only. The plain Python API that the CLI, the model, the server and the tests
all use:

    from tracecot.tracer import RunRequest, run
    trace = run(RunRequest(function="f", args="[1, 1, 3]", path="ex.py"))
    trace.status            # "returned" | "raised" | "error"
    render(trace.result)    # "[(1, 2), (3, 1)]"
    story = narrate(trace)  # numbered steps, each carrying claims
    verify(story).verified  # every claim re-checked against a fresh run

The parts, one sub-package each: `running` (sandbox client, fork server, the locked-down
child), `recording` (the recorder and its settrace / sys.monitoring backends, export to the
schema), `narration` (forward and backward narratives), `verification` (claims re-checked,
free-form reasoning checked); the schema and the value encoder, which all of them share, sit
at the top.
"""

from .schema import (SCHEMA_VERSION, Comparison, Event, ExceptionInfo, Frame, Loop, RunError,
                     RunRequest, Trace, outcome_text, to_json, trace_from_json)
from .values import encode, encoded_equal, render, values_equal

__all__ = ["SCHEMA_VERSION", "Comparison", "Event", "ExceptionInfo", "Frame", "Loop", "RunError",
           "RunRequest", "Trace", "outcome_text", "to_json", "trace_from_json", "encode",
           "encoded_equal",
           "render", "values_equal", "run", "Sandbox", "narrate", "narrate_backward", "verify",
           "verify_text", "ClaimVerdict", "SentenceVerdict"]

# Imported lazily: importing the schema must stay cheap.
_LAZY = {"run": "running.sandbox", "Sandbox": "running.sandbox",
         "narrate": "narration.narrate", "narrate_backward": "narration.narrate",
         "verify": "verification.verify", "verify_text": "verification.verify_text",
         "ClaimVerdict": "verification.verdicts", "SentenceVerdict": "verification.verdicts"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
