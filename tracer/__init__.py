"""tracecot.tracer: run a function in a sandbox, record what it did, narrate and verify it.

Standard library only. The plain Python API that the CLI, the model, the server and the tests
all use:

    from tracecot.tracer import RunRequest, run
    trace = run(RunRequest(function="f", args="[1, 1, 3]", path="ex.py"))
    trace.status            # "returned" | "raised" | "error"
    render(trace.result)    # "[(1, 2), (3, 1)]"
"""

from .schema import (SCHEMA_VERSION, Comparison, Event, ExceptionInfo, Frame, Loop, RunError,
                     RunRequest, Trace, to_json, trace_from_json)
from .values import encode, encoded_equal, render, values_equal

__all__ = ["SCHEMA_VERSION", "Comparison", "Event", "ExceptionInfo", "Frame", "Loop", "RunError",
           "RunRequest", "Trace", "to_json", "trace_from_json", "encode", "encoded_equal",
           "render", "values_equal", "run", "Sandbox"]


def __getattr__(name):
    # The sandbox is imported lazily: importing the schema must stay cheap.
    if name in ("run", "Sandbox"):
        from . import sandbox
        return getattr(sandbox, name)
    raise AttributeError(name)
