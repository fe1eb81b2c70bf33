"""Inside the forked child: lock the process down, load the user's module, trace one call.

`main` never returns: it writes one JSON message (the trace) to the result pipe, followed by an
end line carrying a MAC of it (keyed by a per-run secret from the fork server, see
forkserver.py), and leaves with os._exit. Every way of ending early (step cap, soft deadline,
os._exit in user code, memory exhaustion) still writes what was recorded so far.

Nothing here runs user code outside the traced call: the exception the function raised is
described from its class and arguments through the value encoder (its __str__ is not called).

One module of over 500 lines on purpose: it is the whole life of the locked-down child (lock
down, load, call, report), steps that run in this order and share that one process's state.
"""

from __future__ import annotations

import _signal
import ast
import builtins
import functools
import gc
import hashlib
import inspect
import os
import signal
import sys
import sysconfig
import threading
import time
import types
from typing import Any, NoReturn

from . import guards
from .messages import bracket_problem, syntax_error_message
from ..recording import signals
from ..recording.recorder import Recorder
from ..recording.settrace import SettraceBackend
from ..schema import OUTPUT_CUT_MARK, SCHEMA_VERSION
from ..recording.export import analyse_names, build_trace, dumps_trace, hottest_line_message
from ..values import RESULT_LIMITS, encode, exception_message, render, values_equal

_real_exit = os._exit
_leaving = False    # set once the trace is being written
_real_settrace = sys.settrace
RESULT_CAP = 24 * 1024 * 1024      # bytes of JSON; the parent reads at most a little more
END_PREFIX = b'{"phase":"end","mac":"'   # the line after the trace: its MAC, then the exit
MAC_BYTES = 16
_type_name = type.__dict__["__name__"].__get__
_exc_traceback = BaseException.__dict__["__traceback__"].__get__
_real_unraisablehook = sys.__unraisablehook__
# Plain ints through _signal: the signal module's enum wrapping costs ~1 us per signal.
_SIGNALS = sorted(_signal.valid_signals())
# Code that may run while the trace is written: ours, the standard library's.
_OUR_CODE = tuple({os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ""),
                   os.path.join(sysconfig.get_paths()["stdlib"], ""),
                   os.path.join(sysconfig.get_paths()["platstdlib"], ""), "<frozen "})


class _UserCodeRefused(BaseException):
    """Raised into a user function that would start while the trace is being written."""


def _refuse(frame, event, arg):
    """settrace function of the writing phase: a user function (a __del__ of an object freed
    to make room, a weakref callback) fails before its first line."""
    if event == "call" and not frame.f_code.co_filename.startswith(_OUR_CODE):
        raise _UserCodeRefused
    return None


def _refused_again(unraisable) -> None:
    """sys.unraisablehook meanwhile: a refused __del__ ends up here, and the interpreter has
    dropped the trace function that refused it, so it goes back in."""
    if not isinstance(unraisable.exc_value, _UserCodeRefused):
        _real_unraisablehook(unraisable)
    _real_settrace(_refuse)


def _quiet_user_hooks() -> None:
    """Once the call is over no user code runs: no signal handler of its (they are ignored:
    a handler's exception would surface in our code), no finalizer of its cyclic garbage
    (the collector is off; the process leaves with os._exit)."""
    gc.disable()
    for sig in _SIGNALS:
        try:
            if callable(_signal.getsignal(sig)):
                _signal.signal(sig, _signal.SIG_IGN)
        except (ValueError, OSError, TypeError, RuntimeError):
            pass


def _refuse_user_code() -> None:
    """Before freeing what user code allocated: objects freed may run user code (__del__,
    weakref callbacks), which must not end, stall or speak for the run."""
    _quiet_user_hooks()
    sys.unraisablehook = _refused_again
    _real_settrace(_refuse)


def trace_mac(key_or_state, data: bytes) -> str:
    """MAC of a trace line: blake2b keyed with the run's secret (or a keyed state to copy)."""
    if isinstance(key_or_state, bytes):
        h = hashlib.blake2b(key=key_or_state, digest_size=MAC_BYTES)
    else:
        h = key_or_state.copy()
    h.update(data)
    return h.hexdigest()


def soft_deadline_margin(timeout: float) -> float:
    """How long before the timeout the tracer stops the run itself (and writes the partial
    trace), leaving that long plus the fork server's grace to build and write it."""
    return max(0.25, min(0.5, 0.3 * timeout))


def soft_deadline(hard: float, timeout: float, now: float) -> float:
    """The time.monotonic() value at which the tracer stops the call (`now`: the call starts):
    `timeout` minus the margin after the call starts, but no later than the margin before the
    fork server's hard deadline `hard` (a slow module load eats into the call's time, not into
    the time left to write the trace), and never less than 50 ms into the call."""
    margin = soft_deadline_margin(timeout)
    return max(min(now + timeout - margin, hard - margin), now + 0.05)


class _Run:
    """Everything the child knows about the run, so any exit path can report it."""

    def __init__(self, req: dict, result_fd: int, mac_state=None):
        self.req = req
        self.fd = result_fd
        # A keyed hash state, not the key: copied to sign the trace. (User code that goes
        # looking through this process's memory can still find it; see README "Sandbox".)
        self._mac = mac_state
        # Freed on MemoryError so the report can be written.
        self.reserve: bytearray | None = bytearray(256 * 1024)
        self.rec: Recorder | None = None
        self.backend: Any = None          # SettraceBackend or MonitoringBackend
        self.source_lines: list[str] = []
        self.tree: ast.Module | None = None
        self.hard_deadline = float("inf")   # time.monotonic() when the fork server kills us
        self.base = {"version": SCHEMA_VERSION, "function": req["function"],
                     "call": f"{req['function']}({req.get('args', '')})",
                     "path": req.get("path"), "backend": "", "python": platform_version(),
                     "status": "error", "args": []}
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.out_bytes = 0
        self.out_truncated = False
        self.t0 = time.perf_counter()

    def finish(self, **fields: Any) -> NoReturn:
        """Write the trace and leave. Called exactly once, from any exit path."""
        global _leaving
        _leaving = True                  # no _CpuGuard fires from here on
        signals.closed = True            # nor a user signal handler
        try:
            signal.setitimer(signal.ITIMER_PROF, 0)
        except (ValueError, OSError, AttributeError):
            pass
        self.stop_tracing()
        _quiet_user_hooks()
        try:
            raw = self._payload(fields)
        except MemoryError:
            self.release_memory()        # what the recorder kept alive, then try again
            try:
                raw = self._payload(fields)
            except MemoryError:          # still too much: the outcome without the events
                events = getattr(self.rec, "events", None)
                if type(events) is list:
                    events.clear()       # in place: other frames of ours hold the recorder
                self.rec = None
                gc.collect()
                raw = self._payload({**fields, "truncated": True})
        mac = trace_mac(self._mac, raw) if self._mac is not None else "0" * (2 * MAC_BYTES)
        raw += b"\n" + END_PREFIX + mac.encode("ascii") + b'"}\n'
        view = memoryview(raw)
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError:
                break
            view = view[n:]
        _real_exit(0)

    def stop_tracing(self) -> None:
        """The tracer is off (if it was still on): nothing more is recorded."""
        if self.backend is not None:
            try:
                self.backend.uninstall()
            except Exception:  # noqa: BLE001 - the user's code may have broken the monitor: off anyway
                pass
            self.backend = None

    def _payload(self, fields: dict) -> bytes:
        """The trace line (without its newline)."""
        data = dict(self.base)
        data.update(fields)
        data["stdout"] = "".join(self.stdout) + (OUTPUT_CUT_MARK if self.out_truncated
                                                 else "")
        data["stderr"] = "".join(self.stderr)
        data["wall_ms"] = round((time.perf_counter() - self.t0) * 1000, 3)
        if self.rec is not None:
            build_trace(data, self.rec, self.tree, self.source_lines)
        payload = dumps_trace(data)
        while len(payload) > RESULT_CAP and data.get("events"):
            data["events"] = data["events"][: len(data["events"]) // 2]
            data["truncated"] = True
            payload = dumps_trace(data)
        return payload.encode("utf-8", "surrogatepass")

    def release_memory(self, tb=None) -> None:
        """After a MemoryError: free the reserve, the locals of the finished frames in the
        traceback `tb` (whoever else holds those frames: the recorder does), and the objects
        the recorder keeps alive (objects numbered for identity, frame states with their
        snapshots), so that the partial trace, which needs none of them, can be built. Any user
        code that freeing starts is refused (`_refuse_user_code`)."""
        self.reserve = None
        self.stop_tracing()
        _refuse_user_code()
        while tb is not None:
            try:
                tb.tb_frame.clear()
            except RuntimeError:     # still running: one of ours
                pass
            tb = tb.tb_next
        rec = self.rec
        if rec is not None:
            for name in ("_keep", "states", "refs"):
                held = getattr(rec, name, None)
                if type(held) is list or type(held) is dict:
                    held.clear()
        gc.collect()   # frames and their tracers form cycles

    def fail(self, kind: str, message: str, line: int | None = None) -> NoReturn:
        self.finish(status="error", error={"kind": kind, "message": message, "line": line})

    def on_limit(self, kind: str) -> None:
        rec = self.rec
        assert rec is not None, "a limit is reached only while recording"
        if kind == "timeout":
            msg = f"stopped after {self.req['timeout']:g} s"
        else:
            msg = f"stopped after {rec.max_steps:,} steps (the step cap)"
        user = signals.running_untraced(sys._getframe(1))
        if user is not None:        # a signal handler that runs untraced (signals.py)
            frame, name = user
            msg += (f"; line {frame.f_lineno} was running, in the signal handler `{name}`, "
                    f"which started inside the tracer, so its lines are not counted "
                    f"(Python 3.11)")
        hot = hottest_line_message(rec.line_counts)
        self.fail(kind, msg + (f"; {hot}" if hot else ""), None)

    def output(self, stream: str, text: str) -> None:
        if not isinstance(text, str):
            text = str(text)
        room = self.req["output_bytes"] - self.out_bytes
        if room <= 0:
            self.out_truncated = True
            return
        if len(text) > room:
            text, self.out_truncated = text[:room], True
        self.out_bytes += len(text)
        (self.stdout if stream == "stdout" else self.stderr).append(text)
        if self.rec is not None:
            self.rec.output(stream, text, sys._getframe(2))


class _Stream:
    """sys.stdout/sys.stderr for user code: text goes into the trace, bounded."""

    def __init__(self, run: _Run, name: str):
        self._run, self.name = run, name
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, s):
        self._run.output(self.name, s)
        return len(s) if isinstance(s, str) else 0

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        raise OSError("tracecot: captured stream has no file descriptor")


def platform_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def _user_codes(code) -> set:
    found, stack = set(), [code]
    while stack:
        c = stack.pop()
        found.add(c)
        stack.extend(k for k in c.co_consts if hasattr(k, "co_code"))
    return found


def _lockdown(run: _Run, tmpdir: str) -> None:
    req = run.req
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    # Every other descriptor was closed by the fork server (forkserver._private_result_fd).
    os.chdir(tmpdir)
    os.environ["TMPDIR"] = tmpdir
    sys.stdin = None
    sys.dont_write_bytecode = True
    guards.apply_rlimits(req["memory_mb"], req["timeout"])
    guards.apply_landlock(tmpdir)
    guards.apply_seccomp()
    guards.install_audit_hook(tmpdir)
    # Tracing cannot be switched off by user code.
    sys.settrace = lambda fn: None
    threading.settrace = lambda func: None

    def user_exit(code=0):
        run.fail("crash", f"the function ended the process with os._exit({code!r}) "
                          "before returning")
    os._exit = user_exit


def _guard_monitoring() -> None:
    from ..recording.sysmon import TOOL_ID
    mon = sys.monitoring  # type: ignore[attr-defined]  # called on 3.12+ only
    for name in ("set_events", "set_local_events", "register_callback", "free_tool_id",
                 "use_tool_id", "restart_events"):
        real = getattr(mon, name)

        def guarded(tool_id=None, *a, _real=real, **k):
            if tool_id == TOOL_ID:
                raise PermissionError("tracecot: the tracer's monitoring tool id is reserved")
            return _real(tool_id, *a, **k) if tool_id is not None else _real(*a, **k)
        setattr(mon, name, guarded)


def _backend_class():
    if sys.version_info >= (3, 12) and os.environ.get("TRACECOT_BACKEND") != "settrace":
        from ..recording.sysmon import MonitoringBackend
        return MonitoringBackend
    return SettraceBackend


def _resolve(namespace: dict, dotted: str):
    """`f`, `Cls` or `Cls.name` in the module: static and class methods as their plain
    function, a property as its getter (the instance, or class, is the first argument)."""
    obj: Any = namespace
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else inspect.getattr_static(obj, part, None)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        elif isinstance(obj, property):
            obj = obj.fget
        elif isinstance(obj, functools.cached_property):
            obj = obj.func
        if obj is None:
            return None
    return obj


def _parse_args(args_src: str, namespace: dict):
    """'[1, 2], x=3' -> (args, kwargs). Raises ValueError with a readable message."""
    try:
        call = ast.parse(f"__f({args_src})", mode="eval").body
    except SyntaxError as e:
        why = bracket_problem(args_src) or e.msg
        raise ValueError(f"could not parse the arguments ({args_src}): {why}") from None
    if not isinstance(call, ast.Call) or call.lineno != call.end_lineno and "\n" not in args_src:
        raise ValueError(f"could not parse the arguments ({args_src})")

    def value(node):
        return eval(compile(ast.Expression(node), "<arguments>", "eval"), namespace)
    try:
        args = []
        for a in call.args:
            if isinstance(a, ast.Starred):
                args.extend(value(a.value))
            else:
                args.append(value(a))
        kwargs = {}
        for k in call.keywords:
            if k.arg is None:
                kwargs.update(value(k.value))
            else:
                kwargs[k.arg] = value(k.value)
    except Exception as e:  # noqa: BLE001 - the user's argument expressions may raise anything
        raise ValueError(f"could not evaluate the arguments ({args_src}): "
                         f"{_type_name(type(e))}: {exception_message(e, 500)}") from None
    return args, kwargs


def _user_line(tb, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def main(req: dict, result_fd: int, tmpdir: str, key_box: list | None = None,
         hard_deadline: float | None = None) -> None:
    """`key_box`: a one-item list holding the run's secret, emptied here so that no frame keeps
    it; `hard_deadline`: the time.monotonic() value at which the fork server kills the run."""
    key = key_box.pop() if key_box else os.urandom(MAC_BYTES)
    run = _Run(req, result_fd, hashlib.blake2b(key=key, digest_size=MAC_BYTES))
    del key
    run.hard_deadline = hard_deadline if hard_deadline is not None else float("inf")
    failure = None
    try:
        _main(run, tmpdir)
    except MemoryError as e:
        failure = "memory"
        run.release_memory(_exc_traceback(e))
    except BaseException as e:  # noqa: BLE001 - a bug of ours must still produce an answer
        failure = f"{_type_name(type(e))}: {exception_message(e, 500)}"
    # Out of the handler: the exception, its traceback and the frames it held are gone.
    if failure == "memory":
        run.release_memory()
        run.fail("memory_limit", f"the run used more than its memory limit "
                                 f"({req['memory_mb']} MB)")
    run.fail("sandbox_error", f"internal error in the sandbox: "
                              f"{failure or 'the run ended without an answer'}")


def _main(run: _Run, tmpdir: str) -> None:
    req = run.req
    filename = req.get("path") or "<input>"
    source = req["source"]
    run.source_lines = source.splitlines()
    try:
        run.tree = tree = ast.parse(source, filename)
        code = compile(tree, filename, "exec")
    except SyntaxError as e:
        run.fail("syntax_error", syntax_error_message(e, req.get("path") or ""), e.lineno)
    except ValueError as e:     # e.g. null bytes
        run.fail("syntax_error", f"the source cannot be compiled: {e}")
    _lockdown(run, tmpdir)
    signals.install()        # user signal handlers run from user code, traced
    # A real module registered in sys.modules: dataclasses, typing.get_type_hints, enum and
    # pickle-style lookups all resolve a class's module by name.
    module = types.ModuleType("__tracecot_user__")
    module.__file__ = filename
    module.__dict__["__builtins__"] = builtins
    sys.modules["__tracecot_user__"] = module
    namespace = module.__dict__
    if req.get("path"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(req["path"])))
    sys.stdout, sys.stderr = _Stream(run, "stdout"), _Stream(run, "stderr")
    try:
        exec(code, namespace)
    except MemoryError:
        run.reserve = None
        run.fail("memory_limit", f"loading the module used more than {req['memory_mb']} MB")
    except BaseException as e:  # noqa: BLE001 - the user's module may raise anything, SystemExit too
        line = _user_line(_exc_traceback(e), filename)
        run.fail("load_error", f"loading the module raised {_type_name(type(e))}: "
                               f"{exception_message(e)}" + (f" (line {line})" if line else ""),
                 line)

    func = _resolve(namespace, req["function"])
    if not callable(func):
        names = sorted(k for k, v in namespace.items()
                       if inspect.isfunction(v)
                       and getattr(v, "__module__", "") == "__tracecot_user__")
        where = req.get("path") or "the source"
        run.fail("function_not_found", f"no function named {req['function']!r} in {where}"
                 + (f" (functions there: {', '.join(names)})" if names else ""))
    # Evaluating the arguments (and reading the signature) runs user code before tracing
    # starts: bounded by the same limit as the call, with its own message.
    timeout = req["timeout"]
    limit = run.hard_deadline - soft_deadline_margin(timeout)
    with _CpuGuard(limit, lambda: run.fail("timeout", f"stopped after {timeout:g} s while "
                                                      "evaluating the arguments")):
        try:
            args, kwargs = _parse_args(req.get("args", ""), namespace)
        except ValueError as e:
            run.fail("bad_arguments", str(e))
        sig: inspect.Signature | None
        bound: inspect.BoundArguments | None = None
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            sig = None
        if sig is not None:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                run.fail("arity", f"wrong arguments for {req['function']}"
                                  f"{_signature_text(sig)}: {e}")
    if bound is not None:
        run.base["args"] = [[k, encode(v, RESULT_LIMITS)] for k, v in bound.arguments.items()]

    codes = _user_codes(code)
    hidden, for_targets = analyse_names(tree)
    deadline = soft_deadline(run.hard_deadline, req["timeout"], time.monotonic())
    rec = Recorder(filename, max_steps=req["max_steps"], max_events=req["max_events"],
                   max_depth=req["max_depth"], deadline=deadline, on_limit=run.on_limit,
                   hidden_names=hidden, for_targets=for_targets)
    run.rec = rec
    signals.resync = rec.resync
    record = req.get("record", True) is not False
    backend = _backend_class()(rec, codes)
    run.base["backend"] = backend.name if record else "none"
    if record:
        backend.install(_real_settrace)
    if hasattr(sys, "monitoring"):
        _guard_monitoring()
    run.backend = backend if record else None
    # Unrecorded (record=False): no events and no step cap, the CPU guard and the fork
    # server's hard deadline stop it, as they stop the untraced argument evaluation above.
    guard = None if record else _CpuGuard(deadline, lambda: run.fail(
        "timeout", f"stopped after {timeout:g} s (an unrecorded run)"))
    os.write(run.fd, b'{"phase":"call"}\n')   # lets the parent say where a timeout hit
    run.t0 = time.perf_counter()
    try:
        if guard is None:
            result = func(*args, **kwargs)
        else:
            with guard:
                result = func(*args, **kwargs)
        exc = None
    except BaseException as e:  # noqa: BLE001 - the traced call's own exception is its outcome
        exc, result = e, None
    if record:
        backend.uninstall()
    run.backend = None
    run.reserve = None

    returned = exc is None
    fields: dict[str, Any] = {}
    if exc is None:
        fields.update(status="returned", result=encode(result, RESULT_LIMITS))
    elif issubclass(type(exc), MemoryError):
        line = _user_line(_exc_traceback(exc), filename)
        run.release_memory(_exc_traceback(exc))   # its frames hold what filled the memory
        exc = result = None
        fields.update(status="error", error={
            "kind": "memory_limit", "line": line,
            "message": f"the run used more than its memory limit ({req['memory_mb']} MB)"})
    else:
        # Described without running user code: no __str__, no attribute lookups through
        # the exception's class (see values.exception_message).
        fields.update(status="raised", exception={
            "type": _type_name(type(exc)), "message": exception_message(exc, 2000),
            "line": _user_line(_exc_traceback(exc), filename),
            "value": encode(exc, RESULT_LIMITS)})
    if req.get("expected") is not None:
        fields["comparison"] = _guarded_compare(run, fields, req["expected"], namespace,
                                                returned, result)
    run.finish(**fields)


class _CpuGuard:
    """For user code that runs untraced (the arguments' source before the call, the expected
    value's source and __eq__ after it): a CPU-time timer that, once time.monotonic() passes
    `limit`, calls `expired` (which writes the trace and leaves) from inside its handler, so
    that user code cannot swallow it. Code that sleeps, or that takes SIGPROF over, still
    meets the fork server's hard deadline."""

    def __init__(self, limit: float, expired):
        self.limit, self.expired, self.old = limit, expired, None
        self.armed = False

    def __enter__(self):
        try:
            self.old = signal.signal(signal.SIGPROF, self._tick)
            signal.setitimer(signal.ITIMER_PROF, 0.02, 0.02)
            self.armed = True
        except (ValueError, OSError, AttributeError):   # no timers here
            pass
        return self

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self.old)
            self.armed = False

    def _tick(self, signum, frame):
        if not _leaving and time.monotonic() > self.limit:
            signal.setitimer(signal.ITIMER_PROF, 0)
            self.expired()


def _signature_text(sig) -> str:
    """`(a, b=<default>)` without running user code: defaults shown through the encoder,
    annotations left out (str(sig) would call their reprs)."""
    params = [p.replace(annotation=p.empty) if p.default is p.empty else
              p.replace(annotation=p.empty, default=_Shown(render(encode(p.default))))
              for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=sig.empty))


class _Shown:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _guarded_compare(run: _Run, fields: dict, expected_src: str, namespace: dict,
                     returned: bool, result) -> dict:
    """_compare runs user code (the expected value's source, __eq__, __bool__) after tracing
    stopped: past the soft deadline (and at least 0.1 s from now) the trace is written with the
    comparison marked as not finished."""
    limit = max(run.rec.deadline if run.rec is not None else 0.0, time.monotonic() + 0.1)

    def expired():
        fields["comparison"] = {
            "expected": None, "canonical_equal": False, "python_equal": False,
            "error": "comparing with the expected value did not finish in time (user code in "
                     "the expected value's source, __eq__ or __bool__ ran past the deadline)"}
        run.finish(**fields)
    with _CpuGuard(limit, expired):
        return _compare(expected_src, namespace, returned, result)


def _compare(expected_src: str, namespace: dict, returned: bool, result) -> dict:
    try:
        expected = eval(compile(expected_src, "<expected>", "eval"), namespace)
    except BaseException as e:  # noqa: BLE001 - the expected value runs the user's code
        return {"expected": None, "canonical_equal": False, "python_equal": False,
                "error": f"could not evaluate the expected value: {_type_name(type(e))}: "
                         f"{exception_message(e, 500)}"}
    out = {"expected": encode(expected, RESULT_LIMITS), "canonical_equal": False,
           "python_equal": False, "error": None}
    if returned:
        out["canonical_equal"] = values_equal(result, expected)
        try:
            out["python_equal"] = bool(result == expected)
        except BaseException as e:  # noqa: BLE001 - the user's __eq__ may raise anything
            out["error"] = (f"comparing with == raised {_type_name(type(e))}: "
                            f"{exception_message(e, 500)}")
    return out
