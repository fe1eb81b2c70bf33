"""Trace capture: every event kind, and one schema for both backends."""

import os
import shutil
from pathlib import Path

import pytest

from tracecot.tracer import RunRequest, Sandbox, render, to_json, trace_from_json

PROGRAM = Path(__file__).parent / "programs" / "features.py"
CASES = [("calls_and_aliases", "3"), ("comprehensions", "[3, 1, 2]"), ("generators", "4"),
         ("propagation", ""), ("methods_and_closures", "5"), ("fact", "4"), ("while_loop", "6")]


def trace_of(sandbox, function, args, **kw):
    return sandbox.run(RunRequest(function=function, args=args, path=str(PROGRAM), **kw))


def kinds(trace, frame=None):
    return [(e.kind, e.line, e.name) for e in trace.events if frame is None or e.frame == frame]


def test_bindings_mutations_aliases_exceptions_output(sandbox):
    t = trace_of(sandbox, "calls_and_aliases", "3")
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


def test_propagation_through_recursion(sandbox):
    t = trace_of(sandbox, "propagation", "")
    assert t.status == "raised" and t.exception.type == "KeyError" and t.exception.line == 44
    assert [e.kind for e in t.events if e.kind in ("raise", "propagate", "caught")] == \
        ["raise", "propagate", "propagate", "propagate", "caught",
         "raise", "propagate", "propagate", "propagate"]


def test_generators_methods_recursion(sandbox):
    g = trace_of(sandbox, "generators", "3")
    gen_frames = [f for f in g.frames if f.function == "gen"]
    assert len(gen_frames) == 1 and gen_frames[0].kind == "generator"
    assert [render(e.value) for e in g.events if e.kind == "yield"] == ["0", "2", "4"]
    assert sum(1 for e in g.events if e.kind == "call" and e.resumed) == 3
    m = trace_of(sandbox, "methods_and_closures", "5")
    assert render(m.result) == "(11, {'a': 1, 'b': 2})"
    assert any(e.kind == "mutate" and e.name == "self" and render(e.value) == "Counter(value=11)"
               for e in m.events)
    assert [render(e.value) for e in m.events if e.kind == "mutate" and e.name == "d"] == \
        ["{'a': 1}", "{'a': 1, 'b': 2}"]
    r = trace_of(sandbox, "fact", "4")
    assert [f.depth for f in r.frames] == [0, 1, 2, 3]
    shallow = trace_of(sandbox, "fact", "4", max_depth=1)
    assert [f.depth for f in shallow.frames] == [0, 1] and render(shallow.result) == "24"


def test_step_cap_cannot_be_escaped(sandbox):
    t = trace_of(sandbox, "stubborn", "0", max_steps=5000, timeout=5)
    assert t.status == "error" and t.error.kind == "step_limit"
    assert "likely an infinite loop" not in t.error.message or "ran" in t.error.message
    assert t.steps > 5000 and t.events          # the partial trace comes back


def test_event_cap_truncates_but_the_run_completes(sandbox):
    t = trace_of(sandbox, "while_loop", "27", max_events=50)
    assert t.status == "returned" and render(t.result) == "111" and t.truncated
    assert len(t.events) == 50                  # LOOP events count toward the cap too
    assert any(e.kind == "loop" for e in t.events)


def test_json_round_trip(sandbox):
    t = trace_of(sandbox, "calls_and_aliases", "2")
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


@pytest.mark.machine
@pytest.mark.skipif(not OTHER_PYTHONS, reason="no Python 3.12/3.13 interpreter on this machine")
@pytest.mark.parametrize("python", OTHER_PYTHONS)
def test_monitoring_backend_matches_settrace(sandbox, python):
    def sig(t):
        return [(e.kind, e.frame, e.line, e.name, render(e.value) if e.value else None,
                 e.iteration, e.text, e.resumed, tuple(e.aliases or ())) for e in t.events]
    with Sandbox(python=python) as other:
        for function, args in CASES:
            ours = trace_of(sandbox, function, args)
            theirs = trace_of(other, function, args)
            assert ours.backend == "settrace" and theirs.backend == "monitoring"
            assert sig(theirs) == sig(ours), function
            assert theirs.result == ours.result and theirs.status == ours.status



# ------------------------------------------------------------------------------ hot-path fixes

def run_source(sandbox, source, args="", function="f", **kw):
    return sandbox.run(RunRequest(function=function, args=args, source=source, **kw))


def test_callback_errors_do_not_switch_tracing_off():
    """An exception inside our callback (here: MemoryError from the recorder's own lookup on
    the second line) is caught; tracing goes on and every line is still counted."""
    import sys
    from tracecot.tracer.recording.recorder import Recorder
    from tracecot.tracer.recording.settrace import SettraceBackend

    class Flaky(dict):
        fired = False

        def _fail(self):
            if not Flaky.fired:
                Flaky.fired = True
                raise MemoryError("inside the tracer")

        def __contains__(self, key):
            self._fail()
            return dict.__contains__(self, key)

        def get(self, *a):
            self._fail()
            return dict.get(self, *a)

    def f(n):
        s = 0
        for i in range(n):
            s += i
        return s

    def on_limit(kind):
        raise AssertionError(kind)

    rec = Recorder("<test>", max_steps=10_000, max_events=10_000, max_depth=5,
                   deadline=float("inf"), on_limit=on_limit, for_targets=Flaky({3: (("i",), 4)}))
    backend = SettraceBackend(rec, {f.__code__})
    backend.install(sys.settrace)
    try:
        f(20)
    finally:
        still_tracing = sys.gettrace() is not None
        backend.uninstall()
    assert Flaky.fired and still_tracing
    assert rec.steps == 1 + 21 + 20 + 1          # s = 0, 21 headers, 20 bodies, return


def test_recursion_limit_then_loop_hits_the_step_cap(sandbox):
    src = ("def deep(n):\n    return deep(n + 1)\n\n\ndef f():\n    try:\n        deep(0)\n"
           "    except RecursionError:\n        pass\n    n = 0\n    while True:\n        n += 1\n")
    pythons = [sandbox] + [Sandbox(python=p) for p in OTHER_PYTHONS]
    try:
        for box in pythons:
            t = run_source(box, src, max_steps=50_000, timeout=5)
            assert t.status == "error" and t.error.kind == "step_limit", (t.python, t.error)
            assert "likely an infinite loop" in t.error.message, t.error
    finally:
        for box in pythons[1:]:
            box.close()


SINGLE_LINE_LOOPS = """\
def f(n):
    s = 0
    while n: n -= 1
    for i in [1, 2, 3]: s += i
    return s
"""


@pytest.mark.parametrize("python", [None] + OTHER_PYTHONS)
def test_single_line_loops_record_every_rebinding(python):
    with Sandbox(python=python) as box:
        t = run_source(box, SINGLE_LINE_LOOPS, "3")
    assert t.status == "returned" and render(t.result) == "6"
    binds = {}
    for e in t.events:
        if e.kind == "bind":
            binds.setdefault(e.name, []).append(render(e.value))
    assert binds["n"] == ["2", "1", "0"]
    assert binds["i"] == ["1", "2", "3"] and binds["s"] == ["0", "1", "3", "6"]


def test_bytearray_snapshots_are_bounded(sandbox):
    # Each of the 60 mutations of a 24 MB buffer was kept as a full copy before (1.4 GB, over
    # the memory limit); a snapshot now keeps what the encoding shows (200 bytes + length).
    src = ("def f():\n    buf = bytearray(24 * 2**20)\n    for i in range(60):\n"
           "        buf[i] = 1\n    buf.append(7)\n    return len(buf)\n")
    t = run_source(sandbox, src, memory_mb=600, timeout=10)
    assert t.status == "returned", t.error
    muts = [e for e in t.events if e.kind == "mutate"]
    assert len(muts) == 61
    assert muts[0].value["v"].startswith("b'\\x01\\x00") and muts[0].value["len"] == 24 * 2**20
    assert muts[-1].value["len"] == 24 * 2**20 + 1
    assert muts[59].value["v"].startswith("b'" + "\\x01" * 60 + "\\x00")


NESTED = """\
def f(rows):
    total = 0
    for row in rows:
        for x in row:
            total += x
    k = 0
    while k < 2:
        for x in rows[k]:
            total -= x
        k += 1
    return total
"""


@pytest.mark.parametrize("python", [None] + OTHER_PYTHONS)
def test_nested_loops_count_each_iteration_once(python):
    with Sandbox(python=python) as box:
        t = run_source(box, NESTED, "[[1, 2, 3], [4, 5], [6]]")
    assert render(t.result) == "6"
    loops = [(e.line, e.iteration) for e in t.events if e.kind == "loop"]
    assert [n for line, n in loops if line == 3] == [1, 2, 3]
    assert [n for line, n in loops if line == 4] == [1, 2, 3, 1, 2, 1]
    assert [n for line, n in loops if line == 7] == [1, 2]
    assert [n for line, n in loops if line == 8] == [1, 2, 3, 1, 2]


def test_loops_come_from_the_same_single_walk_and_hot_lines_are_named():
    import ast
    from tracecot.tracer.recording.export import analyse_names, hottest_line_message
    hidden, targets = analyse_names(ast.parse(NESTED))
    assert [lp["line"] for lp in targets.loops] == [3, 4, 7, 8]
    assert targets[3] == (("row",), 4)
    # A line that ran 20,000 times before the run was stopped: 3.12+ gets no further in the
    # shortest timeouts, so that is enough to call it a likely infinite loop.
    assert hottest_line_message({3: 20_000, 4: 19_999}).endswith("likely an infinite loop")
    assert "infinite" not in hottest_line_message({3: 50})


def test_mutation_through_an_alias_in_a_callee_is_seen_by_both_frames(sandbox):
    src = ("def g(xs):\n    xs.append(1)\n\n\ndef f():\n    a = []\n    b = a\n    g(b)\n"
           "    return a\n")
    t = run_source(sandbox, src)
    muts = [(e.frame, e.name, e.aliases, render(e.value)) for e in t.events if e.kind == "mutate"]
    assert muts == [(1, "xs", None, "[1]"), (0, "a", ["b"], "[1]")]


@pytest.mark.parametrize("python", [None] + OTHER_PYTHONS)
def test_one_line_infinite_loop_hits_the_step_cap(python):
    # 3.12+ gives one LINE event for a loop written on one line; backward jumps within the
    # line count as steps, so the cap still stops it (it used to run into the hard timeout).
    with Sandbox(python=python) as box:
        t = run_source(box, "def f():\n    n = 0\n    while True: n += 1\n", max_steps=20_000,
                       timeout=5)
    assert t.status == "error" and t.error.kind == "step_limit", t.error
    assert "line 3 ran" in t.error.message and t.steps > 20_000


def test_snapshots_export_exactly_what_the_encoder_gives():
    """What the hot path keeps of a container (a bounded identity snapshot) is written at
    export exactly as values.encode writes the live object: lists, dicts, sets (sorted or
    not, cut or not), bytearrays and tuples around the item and string bounds."""
    import json
    import random
    from tracecot.tracer.recording.recorder import snapshot
    from tracecot.tracer.recording.export import _Values
    from tracecot.tracer.values import encode

    rnd = random.Random(1)
    scalars = [lambda: rnd.randint(-5, 5), lambda: rnd.randint(-2**60, 2**60), rnd.random,
               lambda: rnd.choice(["a", "x" * 250, "é\u2028\"\\", ""]), lambda: None,
               lambda: True, lambda: b"by", lambda: 1j, lambda: -0.0, lambda: (1, "a"), tuple]

    def scalar():
        return rnd.choice(scalars)()

    def key():
        return rnd.choice([rnd.randint(0, 10**6), str(rnd.random())])

    makers = {
        "list": lambda n: [scalar() for _ in range(n)],
        "tuple": lambda n: tuple(scalar() for _ in range(min(n, 40))),
        "dict": lambda n: {key(): scalar() for _ in range(n)},
        "set": lambda n: {key() for _ in range(n)},
        "set of ints": lambda n: {rnd.randint(-10**6, 10**6) for _ in range(n)},
        "set of floats": lambda n: {rnd.random() for _ in range(n)},
        "bytearray": lambda n: bytearray(rnd.getrandbits(8) for _ in range(n)),
    }
    write = _Values()
    for _ in range(1500):
        kind = rnd.choice(sorted(makers))
        value = makers[kind](rnd.choice([0, 1, 29, 30, 31, 250, 301, 400]))
        token = snapshot(value)[0]
        assert json.loads(write(token)) == json.loads(json.dumps(encode(value))), kind
