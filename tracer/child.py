"""Inside the forked child: lock the process down, load the user's module, trace one call.

`main` never returns: it writes one JSON message (the trace) to the result pipe and leaves with
os._exit. Every way of ending early (step cap, soft deadline, os._exit in user code, memory
exhaustion) still writes what was recorded so far.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import os
import sys
import threading
import time

from . import guards
from .capture import Recorder, SettraceBackend
from .schema import SCHEMA_VERSION
from .trace_export import analyse_names, build_trace, hottest_line_message
from .values import RESULT_LIMITS, encode, values_equal

_real_exit = os._exit
_real_settrace = sys.settrace
RESULT_CAP = 24 * 1024 * 1024      # bytes of JSON; the parent reads at most a little more


class _Run:
    """Everything the child knows about the run, so any exit path can report it."""

    def __init__(self, req: dict, result_fd: int):
        self.req = req
        self.fd = result_fd
        self.rec: Recorder | None = None
        self.backend = None
        self.source_lines: list[str] = []
        self.tree = None
        self.base = {"version": SCHEMA_VERSION, "function": req["function"],
                     "call": f"{req['function']}({req.get('args', '')})",
                     "path": req.get("path"), "backend": "", "python": platform_version(),
                     "status": "error", "args": []}
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.out_bytes = 0
        self.out_truncated = False
        self.t0 = time.perf_counter()

    def finish(self, **fields) -> None:
        """Write the trace and leave. Called exactly once, from any exit path."""
        if self.backend is not None:
            try:
                self.backend.uninstall()
            except Exception:
                pass
        data = dict(self.base)
        data.update(fields)
        data["stdout"] = "".join(self.stdout) + ("\n[output truncated]" if self.out_truncated else "")
        data["stderr"] = "".join(self.stderr)
        data["wall_ms"] = round((time.perf_counter() - self.t0) * 1000, 3)
        if self.rec is not None:
            build_trace(data, self.rec, self.tree, self.source_lines)
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        while len(payload) > RESULT_CAP and data.get("events"):
            data["events"] = data["events"][: len(data["events"]) // 2]
            data["truncated"] = True
            payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        raw = payload.encode("utf-8", "surrogatepass") + b"\n"
        view = memoryview(raw)
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError:
                break
            view = view[n:]
        _real_exit(0)

    def fail(self, kind: str, message: str, line: int | None = None) -> None:
        self.finish(status="error", error={"kind": kind, "message": message, "line": line})

    def on_limit(self, kind: str) -> None:
        rec = self.rec
        if kind == "timeout":
            msg = f"stopped after {self.req['timeout']:g} s"
        else:
            msg = f"stopped after {rec.max_steps:,} steps (the step cap)"
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
        rec = self.rec
        if rec is not None and rec.recording:
            fid, line = rec.current_position(sys._getframe(2))
            if fid is not None:
                last = rec.events[-1] if rec.events else None
                if last and last[0] == "output" and last[1] == fid and last[2] == line \
                        and last[6]["stream"] == stream:
                    last[6]["text"] += text
                else:
                    rec.add(("output", fid, line, None, None, None,
                             {"stream": stream, "text": text}))


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
    for fd in range(3, 256):
        if fd != run.fd:
            try:
                os.close(fd)
            except OSError:
                pass
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
    threading.settrace = lambda fn: None

    def user_exit(code=0):
        run.fail("crash", f"the function ended the process with os._exit({code!r}) "
                          "before returning")
    os._exit = user_exit


def _guard_monitoring() -> None:
    from .sysmon import TOOL_ID
    mon = sys.monitoring
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
        from .sysmon import MonitoringBackend
        return MonitoringBackend
    return SettraceBackend


def _resolve(namespace: dict, dotted: str):
    obj = namespace
    for i, part in enumerate(dotted.split(".")):
        obj = obj.get(part) if isinstance(obj, dict) else inspect.getattr_static(obj, part, None)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        if obj is None:
            return None
    return obj


def _parse_args(args_src: str, namespace: dict):
    """'[1, 2], x=3' -> (args, kwargs). Raises ValueError with a readable message."""
    try:
        call = ast.parse(f"__f({args_src})", mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"could not parse the arguments ({args_src}): {e.msg}") from None
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
    except Exception as e:
        raise ValueError(f"could not evaluate the arguments ({args_src}): "
                         f"{type(e).__name__}: {e}") from None
    return args, kwargs


def _user_line(tb, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def main(req: dict, result_fd: int, tmpdir: str) -> None:
    run = _Run(req, result_fd)
    try:
        _main(run, tmpdir)
    except MemoryError:
        run.fail("memory_limit", f"the run used more than its memory limit "
                                 f"({req['memory_mb']} MB)")
    except BaseException as e:   # a bug of ours must still produce an answer
        run.fail("sandbox_error", f"internal error in the sandbox: {type(e).__name__}: {e}")


def _main(run: _Run, tmpdir: str) -> None:
    req = run.req
    filename = req.get("path") or "<input>"
    source = req["source"]
    run.source_lines = source.splitlines()
    try:
        run.tree = ast.parse(source, filename)
        code = compile(run.tree, filename, "exec")
    except SyntaxError as e:
        run.fail("syntax_error", f"syntax error at line {e.lineno}: {e.msg}", e.lineno)
    except ValueError as e:     # e.g. null bytes
        run.fail("syntax_error", f"the source cannot be compiled: {e}")
    _lockdown(run, tmpdir)
    reserve = bytearray(256 * 1024)   # freed on MemoryError so the report can be written
    namespace = {"__name__": "__tracecot_user__", "__file__": filename,
                 "__builtins__": builtins}
    if req.get("path"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(req["path"])))
    sys.stdout, sys.stderr = _Stream(run, "stdout"), _Stream(run, "stderr")
    try:
        exec(code, namespace)
    except MemoryError:
        del reserve
        run.fail("memory_limit", f"loading the module used more than {req['memory_mb']} MB")
    except BaseException as e:
        line = _user_line(e.__traceback__, filename)
        run.fail("load_error", f"loading the module raised {type(e).__name__}: {e}"
                               + (f" (line {line})" if line else ""), line)

    func = _resolve(namespace, req["function"])
    if not callable(func):
        names = sorted(k for k, v in namespace.items()
                       if inspect.isfunction(v) and getattr(v, "__module__", "") == "__tracecot_user__")
        where = req.get("path") or "the source"
        run.fail("function_not_found", f"no function named {req['function']!r} in {where}"
                 + (f" (functions there: {', '.join(names)})" if names else ""))
    try:
        args, kwargs = _parse_args(req.get("args", ""), namespace)
    except ValueError as e:
        run.fail("bad_arguments", str(e))
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        sig = bound = None
    if sig is not None:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            run.fail("arity", f"wrong arguments for {req['function']}{sig}: {e}")
    if bound is not None:
        run.base["args"] = [[k, encode(v, RESULT_LIMITS)] for k, v in bound.arguments.items()]

    codes = _user_codes(code)
    hidden, for_targets = analyse_names(run.tree)
    deadline = time.monotonic() + max(0.05, req["timeout"] - 0.25)
    rec = Recorder(filename, max_steps=req["max_steps"], max_events=req["max_events"],
                   max_depth=req["max_depth"], deadline=deadline, on_limit=run.on_limit,
                   hidden_names=hidden, for_targets=for_targets)
    run.rec = rec
    backend = _backend_class()(rec, codes)
    run.base["backend"] = backend.name
    backend.install(_real_settrace)
    if hasattr(sys, "monitoring"):
        _guard_monitoring()
    run.backend = backend
    os.write(run.fd, b'{"phase":"call"}\n')   # lets the parent say where a timeout hit
    run.t0 = time.perf_counter()
    try:
        result = func(*args, **kwargs)
        exc = None
    except BaseException as e:
        exc, result = e, None
    backend.uninstall()
    run.backend = None
    del reserve

    fields = {}
    if exc is None:
        fields.update(status="returned", result=encode(result, RESULT_LIMITS))
    elif isinstance(exc, MemoryError):
        fields.update(status="error", error={
            "kind": "memory_limit", "line": _user_line(exc.__traceback__, filename),
            "message": f"the run used more than its memory limit ({req['memory_mb']} MB)"})
    else:
        try:
            msg = str(exc)
        except Exception:
            msg = ""
        fields.update(status="raised", exception={
            "type": type(exc).__name__, "message": msg[:2000],
            "line": _user_line(exc.__traceback__, filename),
            "value": encode(exc, RESULT_LIMITS)})
    if req.get("expected") is not None:
        fields["comparison"] = _compare(req["expected"], namespace, exc is None, result)
    run.finish(**fields)


def _compare(expected_src: str, namespace: dict, returned: bool, result) -> dict:
    try:
        expected = eval(compile(expected_src, "<expected>", "eval"), namespace)
    except BaseException as e:
        return {"expected": None, "canonical_equal": False, "python_equal": False,
                "error": f"could not evaluate the expected value: {type(e).__name__}: {e}"}
    out = {"expected": encode(expected, RESULT_LIMITS), "canonical_equal": False,
           "python_equal": False, "error": None}
    if returned:
        out["canonical_equal"] = values_equal(result, expected)
        try:
            out["python_equal"] = bool(result == expected)
        except BaseException as e:
            out["error"] = f"comparing with == raised {type(e).__name__}: {e}"
    return out
