"""Hostile code against the sandbox: every program in tests/hostile/ is run as a function.

For each one: the run ends within its timeout + 0.5 s (measured here, on the caller's side),
the answer is the right kind of error (or exception, or result) with a message a person can
act on, the fork server is the same process afterwards and answers the next run, and nothing
was written outside the run's temporary directory.

The runs go in parallel (one module-scoped fixture runs them all); each test then checks one
program's outcome.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tracecot.tracer import RunRequest, Sandbox, Trace, render, to_json
from tracecot.tracer.schema import ERROR_KINDS

HOSTILE = Path(__file__).parent / "hostile"
TIMEOUT = 1.0          # short, to keep the suite fast
SLACK = 0.5            # every run must be answered within timeout + SLACK
# Runs at a time. The machine has 2 cores (shared); with more, CPU-bound runs that end with a
# 20,000-event trace queue up behind each other for the CPU (building, then parsing the trace)
# and the timing bound measures the scheduler rather than the sandbox.
PARALLEL = 2
# A 20,000-event trace (the default cap, reached by every hot loop) costs ~0.2 s of CPU to build
# in the child and ~0.2 s to read back here (trace_from_json), so that on a loaded 2-core machine
# the last part of the timeout + 0.5 s budget goes to parsing. The hostile runs are about
# containment, so they record less; test_sandbox_errors checks the bound at the default cap.
OPTIONS = {"max_events": 5000}
TRIVIAL = RunRequest(function="f", source="def f():\n    return 1\n", timeout=5.0)


# ------------------------------------------------------------------------------ context

class Ctx:
    """Unique paths outside the sandbox that hostile programs try to create, change or
    delete, and a local TCP server they try to reach."""

    def __init__(self):
        tag = f"tracecot-hostile-{uuid.uuid4().hex[:10]}"
        tmp, home = Path("/tmp"), Path.home()
        self.home_name = f"{tag}-home"
        self.must_not_exist = [tmp / f"{tag}-{what}" for what in
                               ("subprocess", "system", "execv", "open", "os-open", "libc-new",
                                "libc-dir")] + [home / self.home_name]
        self.victim = tmp / f"{tag}-victim"              # must survive unchanged
        self.victim.write_text("keep me")
        self.victim.chmod(0o600)
        self.victim_stat = self.victim.stat()
        self.victim_dir = tmp / f"{tag}-victim-dir"
        self.victim_dir.mkdir()
        (self.victim_dir / "inside").write_text("keep me too")
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.server.setblocking(False)
        self.port = self.server.getsockname()[1]

    def path(self, what: str) -> str:
        return str(next(p for p in self.must_not_exist if p.name.endswith("-" + what)))

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return n
            conn.close()
            n += 1

    def cleanup(self) -> None:
        self.server.close()
        for p in self.must_not_exist + [self.victim]:
            if p.is_symlink() or p.is_file():
                p.unlink()
            elif p.is_dir():
                shutil.rmtree(p)
        shutil.rmtree(self.victim_dir, ignore_errors=True)


# ------------------------------------------------------------------------------ expectations

def line_of(program: str, text: str) -> int:
    """Number of the first line of tests/hostile/<program>.py containing `text`."""
    lines = (HOSTILE / f"{program}.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def error(kind: str, *phrases: str):
    def check(t: Trace, ctx: Ctx):
        assert t.status == "error" and t.error.kind == kind, _show(t)
        for phrase in phrases:
            assert phrase in t.error.message, _show(t)
    return check


def error_any(kinds: tuple, *phrases: str):
    def check(t: Trace, ctx: Ctx):
        assert t.status == "error" and t.error.kind in kinds, _show(t)
        for phrase in phrases:
            assert phrase in t.error.message, _show(t)
    return check


def hot_loop(program: str, *hot: str, infinite: bool = True):
    """Stopped by the tracer (soft deadline or step cap), naming the hot line: one of the lines
    containing a text of `hot` (a loop's header and body run equally often)."""
    def check(t: Trace, ctx: Ctx):
        lines = [line_of(program, text) for text in hot]
        assert t.status == "error" and t.error.kind in ("timeout", "step_limit"), _show(t)
        msg = t.error.message
        assert msg.startswith("stopped after "), _show(t)
        # (a signal handler that started inside the tracer on 3.11 is named as running)
        counted = [n for n in lines if f"; line {n} ran " in msg]
        # (a signal handler that started inside the tracer runs untraced on 3.11: named as
        # the line that was running, its lines not counted)
        running = [n for n in lines if f"; line {n} was running, in the signal handler" in msg]
        assert counted or running, f"none of lines {lines} named: {_show(t)}"
        if infinite:
            assert msg.endswith("likely an infinite loop"), _show(t)
        assert t.events
        if counted:
            assert t.line_counts.get(counted[0], 0) > 1000   # the partial trace
    return check


def hard_timeout(*phrases: str):
    """Killed by the fork server at the deadline (the tracer could not stop it)."""
    return error("timeout", f"stopped after {TIMEOUT:g} s", *phrases)


def raised(exc_type: str, *phrases: str):
    def check(t: Trace, ctx: Ctx):
        assert t.status == "raised" and t.exception.type == exc_type, _show(t)
        for phrase in phrases:
            assert phrase in t.exception.message, _show(t)
        assert t.exception.line is not None
    return check


def refused(*phrases: str):
    return raised("PermissionError", *phrases)


def returned(expected: str | Callable[[str], bool]):
    def check(t: Trace, ctx: Ctx):
        assert t.status == "returned", _show(t)
        shown = render(t.result)
        assert (expected(shown) if callable(expected) else shown == expected), shown
    return check


def stdout_capped(t: Trace, ctx: Ctx):
    assert t.stdout.endswith("[output truncated]"), t.stdout[-100:]
    assert len(t.stdout) <= RunRequest.output_bytes + 100, len(t.stdout)


def stdout_is(text: str):
    def check(t: Trace, ctx: Ctx):
        assert t.stdout == text, t.stdout[:200]
    return check


def either(*checks):
    def check(t: Trace, ctx: Ctx):
        failures = []
        for c in checks:
            try:
                return c(t, ctx)
            except AssertionError as e:
                failures.append(str(e))
        raise AssertionError(" / ".join(failures))
    return check


def both(*checks):
    def check(t: Trace, ctx: Ctx):
        for c in checks:
            c(t, ctx)
    return check


def has_events(t: Trace, ctx: Ctx):
    assert t.events, "the partial trace was lost: " + _show(t)


def nothing_forged(t: Trace, ctx: Ctx):
    """The forged trace never comes back: either the real one, or an error saying why not."""
    assert "FORGED" not in json.dumps(to_json(t)), _show(t)
    if t.status == "error":
        assert t.error.kind in ("sandbox_error", "crash"), _show(t)
        assert any(w in t.error.message for w in ("result channel", "own process", "SIGSEGV"))
    else:
        assert t.status == "returned" and render(t.result) == "'honest'"


def victim_untouched(t: Trace, ctx: Ctx):
    assert ctx.victim.read_text() == "keep me"
    st = ctx.victim.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (
        stat.S_IMODE(ctx.victim_stat.st_mode), ctx.victim_stat.st_uid, ctx.victim_stat.st_gid)
    assert (ctx.victim_dir / "inside").read_text() == "keep me too"


def _show(t: Trace) -> str:
    detail = t.error or t.exception or (render(t.result) if t.status == "returned" else None)
    return f"{t.status}: {detail}"


# ------------------------------------------------------------------------------ the programs

@dataclass
class Case:
    program: str                                  # tests/hostile/<program>.py, function f
    check: Callable[[Trace, Ctx], None]
    args: Callable[[Ctx], str] | str = ""
    timeout: float = TIMEOUT
    options: dict = field(default_factory=dict)   # more RunRequest fields

    @property
    def id(self) -> str:
        return self.program + (f"[{self.args}]" if isinstance(self.args, str) and self.args
                               else "")


CASES = [
    # Loops the tracer must stop, whatever the code does to resist.
    Case("loop_plain", hot_loop("loop_plain", "while True", "n += 1")),
    Case("loop_swallowed", hot_loop("loop_swallowed", "            while True", "pass")),
    Case("loop_finally", hot_loop("loop_finally", "            while True", "pass")),
    Case("loop_recursive_swallow", error_any(("timeout", "step_limit"), "stopped after")),
    Case("trace_tamper", hot_loop("trace_tamper", "    while True", "n += 1")),
    Case("frame_trace_tamper", error_any(("timeout", "step_limit"), "stopped after")),
    Case("endless_generator", either(error("memory_limit"),
                                     hot_loop("endless_generator", "while True", "yield n",
                                              "n += 1", infinite=False))),
    Case("alarm_handler_loops", hot_loop("alarm_handler_loops", "    while True", "pass"),
         timeout=2.0),
    # The same, the signal landing during a busy traced loop: mostly inside a tracer callback.
    Case("alarm_handler_loops_busy", hot_loop("alarm_handler_loops_busy", "    while True",
                                              "pass"), timeout=2.0),
    # A handler that raises to end a loop: the exception reaches the user's code.
    Case("alarm_raises", returned("'stopped by the alarm'"), timeout=2.0),
    Case("signal_handler_identity", returned("[True, True, True]")),
    Case("recursion_escape", error_any(("timeout", "step_limit"), "stopped after")),
    Case("memory_in_tracer", error_any(("timeout", "step_limit", "memory_limit"))),
    # Time spent where no line event fires: only the fork server's deadline can end it.
    Case("slow_steps", error_any(("timeout",), "stopped after")),
    Case("sleep_long", hard_timeout("builtin")),
    Case("builtin_busy", hard_timeout("builtin")),
    Case("huge_int", hard_timeout()),
    Case("sigterm_ignored", hard_timeout()),
    Case("sigstop_self", hard_timeout()),
    Case("module_loop", hard_timeout("while loading the module")),
    # Processes and threads.
    Case("fork_bomb", refused("starting processes", "os.fork")),
    Case("fork_bomb_ctypes", returned("[-2, -1]")),       # os.fork refused, libc fork fails
    Case("subprocess_run", refused("starting processes"), lambda c: repr(c.path("subprocess"))),
    Case("os_system", refused("starting processes"), lambda c: repr(c.path("system"))),
    Case("os_execv", refused("starting processes"), lambda c: repr(c.path("execv"))),
    Case("thread_loop", refused("threads")),
    Case("thread_print", refused("threads")),
    # Memory.
    Case("memory_list_mult", error("memory_limit", "memory limit (1024 MB)")),
    Case("memory_str_mult", error("memory_limit", "memory limit (1024 MB)")),
    Case("memory_strings", error_any(("memory_limit", "timeout"))),
    Case("memory_bytearray", error_any(("memory_limit", "timeout"))),
    Case("raise_limits", error("memory_limit", "memory limit")),
    # A __del__ that fights back when the sandbox frees memory to write the report: refused.
    Case("memory_del_exit", both(error("memory_limit", "memory limit (1024 MB)"), has_events)),
    Case("memory_del_loop", both(error("memory_limit", "memory limit (1024 MB)"), has_events)),
    Case("memory_del_print", both(error("memory_limit", "memory limit (1024 MB)"), has_events,
                                  stdout_is(""))),
    Case("recursion_plain", raised("RecursionError", "maximum recursion depth")),
    Case("recursion_unlimited", error_any(("timeout", "step_limit", "memory_limit", "crash"))),
    # Output.
    Case("print_100mb", both(returned("'printed'"), stdout_capped)),
    Case("print_flood_fd", both(returned("'written'"), stdout_is(""))),
    Case("unicode_surrogates", both(returned(lambda s: "\\udfff" in s),
                                    stdout_is("\ud800 \x00 \x1b[2J\n"))),
    # Ways to end the process.
    Case("os_exit", error("crash", "os._exit(3)")),
    Case("sys_exit", raised("SystemExit", "2")),
    Case("segfault", error("crash", "segmentation fault", "SIGSEGV")),
    Case("kill_self", error("crash", "own process", "SIGKILL")),
    # The fork server must survive every attempt on it.
    Case("kill_parent", refused("Operation not permitted")),
    Case("kill_parent_other_ways", returned(lambda s: "succeeded" not in s and
                                            s.count("PermissionError") >= 9)),
    # Network.
    Case("socket_connect", refused("network access is not allowed"), lambda c: str(c.port)),
    Case("socket_ctypes", returned("(-1, 1)")),            # socket(2) -> EPERM
    Case("dns_lookup", refused("network access is not allowed")),
    # Files outside the run's temporary directory.
    Case("write_tmp", refused("is not allowed"), lambda c: repr(c.path("open"))),
    Case("os_open_creat", refused("is not allowed"), lambda c: repr(c.path("os-open"))),
    Case("pathlib_home", refused("is not allowed"), lambda c: repr(c.home_name)),
    Case("remove_outside", both(refused("os.remove"), victim_untouched),
         lambda c: repr(str(c.victim))),
    Case("rmtree_outside", both(refused("shutil.rmtree"), victim_untouched),
         lambda c: repr(str(c.victim_dir))),
    Case("chmod_outside", both(refused("os.chmod"), victim_untouched),
         lambda c: repr(str(c.victim))),
    Case("libc_writes", both(returned(lambda s: s.count(": -1") == 9), victim_untouched),
         lambda c: f"{c.path('libc-new')!r}, {str(c.victim)!r}, {c.path('libc-dir')!r}"),
    Case("mknod_device", raised("PermissionError")),
    Case("big_file_in_tmp", raised("OSError", "File too large")),
    # Descriptors, standard input, the result channel.
    Case("close_fds", returned("42")),
    Case("garbage_fds", returned("7")),
    Case("read_stdin", returned("['RuntimeError', 'AttributeError', b'']")),
    Case("fake_trace", nothing_forged),
    Case("fake_trace_then_die", nothing_forged, "'kill'"),
    Case("fake_trace_then_die", nothing_forged, "'segv'"),
    Case("fake_trace_then_die", nothing_forged, "'exit0'"),
    Case("exception_str_hangs", raised("Evil", "boom")),    # its __str__ is never called
    # Objects that fight the value encoder.
    Case("repr_hangs", returned("Hangs()")),
    Case("repr_raises", returned("Liar()")),
    Case("huge_len", returned(lambda s: s.startswith("[Huge(") and "HugeList([1, 2, 3])" in s)),
]


@dataclass
class Outcome:
    trace: Trace
    elapsed: float
    next_trace: Trace          # a trivial run right after
    server_pid: int | None     # fork server pid after the trivial run


@pytest.fixture(scope="module")
def ctx():
    c = Ctx()
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def hostile_sandbox():
    # TRACECOT_HOSTILE_PYTHON: run the suite on another interpreter (3.12+: the sys.monitoring
    # backend), e.g. TRACECOT_HOSTILE_PYTHON=python3.13 pytest tests/test_hostile.py
    with Sandbox(python=os.environ.get("TRACECOT_HOSTILE_PYTHON"),
                 max_parallel=PARALLEL) as sb:
        first = sb.run(TRIVIAL)
        assert first.status == "returned"
        sb.initial_pid = sb._proc.pid
        yield sb


@pytest.fixture(scope="module")
def outcomes(hostile_sandbox, ctx):
    def one(case: Case) -> Outcome:
        args = case.args(ctx) if callable(case.args) else case.args
        request = RunRequest(function="f", args=args, path=str(HOSTILE / f"{case.program}.py"),
                             timeout=case.timeout, **{**OPTIONS, **case.options})
        start = time.monotonic()
        trace = hostile_sandbox.run(request)
        elapsed = time.monotonic() - start
        after = hostile_sandbox.run(TRIVIAL)
        proc = hostile_sandbox._proc
        return Outcome(trace, elapsed, after, proc.pid if proc is not None else None)

    with ThreadPoolExecutor(PARALLEL) as pool:
        results = dict(zip([c.id for c in CASES], pool.map(one, CASES), strict=True))
    results["connections"] = ctx.connections()
    return results


def test_every_program_is_covered():
    programs = {p.stem for p in HOSTILE.glob("*.py")}
    assert programs == {c.program for c in CASES}
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case, outcomes, hostile_sandbox, ctx):
    out = outcomes[case.id]
    t = out.trace
    assert out.elapsed <= case.timeout + SLACK, f"answered after {out.elapsed:.2f} s"
    assert t.status in ("returned", "raised", "error")
    if t.status == "error":
        assert t.error.kind in ERROR_KINDS and len(t.error.message) > 15
    # The fork server survived and answers.
    assert out.next_trace.status == "returned" and render(out.next_trace.result) == "1"
    assert out.server_pid == hostile_sandbox.initial_pid, "the fork server was restarted"
    case.check(t, ctx)


def test_nothing_escaped(outcomes, hostile_sandbox, ctx):
    for path in ctx.must_not_exist:
        assert not os.path.lexists(path), f"{path} was created"
    victim_untouched(None, ctx)
    assert outcomes["connections"] == 0, "a sandboxed run reached the local TCP server"
    assert hostile_sandbox._proc.poll() is None
    assert hostile_sandbox._proc.pid == hostile_sandbox.initial_pid


# ------------------------------------------------------------------------------ known gaps
# Each was found by this suite; the fix belongs in files the sandbox layer does not own
# (tracer/capture.py, tracer/child.py). The safety properties above hold for all of them
# (bounded time, clear error kind, server alive); what is still wrong is stated per test.

def _run(hostile_sandbox, program, args="", **kw):
    return hostile_sandbox.run(RunRequest(function="f", args=args,
                                          path=str(HOSTILE / f"{program}.py"),
                                          **{"timeout": TIMEOUT, **OPTIONS, **kw}))


# Fixed in capture.py: every callback catches BaseException, and where the interpreter drops
# the trace function anyway (3.11: the callback cannot even start at the recursion limit) the
# watchdog timer installs it again, so the step cap still stops the loop that follows.
def test_recursion_does_not_switch_the_tracer_off(hostile_sandbox):
    t = _run(hostile_sandbox, "recursion_escape", max_steps=100_000, timeout=2.0)
    assert t.error.kind == "step_limit", _show(t)
    assert t.events and "likely an infinite loop" in t.error.message, _show(t)


# Fixed in capture.py: limits are checked every 16 steps, and a watchdog timer checks the soft
# deadline between any two bytecodes once a run is longer than that.
def test_slow_lines_meet_the_soft_deadline(hostile_sandbox):
    t = _run(hostile_sandbox, "slow_steps")
    assert t.error.kind == "timeout" and "; line " in t.error.message, _show(t)
    assert t.events, _show(t)   # the partial trace came back


# Fixed in child.py (the exception is described from its class and arguments, no __str__) and
# by the signed end line on the result channel (forkserver.py); a forger that reads the
# secret out of the child's memory is a known gap (test_sandbox_errors.py).
def test_exception_str_is_never_run(hostile_sandbox):
    t = _run(hostile_sandbox, "exception_str_hangs")
    assert t.status == "raised" and t.exception.type == "Evil", _show(t)
    assert t.exception.message == "boom"


def test_forged_trace_then_clean_exit_is_not_believed(hostile_sandbox):
    t = _run(hostile_sandbox, "fake_trace_then_die", "'exit0'")
    assert "FORGED" not in json.dumps(to_json(t)), _show(t)
    assert t.error.kind == "sandbox_error" and "result channel" in t.error.message, _show(t)
