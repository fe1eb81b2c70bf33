"""Trace capture: every event kind, and one schema for both backends."""

import os
import shutil
from pathlib import Path

import pytest

from tracecot.tracer import RunRequest, Sandbox, render, to_json, trace_from_json

PROGRAM = Path(__file__).parent / "programs" / "features.py"
CASES = [("calls_and_aliases", "3"), ("comprehensions", "[3, 1, 2]"), ("generators", "4"),
         ("propagation", ""), ("methods_and_closures", "5"), ("fact", "4"), ("while_loop", "6")]


@pytest.fixture(scope="module")
def sb():
    with Sandbox() as s:
        yield s


def trace_of(sb, function, args, **kw):
    return sb.run(RunRequest(function=function, args=args, path=str(PROGRAM), **kw))


def kinds(trace, frame=None):
    return [(e.kind, e.line, e.name) for e in trace.events if frame is None or e.frame == frame]


def test_bindings_mutations_aliases_exceptions_output(sb):
    t = trace_of(sb, "calls_and_aliases", "3")
    assert t.status == "returned" and render(t.result) == "(3, [0, 1, 2])"
    top = [e for e in t.events if e.frame == 0]
    binds = [(e.name, render(e.value)) for e in top if e.kind == "bind"]
    assert binds[:3] == [("out", "[]"), ("alias", "[]"), ("total", "0")]
    assert [render(e.value) for e in top if e.kind == "bind" and e.name == "i"] == ["0", "1", "2"]
    mutations = [e for e in top if e.kind == "mutate"]
    assert [render(e.value) for e in mutations] == ["[0]", "[0, 1]", "[0, 1, 2]"]
    assert all(e.aliases == ["alias"] and e.line == 15 for e in mutations)
    assert [e.iteration for e in top if e.kind == "loop"] == [1, 2, 3]
    inner = [e for e in t.events if e.frame == 1]
    assert inner[0].kind == "call" and inner[0].args[0][0] == "xs"
    assert ("mutate", 5, "xs") in kinds(t, 1) and inner[-1].kind == "return"
    assert [f.parent for f in t.frames] == [None, 0, 0, 0]
    raise_ev = next(e for e in top if e.kind == "raise")
    assert (raise_ev.name, raise_ev.text, raise_ev.line) == ("ValueError", "boom", 16)
    assert next(e for e in top if e.kind == "caught").line == 17
    out = next(e for e in top if e.kind == "output")
    assert (out.line, out.text, out.stream) == (18, "caught boom\n", "stdout")
    assert t.stdout == "caught boom\n"


def test_propagation_through_recursion(sb):
    t = trace_of(sb, "propagation", "")
    assert t.status == "raised" and t.exception.type == "KeyError" and t.exception.line == 44
    assert [e.kind for e in t.events if e.kind in ("raise", "propagate", "caught")] == \
        ["raise", "propagate", "propagate", "propagate", "caught",
         "raise", "propagate", "propagate", "propagate"]


def test_generators_methods_recursion(sb):
    g = trace_of(sb, "generators", "3")
    gen_frames = [f for f in g.frames if f.function == "gen"]
    assert len(gen_frames) == 1 and gen_frames[0].kind == "generator"
    assert [render(e.value) for e in g.events if e.kind == "yield"] == ["0", "2", "4"]
    assert sum(1 for e in g.events if e.kind == "call" and e.resumed) == 3
    m = trace_of(sb, "methods_and_closures", "5")
    assert render(m.result) == "(11, {'a': 1, 'b': 2})"
    assert any(e.kind == "mutate" and e.name == "self" and render(e.value) == "Counter(value=11)"
               for e in m.events)
    assert [render(e.value) for e in m.events if e.kind == "mutate" and e.name == "d"] == \
        ["{'a': 1}", "{'a': 1, 'b': 2}"]
    r = trace_of(sb, "fact", "4")
    assert [f.depth for f in r.frames] == [0, 1, 2, 3]
    shallow = trace_of(sb, "fact", "4", max_depth=1)
    assert [f.depth for f in shallow.frames] == [0, 1] and render(shallow.result) == "24"


def test_step_cap_cannot_be_escaped(sb):
    t = trace_of(sb, "stubborn", "0", max_steps=5000, timeout=5)
    assert t.status == "error" and t.error.kind == "step_limit"
    assert "likely an infinite loop" not in t.error.message or "ran" in t.error.message
    assert t.steps > 5000 and t.events          # the partial trace comes back


def test_event_cap_truncates_but_the_run_completes(sb):
    t = trace_of(sb, "while_loop", "27", max_events=50)
    assert t.status == "returned" and render(t.result) == "111" and t.truncated
    assert len([e for e in t.events if e.kind != "loop"]) == 50


def test_json_round_trip(sb):
    t = trace_of(sb, "calls_and_aliases", "2")
    assert trace_from_json(to_json(t)) == t


def _other_pythons():
    found = []
    for v in ("3.12", "3.13"):
        pyenv = sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob(f"{v}.*/bin/python"))
        exe = str(pyenv[-1]) if pyenv else shutil.which(f"python{v}")
        if exe:
            found.append(exe)
    return found


OTHER_PYTHONS = _other_pythons()


@pytest.mark.skipif(not OTHER_PYTHONS, reason="no Python 3.12/3.13 interpreter on this machine")
@pytest.mark.parametrize("python", OTHER_PYTHONS)
def test_monitoring_backend_matches_settrace(sb, python):
    def sig(t):
        return [(e.kind, e.frame, e.line, e.name, render(e.value) if e.value else None,
                 e.iteration, e.text, e.resumed, tuple(e.aliases or ())) for e in t.events]
    with Sandbox(python=python) as other:
        for function, args in CASES:
            ours = trace_of(sb, function, args)
            theirs = trace_of(other, function, args)
            assert ours.backend == "settrace" and theirs.backend == "monitoring"
            assert sig(theirs) == sig(ours), function
            assert theirs.result == ours.result and theirs.status == ours.status

