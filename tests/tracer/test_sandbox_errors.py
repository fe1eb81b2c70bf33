"""Errors a user understands, and the sandbox's contract with its caller.

Every failure comes back as a Trace (never an exception in the caller) whose error kind says
what went wrong and whose message says it in words: where, which line, what to change.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import pytest

from tracecot.tracer import RunRequest, Sandbox, render, to_json, trace_from_json
from tracecot.tracer.schema import ERROR_KINDS
from support.paths import REPO


LOOP = textwrap.dedent("""\
    def spin():
        n = 0
        while True:
            n += 1
    """)


def run(sandbox, source, function="f", args="", **kw):
    return sandbox.run(RunRequest(function=function, args=args, source=textwrap.dedent(source),
                                  **kw))


def assert_error(t, kind, *phrases):
    assert t.status == "error", (t.status, t.result, t.exception)
    assert t.error.kind == kind and kind in ERROR_KINDS, t.error
    for phrase in phrases:
        assert phrase in t.error.message, t.error


# ------------------------------------------------------------------------------ before the call

def test_missing_file(sandbox):
    path = f"/nonexistent-{uuid.uuid4().hex}/prog.py"
    t = sandbox.run(RunRequest(function="f", path=path))
    assert_error(t, "file_not_found", path, "No such file")


def test_undecodable_file(sandbox, tmp_path):
    path = tmp_path / "latin1.py"
    path.write_bytes(b"def f():\n    return '\xe9'\n")
    t = sandbox.run(RunRequest(function="f", path=str(path)))
    assert_error(t, "file_not_found", str(path), "utf-8")


def test_missing_function_lists_the_functions_there(sandbox):
    t = run(sandbox, """\
        def alpha(): pass
        def beta(x): return x
        class Gamma:
            def method(self): pass
        """, function="delta")
    assert_error(t, "function_not_found", "'delta'", "alpha, beta")


def test_syntax_error_with_line(sandbox):
    t = run(sandbox, "def f():\n    x = 1\n    return x +\n")
    assert_error(t, "syntax_error", "line 3")
    assert t.error.line == 3


def test_unparsable_arguments(sandbox):
    t = run(sandbox, "def f(xs): return xs", args="[1, 2")
    assert_error(t, "bad_arguments", "could not parse the arguments", "[1, 2")


@pytest.mark.parametrize("args, says", [
    ("[1, 2", "'[' at column 1 is never closed"),            # not "')' does not match '['"
    ("{'a': [1, 2}", "'}' at column 12 does not close '[' (opened at column 7)"),
    ("(1, [2", "'[' at column 5 is never closed (nor are 1 before it)"),
    ("1, 2)", "')' at column 5 closes nothing"),
])
def test_unparsable_arguments_say_what_is_wrong_in_what_was_typed(sandbox, args, says):
    t = run(sandbox, "def f(*xs): return xs", args=args)
    assert t.error.kind == "bad_arguments"
    assert t.error.message == f"could not parse the arguments ({args}): {says}"


def test_syntax_error_shows_the_line_and_a_caret(sandbox):
    t = run(sandbox, "def f(n):\n    for i in range(n)\n        pass\n", path="/x/shout.py")
    assert t.error.kind == "syntax_error" and t.error.line == 2
    assert t.error.message == ("syntax error at line 2 of /x/shout.py: expected ':'\n"
                               "    for i in range(n)\n"
                               "                     ^")


def test_arguments_that_fail_to_evaluate(sandbox):
    t = run(sandbox, "def f(x): return x", args="undefined_name + 1")
    assert_error(t, "bad_arguments", "could not evaluate", "NameError")


def test_wrong_arity(sandbox):
    t = run(sandbox, "def f(a, b): return a + b", args="1")
    assert_error(t, "arity", "f(a, b)", "missing", "'b'")
    t = run(sandbox, "def f(a): return a", args="1, 2, 3")
    assert_error(t, "arity", "f(a)", "too many")


def test_module_level_error(sandbox):
    t = run(sandbox, "import os\nvalue = 1 / 0\ndef f(): return value\n")
    assert_error(t, "load_error", "ZeroDivisionError", "line 2")


@pytest.mark.parametrize("field,value,phrase", [
    ("timeout", float("nan"), "timeout"), ("timeout", -1.0, "timeout"),
    ("timeout", float("inf"), "timeout"), ("max_steps", "many", "max_steps"),
    ("memory_mb", -5, "memory_mb"), ("args", 12, "args"),
])
def test_invalid_request_is_refused_not_fatal(sandbox, field, value, phrase):
    request = RunRequest(function="f", source="def f(*a): return 1")
    setattr(request, field, value)
    t = sandbox.run(request)
    assert_error(t, "bad_arguments", "invalid request", phrase)
    assert run(sandbox, "def f(): return 2").status == "returned"     # the server is still there


def test_request_that_is_not_json(sandbox):
    request = RunRequest(function="f", source="def f(): return 1")
    request.expected = object()
    assert_error(sandbox.run(request), "bad_arguments", "cannot be sent")


def test_interpreter_that_cannot_start():
    with Sandbox(python=f"/nonexistent-{uuid.uuid4().hex}/python") as broken:
        t = broken.run(RunRequest(function="f", source="def f(): return 1"))
    assert_error(t, "sandbox_error", "could not be started")


# ------------------------------------------------------------------------------ limits

def _check_infinite_loop_timeout(t):
    assert t.error.kind in ("timeout", "step_limit"), t.error    # a fast machine hits the cap
    assert t.error.message.startswith("stopped after ")
    assert "likely an infinite loop" in t.error.message, t.error
    assert any(f"line {n} ran" in t.error.message for n in (3, 4)), t.error
    assert t.events and t.steps > 100_000 and t.truncated    # the partial trace came back


def test_timeout_names_the_hot_line_within_the_deadline(sandbox):
    start = time.monotonic()
    t = run(sandbox, LOOP, function="spin", timeout=1.0, max_events=5000)
    assert time.monotonic() - start < 1.5
    _check_infinite_loop_timeout(t)


def test_timeout_at_the_default_event_cap(sandbox):
    # 20,000 events: ~0.2 s of CPU to build the trace in the child, ~0.2 s to parse it here
    # (schema.trace_from_json). On a machine loaded past its core count that no longer fits in
    # the 0.5 s after the timeout.
    start = time.monotonic()
    t = run(sandbox, LOOP, function="spin", timeout=1.0)
    elapsed = time.monotonic() - start
    _check_infinite_loop_timeout(t)
    if elapsed >= 1.5 and os.getloadavg()[0] > (os.cpu_count() or 1):
        pytest.xfail(f"answered after {elapsed:.2f} s with load average "
                     f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    assert elapsed < 1.5, elapsed


def test_timeout_in_a_builtin(sandbox):
    start = time.monotonic()
    t = run(sandbox, "import time\ndef f():\n    time.sleep(30)\n", timeout=1.0)
    assert time.monotonic() - start < 1.5
    assert_error(t, "timeout", "stopped after 1 s", "builtin")


def test_step_cap(sandbox):
    t = run(sandbox, LOOP, function="spin", max_steps=1000, timeout=5)
    assert_error(t, "step_limit", "stopped after 1,000 steps", "line ")
    assert 1000 < t.steps < 1100 and t.events


def test_memory_limit(sandbox):
    t = run(sandbox, """\
        def f():
            blocks = []
            for i in range(100):
                blocks.append(bytearray(20 * 1024 * 1024))
            return len(blocks)
        """, memory_mb=300)
    assert_error(t, "memory_limit", "memory limit (300 MB)")
    t = run(sandbox, "def f():\n    return len(bytearray(500 * 1024 * 1024))\n", memory_mb=300)
    assert_error(t, "memory_limit", "(300 MB)")
    assert t.error.line == 2
    t = run(sandbox, "def f():\n    return len(bytearray(100 * 1024 * 1024))\n", memory_mb=300)
    assert t.status == "returned" and render(t.result) == str(100 * 1024 * 1024)


# ------------------------------------------------------------------------------ user code ends

def test_exception_in_user_code_is_a_result_not_an_error(sandbox):
    t = run(sandbox, """\
        def f(xs):
            total = 0
            for x in xs:
                total += 10 // x
            return total
        """, args="[5, 2, 0]")
    assert t.status == "raised" and t.error is None
    assert (t.exception.type, t.exception.message, t.exception.line) == \
        ("ZeroDivisionError", "integer division or modulo by zero", 4)
    assert any(e.kind == "raise" and e.line == 4 for e in t.events)


def test_sys_exit_in_user_code(sandbox):
    t = run(sandbox, "import sys\ndef f():\n    print('bye')\n    sys.exit(2)\n")
    assert t.status == "raised" and t.exception.type == "SystemExit"
    assert (t.exception.message, t.exception.line, t.stdout) == ("2", 4, "bye\n")


def test_os_exit_in_user_code(sandbox):
    t = run(sandbox, "import os\ndef f():\n    os._exit(0)\n")
    assert_error(t, "crash", "os._exit(0)")


# ------------------------------------------------------------------------------ cancellation

def test_cancel_frees_the_run_quickly(sandbox):
    future = sandbox.submit(RunRequest(function="spin", source=LOOP, timeout=30))
    time.sleep(0.3)
    start = time.monotonic()
    sandbox.cancel(future)
    t = future.result(timeout=5)
    assert time.monotonic() - start < 0.5
    assert_error(t, "cancelled", "cancelled")


def test_cancel_a_queued_run_and_future_cancel():
    with Sandbox(max_parallel=1) as one:
        busy = one.submit(RunRequest(function="spin", source=LOOP, timeout=30))
        queued = one.submit(RunRequest(function="spin", source=LOOP, timeout=30))
        time.sleep(0.2)
        one.cancel(queued)                        # still waiting for the only slot
        assert_error(queued.result(timeout=2), "cancelled")
        assert busy.cancel()                      # concurrent.futures' own cancel kills it too
        start = time.monotonic()
        t = one.run(RunRequest(function="f", source="def f(): return 3"))
        assert time.monotonic() - start < 1.0     # the slot was freed, not held for 30 s
        assert t.status == "returned" and render(t.result) == "3"


def _processes_in(directory: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd") == directory:
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_fork_server_death_is_an_error_then_a_restart():
    with Sandbox() as s:
        future = s.submit(RunRequest(function="spin", source=LOOP, timeout=30))
        server = s._proc.pid
        pattern = os.path.join(tempfile.gettempdir(), f"tracecot-run-{server}-*")
        # The fork server's start-up time varies with the machine's load: wait for the run.
        assert _eventually(lambda: glob.glob(pattern), 20), "the run never started"
        run_dirs = glob.glob(pattern)
        assert len(run_dirs) == 1
        os.kill(server, signal.SIGKILL)
        assert_error(future.result(timeout=5), "sandbox_error", "stopped unexpectedly")
        t = s.run(RunRequest(function="f", source="def f(): return 4"))
        assert t.status == "returned" and render(t.result) == "4"
        # The orphaned run died with its server, and the new server removed its directory.
        assert s._proc.pid != server
        if sys.platform == "linux":
            assert _eventually(lambda: not _processes_in(os.path.realpath(run_dirs[0])), 5)
            assert _eventually(lambda: not os.path.exists(run_dirs[0]), 5)


def _eventually(condition, seconds: float):
    """Poll `condition` until it is true or `seconds` pass (no timing claim: a bound on waiting)."""
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.02)


# ------------------------------------------------------------------------------ transport

def test_many_parallel_runs_all_answered(sandbox):
    source = "def f(i):\n    out = []\n    for k in range(i % 7):\n        out.append(k)\n" \
             "    return i * i, out\n"
    futures = [sandbox.submit(RunRequest(function="f", args=str(i), source=source))
               for i in range(100)]
    traces = [f.result(timeout=120) for f in futures]
    assert [render(t.result) for t in traces] == \
        [render_pair(i) for i in range(100)]


def render_pair(i):
    return f"({i * i}, {list(range(i % 7))})"


def test_results_cross_as_json_never_pickle(sandbox, tmp_path):
    marker = tmp_path / "unpickled"
    t = run(sandbox, f"""\
        import os
        class Payload:
            def __init__(self):
                self.note = "data"
            def __reduce__(self):     # what unpickling in the caller would run
                return (open, ({str(marker)!r}, "w"))
        def f():
            return Payload()
        """)
    assert t.status == "returned" and not marker.exists()
    assert t.result == {"t": "object", "cls": "Payload",
                        "attrs": [["note", {"t": "str", "v": "data"}]]}
    assert trace_from_json(json.loads(json.dumps(to_json(t)))) == t   # plain JSON through
    for name in ("sandbox.py", "forkserver.py"):
        assert "pickle" not in (REPO / "tracer" / "running" / name).read_text()


def test_output_captured_per_step_and_capped(sandbox):
    source = """\
        import sys
        def f(n):
            for i in range(n):
                print("line", i)
            sys.stderr.write("oops\\n")
            return n
        """
    t = run(sandbox, source, args="3")
    assert t.stdout == "line 0\nline 1\nline 2\n" and t.stderr == "oops\n"
    outs = [(e.line, e.stream, e.text) for e in t.events if e.kind == "output"]
    assert outs == [(4, "stdout", "line 0\n"), (4, "stdout", "line 1\n"),
                    (4, "stdout", "line 2\n"), (5, "stderr", "oops\n")]
    capped = run(sandbox, source, args="1000", output_bytes=100)
    assert capped.status == "returned"
    assert capped.stdout.endswith("[output truncated]")
    kept = capped.stdout[: -len("\n[output truncated]")]
    assert len(kept) + len(capped.stderr) <= 100 and kept.startswith("line 0\nline 1\n")
    assert sum(len(e.text) for e in capped.events if e.kind == "output") <= 100


def test_user_output_never_reaches_the_callers_stdout(tmp_path):
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(REPO.parent)!r})
        from tracecot.tracer import RunRequest, Sandbox
        SOURCE = '''
        import os, sys
        print("module level print")
        os.write(1, b"module level fd 1\\\\n")
        def f():
            print("user stdout")
            print("user stderr", file=sys.stderr)
            sys.__stdout__.write("dunder stdout\\\\n"); sys.__stdout__.flush()
            os.write(1, b"fd 1\\\\n"); os.write(2, b"fd 2\\\\n")
            for fd in range(3, 50):
                try:
                    os.write(fd, b"fd n\\\\n")
                except OSError:
                    pass
            return 5
        '''
        with Sandbox() as sandbox:
            t = sandbox.run(RunRequest(function="f", source=SOURCE))
            crash = sandbox.run(RunRequest(function="f", source="import ctypes\\ndef f():\\n"
                                      "    print('dying')\\n    ctypes.string_at(0)\\n"))
        print("CALLER", t.status, t.stdout.count("user stdout"), crash.error.kind)
        """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "CALLER returned 1 crash\n"
    for text in ("user", "fd 1", "fd 2", "module level", "dying", "dunder"):
        assert text not in done.stderr


# ------------------------------------------------------------------------------ what still works

def test_ordinary_file_work_inside_the_sandbox(sandbox):
    t = run(sandbox, """\
        import os, tempfile
        def f():
            with tempfile.TemporaryFile() as tmp:
                tmp.write(b"abc"); tmp.seek(0); a = tmp.read()
            fd, name = tempfile.mkstemp(); os.write(fd, b"x"); os.close(fd)
            with open("here.txt", "w") as out:
                out.write("hello")
            with open(os.devnull, "w") as null:
                null.write("into the void")
            os.nice(1)
            return a, open("here.txt").read(), os.path.dirname(name) == os.getcwd()
        """)
    assert t.status == "returned", t.exception or t.error
    assert render(t.result) == "(b'abc', 'hello', True)"


# ------------------------------------------------------------------------------ the child's answers

def test_memory_exhaustion_still_returns_the_partial_trace(sandbox):
    # Memory is filled to the last few kilobytes while 20,000 events are recorded: writing the
    # trace needs megabytes, which only freeing what the run held (frames, the recorder's
    # kept objects) gives back.
    t = run(sandbox, """\
        def f():
            total = 0
            for i in range(8000):
                total += i
            blocks = []
            size = 8 * 1024 * 1024
            while size >= 1024:
                try:
                    while True:
                        blocks.append(bytearray(size))
                except MemoryError:
                    size //= 2
            blocks.append(bytearray(1024 * 1024))
        """, memory_mb=300, timeout=5)
    assert_error(t, "memory_limit", "(300 MB)")
    assert t.events and t.truncated and t.error.line == 13, t.error


def test_exception_is_described_without_running_its_code(sandbox):
    t = run(sandbox, """\
        class Loud(Exception):
            def __str__(self):
                print("user __str__ ran")
                return "from __str__"
        class Arg:
            def __repr__(self):
                print("user __repr__ ran")
                return "Arg!"
        def f(which):
            if which:
                raise Loud("quiet", 2)
            raise KeyError(Arg())
        """, args="True")
    assert t.status == "raised" and t.exception.type == "Loud"
    assert t.exception.message == "('quiet', 2)" and "ran" not in t.stdout
    t = run(sandbox, "def f():\n    return {}['k']\n")
    assert (t.exception.type, t.exception.message) == ("KeyError", "'k'")


def test_only_the_result_channel_is_left_open(sandbox):
    t = run(sandbox, """\
        import os
        def f():
            return sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        """)
    fds = eval(render(t.result))
    # 0-2 (/dev/null), the descriptor listdir used, and the result channel, kept high.
    assert fds[:3] == [0, 1, 2] and len(fds) == 5 and fds[4] > 256, fds


def test_soft_deadline_margin():
    from tracecot.tracer.running.child import soft_deadline, soft_deadline_margin
    assert soft_deadline_margin(0.5) == 0.25
    assert soft_deadline_margin(1.0) == pytest.approx(0.3)
    assert soft_deadline_margin(30.0) == 0.5
    # The fork server kills a run started at 100.0 with timeout 1 at 101.25.
    assert soft_deadline(101.25, 1.0, now=100.05) == pytest.approx(100.75)   # call + 0.7
    assert soft_deadline(101.25, 1.0, now=100.5) == pytest.approx(100.95)    # hard - 0.3
    assert soft_deadline(101.25, 1.0, now=101.2) == pytest.approx(101.25)    # >= 50 ms of call


def test_result_channel_believes_only_signed_traces():
    from tracecot.tracer.running import child
    from tracecot.tracer.running import forkserver
    key, other = b"k" * 16, b"o" * 16
    trace = b'{"version":1,"status":"returned"}'

    def signed(k):
        return trace + b"\n" + child.END_PREFIX + child.trace_mac(k, trace).encode() + b'"}\n'
    good = forkserver._read_channel(bytearray(b'{"phase":"call"}\n' + signed(key)), key)
    assert good.trace == trace and not good.tampered and not good.unsigned
    for buf in (signed(other), trace + b"\n", signed(key) + b"x\n",
                trace + b"\n" + signed(key), signed(key) + signed(key)):
        out = forkserver._read_channel(bytearray(buf), key)
        assert out.trace is None and (out.tampered or out.unsigned), buf
    cut = forkserver._read_channel(bytearray(signed(key)[:-5]), key)   # killed mid-write
    assert cut.trace is None and cut.unsigned and not cut.tampered


@pytest.mark.xfail(strict=True, reason="inherent to tracing in-process: the trace's MAC key "
                   "(a keyed hash state) lives in the child's memory, so code that goes looking "
                   "for it (gc, frames, /proc/self/mem) can sign a forged trace; only blind "
                   "forgeries are refused (see README, Sandbox)")
def test_known_gap_targeted_forgery_with_the_secret(sandbox):
    t = run(sandbox, """\
        import gc, os, posix
        FAKE = (b'{"version":1,"function":"f","call":"f()","path":null,"backend":"",'
                b'"python":"3","status":"returned","result":{"t":"str","v":"FORGED"}}')
        def f():
            for o in gc.get_objects():
                if type(o).__name__ == "_Run" and hasattr(o, "_mac"):
                    h = o._mac.copy()
                    h.update(FAKE)
                    os.write(o.fd, FAKE + b'\\n{"phase":"end","mac":"' +
                             h.hexdigest().encode() + b'"}\\n')
                    posix._exit(0)
            return "not found"
        """)
    assert t.status == "error" and "FORGED" not in json.dumps(to_json(t))


def test_trace_from_json_reads_field_names_once_per_class(monkeypatch):
    from tracecot.tracer import schema
    schema._field_names.cache_clear()
    calls = []
    real = schema.fields
    monkeypatch.setattr(schema, "fields", lambda cls: calls.append(cls) or real(cls))
    data = {"version": schema.SCHEMA_VERSION, "function": "f", "call": "f()", "path": None,
            "backend": "", "python": "3", "status": "returned",
            "events": [{"kind": "line", "frame": 0, "line": n, "extra": 1} for n in range(50)],
            "frames": [{"id": 0, "function": "f", "parent": None, "depth": 0, "def_line": 1,
                        "call_line": None}]}
    trace = schema.trace_from_json(data)
    assert len(trace.events) == 50 and trace.events[7].line == 7
    assert sorted(c.__name__ for c in calls) == ["Event", "Frame"]


def test_comparison_with_the_expected_value_is_bounded(sandbox):
    t = run(sandbox, """\
        class Stubborn:
            def __eq__(self, other):
                while True:
                    try:
                        while True:
                            pass
                    except BaseException:
                        pass
        def f():
            return Stubborn()
        """, expected="0", timeout=1.0)
    assert t.status == "returned", t.error
    assert t.comparison.error.startswith("comparing with the expected value did not finish")
    assert not t.comparison.python_equal
    t = run(sandbox, "def fail():\n    raise ValueError('no', 1)\ndef f():\n    return 1\n",
            expected="fail()")
    assert t.comparison.error == "could not evaluate the expected value: ValueError: ('no', 1)"
    t = run(sandbox, "def f():\n    return [1, 2.0]\n", expected="[1.0, 2]")
    assert t.comparison.python_equal and not t.comparison.canonical_equal


def test_arguments_evaluation_is_bounded_and_described_without_user_code(sandbox):
    t = run(sandbox, """\
        def spin():
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
        def f(x):
            return x
        """, args="spin()", timeout=1.0)
    assert_error(t, "timeout", "stopped after 1 s while evaluating the arguments")
    t = run(sandbox, """\
        class Loud(Exception):
            def __str__(self):
                while True:
                    pass
        class Default:
            def __repr__(self):
                while True:
                    pass
        def boom():
            raise Loud("bad input")
        def f(a, b: "Default" = Default()):
            return a
        """, args="boom()")
    assert_error(t, "bad_arguments", "Loud: bad input")
    t = run(sandbox, """\
        class Default:
            def __repr__(self):
                while True:
                    pass
        def f(a, b=Default()):
            return a
        """, args="1, 2, 3")
    assert_error(t, "arity", "f(a, b=", "Default()")


def test_user_module_is_a_registered_module(sandbox):
    """Dataclasses, enums and typing look a class's module up in sys.modules."""
    src = textwrap.dedent("""\
        import dataclasses, enum, typing

        @dataclasses.dataclass
        class Point:
            x: int
            y: int = 0

        class Colour(enum.Enum):
            RED = 1

        def f(a: int) -> typing.List[int]:
            p = Point(a)
            hints = typing.get_type_hints(f)
            return [p.x, p.y, Colour.RED.value, len(hints)]
        """)
    t = sandbox.run(RunRequest(function="f", args="3", source=src))
    assert t.status == "returned", t.error
    assert render(t.result) == "[3, 0, 1, 2]"
