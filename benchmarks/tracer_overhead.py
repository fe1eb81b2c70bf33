"""Tracer overhead on CruxEval: plain call vs our recorder vs PySnooper vs snoop, and warm
sandbox latency.

    .venv/bin/python benchmarks/tracer_overhead.py [--limit N] [--repeat R]

For every task (function `f`, its input as argument source):
  (a) plain   f(*args) in this process, timeit-style: best batch mean;
  (b) ours    tracecot's Recorder + the backend the child uses (settrace on 3.11,
              sys.monitoring on 3.12+) in this process, set up as tracer/child.py does but
              without the fork: record, then export to the trace JSON text
              (build_trace + dumps_trace: the work the sandboxed child does for a run before
              writing to its pipe); "record only" is shown too. The static analysis of the
              source (analyse_names: one AST walk for comprehension names, loop targets and
              loops) is done once per function at set-up, like compiling it; the child does it
              before the call too;
  (c) PySnooper  pysnooper.snoop(output=<null writer>, color=False), default depth (1);
  (d) snoop      snoop.Config(out=<null stream>, color=False).snoop, default depth (1);
  (e) sandbox    warm Sandbox().run (fork, trace, JSON back), one run at a time;
  (f) floor      a reference, not a tool: the least a line tracer in Python can do through
                 the interface our backend uses (sys.settrace on 3.11, sys.monitoring on
                 3.12+), i.e. keep each event's line number and the tuple of the frame's local
                 values, nothing compared, snapshotted, encoded or exported. Whatever a
                 pure-Python tracer of that kind records costs at least this.
Tracer timings are the best of R calls, each on fresh arguments (inputs get mutated), after one
warm-up call. Slowdown = tool time / plain time per task; geometric means are over the tasks
every in-process tool ran correctly (same result as the plain call).

Capture check: per task, the variable changes of the traced function's own frame that we
record (in-place mutations + rebindings to a different value) against PySnooper's
"Modified var" lines (PySnooper prints one whenever a variable's repr changes).

The machine's load average is printed with the results: timings on a shared machine move with
it.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tracecot.tracer import RunRequest, Sandbox
from tracecot.tracer.recording.recorder import Recorder
from tracecot.tracer.running.child import _backend_class, _user_codes
from tracecot.tracer.datasets import cruxeval_tasks
from tracecot.tracer.recording.export import analyse_names, build_trace, dumps_trace


LONG_STEPS = 50


class _Null(io.TextIOBase):
    def write(self, s):
        return len(s)

    def flush(self):
        pass


class _Stop(BaseException):
    """A limit was hit (the child would write a partial trace and exit)."""


# ------------------------------------------------------------------ the in-process tracer

class InProcessTracer:
    """tracer/child.py's recording set-up, minus the fork and the sandbox: compile once, then
    `trace(args, kwargs)` records one call and exports the trace as the child does."""

    def __init__(self, source: str, filename: str, namespace: dict, tree: ast.Module, code,
                 max_events: int = RunRequest.max_events):
        self.filename = filename
        self.tree = tree
        self.lines = source.splitlines()
        self.codes = _user_codes(code)
        self.hidden, self.for_targets = analyse_names(tree)
        self.func = namespace["f"]
        self.max_events = max_events

    def trace(self, args, kwargs) -> tuple[float, float, dict]:
        """(record seconds, record + export seconds, trace dict)."""
        def on_limit(kind):
            raise _Stop(kind)
        t0 = time.perf_counter()
        rec = Recorder(self.filename, max_steps=RunRequest.max_steps, max_events=self.max_events,
                       max_depth=RunRequest.max_depth, deadline=time.monotonic() + 3600,
                       on_limit=on_limit, hidden_names=self.hidden,
                       for_targets=self.for_targets)
        backend = _backend_class()(rec, self.codes)      # the one the child uses here
        backend.install(sys.settrace)
        try:
            result, exc = self.func(*args, **kwargs), None
        except BaseException as e:   # noqa: BLE001 - the traced function's own exception
            result, exc = None, e
        finally:
            backend.uninstall()
        t1 = time.perf_counter()
        data = {"status": "returned" if exc is None else "raised"}
        build_trace(data, rec, self.tree, self.lines)
        text = dumps_trace(data)            # what the child writes to its result pipe
        t2 = time.perf_counter()
        data = json.loads(text)
        data["_result"], data["_exc"] = result, exc
        return t1 - t0, t2 - t0, data


class FloorTracer:
    """(f): per event of the user's code, the line number and the tuple of local values."""
    __slots__ = ("codes", "events")

    def __init__(self, codes: set):
        self.codes = codes
        self.events: list = []

    def call(self, frame, event, arg):
        if frame.f_code in self.codes:
            self.events.append(tuple(frame.f_locals.values()))
            return self.local
        return None

    def local(self, frame, event, arg):
        self.events.append(frame.f_lineno)
        self.events.append(tuple(frame.f_locals.values()))
        return self.local


class FloorMonitor:
    """(f) on 3.12+, through sys.monitoring as our backend there: PY_START and LINE events on
    the user's code objects only, each keeping the line number and the tuple of local values."""
    __slots__ = ("codes", "events")
    TOOL = 0

    def __init__(self, codes: set):
        self.codes = [c for c in codes if c.co_name != "<module>"]
        self.events: list = []

    def install(self) -> None:
        mon = sys.monitoring
        mon.use_tool_id(self.TOOL, "tracecot-floor")
        mon.register_callback(self.TOOL, mon.events.PY_START, self.start)
        mon.register_callback(self.TOOL, mon.events.LINE, self.line)
        for code in self.codes:
            mon.set_local_events(self.TOOL, code, mon.events.PY_START | mon.events.LINE)

    def uninstall(self) -> None:
        mon = sys.monitoring
        for code in self.codes:
            mon.set_local_events(self.TOOL, code, 0)
        mon.free_tool_id(self.TOOL)

    def start(self, code, offset):
        self.events.append(tuple(sys._getframe(1).f_locals.values()))

    def line(self, code, lineno):
        self.events.append(lineno)
        self.events.append(tuple(sys._getframe(1).f_locals.values()))


FLOOR_BACKEND = "monitoring" if sys.version_info >= (3, 12) else "settrace"


def _floor_call(fn, codes: set):
    if FLOOR_BACKEND == "monitoring":
        def call(a, k):
            floor = FloorMonitor(codes)
            floor.install()
            try:
                return _outcome(fn, a, k)
            finally:
                floor.uninstall()
        return call

    def call(a, k):
        floor = FloorTracer(codes)
        sys.settrace(floor.call)
        try:
            return _outcome(fn, a, k)
        finally:
            sys.settrace(None)
    return call


# ------------------------------------------------------------------ one task

def _fresh_args(namespace: dict, args_src: str):
    namespace["__bench_capture__"] = lambda *a, **k: (a, k)
    maker = eval(compile(f"lambda: __bench_capture__({args_src})", "<args>", "eval"), namespace)
    maker()   # fails early if the arguments do not evaluate
    return maker


def _same(a, b) -> bool:
    try:
        return bool(a == b) or repr(a) == repr(b)
    except Exception:   # noqa: BLE001
        return repr(a) == repr(b)


def _outcome(fn, args, kwargs):
    try:
        return ("returned", fn(*args, **kwargs))
    except Exception as e:   # noqa: BLE001
        return ("raised", type(e).__name__)


def _time_plain(fn, maker, repeat: int) -> float:
    """Best mean over `repeat` batches, the batch size grown until a batch takes >= 2 ms."""
    number = 1
    while _batch_seconds(fn, [maker() for _ in range(number)]) < 0.002 and number < 4096:
        number *= 4
    return min(_batch_seconds(fn, [maker() for _ in range(number)]) / number
               for _ in range(repeat))


def _batch_seconds(fn, argsets) -> float:
    """Seconds to call `fn` on each (args, kwargs) of `argsets`, the function's own
    exceptions included."""
    t0 = time.perf_counter()
    for a, k in argsets:
        try:
            fn(*a, **k)
        except Exception:   # noqa: BLE001
            pass
    return time.perf_counter() - t0


def _best_of(call, maker, repeat: int) -> tuple[float, object]:
    call(*maker())                      # warm-up (source reading, caches)
    best, last = math.inf, None
    for _ in range(repeat):
        a, k = maker()
        t0 = time.perf_counter()
        last = call(a, k)
        best = min(best, time.perf_counter() - t0)
    return best, last


def _changes_in_top_frame(trace: dict) -> tuple[int, int]:
    """(in-place mutations, variable changes) in frame 0, counted as PySnooper counts its
    "Modified var" lines: one per variable whose value changed, so a mutation seen through
    two names (one event of ours, with `aliases`) counts twice, and a rebinding counts when the
    new value's encoding differs from the old one's."""
    mutations = changes = 0
    last: dict[str, object] = {}
    for ev in trace.get("events", []):
        if ev.get("frame") != 0:
            continue
        if ev["kind"] == "call":
            for name, value in ev.get("args") or []:
                last[name] = value
        elif ev["kind"] == "mutate":
            names = [ev["name"], *(ev.get("aliases") or [])]
            mutations += 1
            changes += len(names)
            for name in names:
                last[name] = ev.get("value")
        elif ev["kind"] == "bind":
            name = ev["name"]
            if name in last and last[name] != ev.get("value"):
                changes += 1
            last[name] = ev.get("value")
    return mutations, changes


_MODIFIED = re.compile(r"Modified var:\.* ([A-Za-z_]\w*) = ")


def _comprehension_only_names(tree: ast.Module) -> set[str]:
    """Names bound only as comprehension variables: not the function's variables in Python's
    scoping, though 3.12+ (PEP 709) runs comprehensions in the function's frame, where
    PySnooper sees them change; our schema keeps them out on every version."""
    comp, own = set(), set()
    todo: list[tuple[ast.AST, bool]] = [(tree, False)]
    while todo:
        n, inside = todo.pop()
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for g in n.generators:
                comp.update(x.id for x in ast.walk(g.target) if isinstance(x, ast.Name))
            inside = True
        elif isinstance(n, ast.arg):
            own.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and not inside:
            own.add(n.id)
        todo.extend((c, inside) for c in ast.iter_child_nodes(n))
    return comp - own


def bench_task(task, workdir: Path, repeat: int, pysnooper, snoop) -> dict:
    row = {"id": task.id}
    path = workdir / f"{task.id}.py"
    path.write_text(task.code, encoding="utf-8")
    filename = str(path)
    tree = ast.parse(task.code, filename)
    code = compile(tree, filename, "exec")
    namespace = {"__name__": f"cruxeval_{task.id}", "__file__": filename}
    try:
        exec(code, namespace)
        maker = _fresh_args(namespace, task.args)
    except Exception as e:   # noqa: BLE001
        row["setup_error"] = f"{type(e).__name__}: {e}"
        return row
    fn = namespace["f"]
    expected = _outcome(fn, *maker())
    row["plain"] = _time_plain(fn, maker, repeat)

    ours = InProcessTracer(task.code, filename, namespace, tree, code)
    try:
        best = math.inf, math.inf
        ours.trace(*maker())   # warm-up
        data = None
        for _ in range(repeat):
            a, k = maker()
            rec_s, total_s, data = ours.trace(a, k)
            best = min(best[0], rec_s), min(best[1], total_s)
        got = ("returned", data["_result"]) if data["_exc"] is None else \
            ("raised", type(data["_exc"]).__name__)
        row["ours_ok"] = got[0] == expected[0] and _same(got[1], expected[1])
        row["ours_record"], row["ours"] = best
        row["ours_truncated"] = data.get("truncated", False)
        row["steps"] = data.get("steps", 0)
    except _Stop as e:
        row["ours_ok"], row["ours_error"] = False, f"limit: {e}"
    # Capture check: no event cap, so that the counts compare what each tool can see.
    full = InProcessTracer(task.code, filename, namespace, tree, code, max_events=10**7)
    try:
        _, _, data = full.trace(*maker())
        row["ours_mutations"], row["ours_changes"] = _changes_in_top_frame(data)
    except _Stop:
        pass

    row["floor"], got = _best_of(_floor_call(fn, ours.codes), maker, repeat)
    row["floor_ok"] = got[0] == expected[0] and _same(got[1], expected[1])
    for name, wrap in (("pysnooper", lambda out: pysnooper.snoop(output=out, color=False)(fn)),
                       ("snoop", lambda out: snoop.Config(out=out, color=False).snoop(fn))):
        try:
            traced = wrap(_Null())
            row[name], got = _best_of(lambda a, k, t=traced: _outcome(t, a, k), maker, repeat)
            row[f"{name}_ok"] = got[0] == expected[0] and _same(got[1], expected[1])
        except Exception as e:   # noqa: BLE001 - the tool itself failed
            row[f"{name}_ok"], row[f"{name}_error"] = False, f"{type(e).__name__}: {e}"
    if row.get("pysnooper_ok"):
        out = io.StringIO()
        _outcome(pysnooper.snoop(output=out, color=False)(fn), *maker())
        names = _MODIFIED.findall(out.getvalue())
        comp_only = _comprehension_only_names(tree)
        row["pysnooper_modified"] = sum(n not in comp_only for n in names)
        row["pysnooper_comprehension"] = sum(n in comp_only for n in names)
    return row


# ------------------------------------------------------------------ report

def _geomean(values) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def _pct(values, q) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    i = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
    return values[i]


def sandbox_latency(tasks, repeat: int) -> dict:
    latencies, ok = [], 0
    with Sandbox() as sb:
        sb.run(RunRequest(function="f", source="def f():\n    return 1\n"))   # start it: warm
        for task in tasks:
            best = math.inf
            for _ in range(max(1, repeat // 2)):
                t0 = time.perf_counter()
                t = sb.run(RunRequest(function="f", args=task.args, source=task.code,
                                      expected=task.expected))
                best = min(best, time.perf_counter() - t0)
            latencies.append(best)
            ok += t.status == "returned" and bool(t.comparison and t.comparison.python_equal)
    return {"median_ms": statistics.median(latencies) * 1000,
            "p95_ms": _pct(latencies, 95) * 1000, "mean_ms": statistics.fmean(latencies) * 1000,
            "ok": ok, "n": len(latencies)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N CruxEval tasks (all: 800)")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls per tool and task")
    ap.add_argument("--json", metavar="PATH", help="also write per-task rows as JSON")
    a = ap.parse_args(argv)
    import pysnooper
    import snoop

    tasks = cruxeval_tasks(a.limit)
    load_before = os.getloadavg()
    t_start = time.perf_counter()
    rows = []
    null = _Null()
    with tempfile.TemporaryDirectory(prefix="tracecot-bench-") as tmp, \
            contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        for task in tasks:
            rows.append(bench_task(task, Path(tmp), a.repeat, pysnooper, snoop))
    t_inprocess = time.perf_counter() - t_start
    load_mid = os.getloadavg()
    sand = sandbox_latency(tasks, a.repeat)
    load_after = os.getloadavg()

    n = len(rows)
    plain_ok = [r for r in rows if "plain" in r]
    common = [r for r in plain_ok if r.get("ours_ok") and r.get("pysnooper_ok")
              and r.get("snoop_ok") and r.get("floor_ok")]
    slow = {tool: _geomean(r[tool] / r["plain"] for r in common)
            for tool in ("ours_record", "ours", "pysnooper", "snoop", "floor")}
    print(f"tracer overhead on CruxEval: {n} tasks, {a.repeat} timed calls per tool and task, "
          f"Python {sys.version.split()[0]} (our backend: {_backend_class().name}), "
          f"{os.cpu_count()} CPUs")
    print(f"load average (1/5/15 min): before {_fmt_load(load_before)}, after the in-process "
          f"part {_fmt_load(load_mid)}, after the sandbox part {_fmt_load(load_after)}")
    print()
    print(f"{'tool':36s} {'runs correctly':>16s} {'geomean slowdown':>17s} "
          f"{'median time':>12s}")
    labels = {"plain": "(a) plain call", "ours_record": "(b) ours, record only",
              "ours": "(b) ours, record + export JSON", "pysnooper": "(c) PySnooper",
              "snoop": "(d) snoop", "floor": f"(f) floor: {FLOOR_BACKEND} + locals tuple"}
    oks = {"plain": len(plain_ok), "ours_record": sum(bool(r.get("ours_ok")) for r in rows),
           "ours": sum(bool(r.get("ours_ok")) for r in rows),
           "pysnooper": sum(bool(r.get("pysnooper_ok")) for r in rows),
           "snoop": sum(bool(r.get("snoop_ok")) for r in rows),
           "floor": sum(bool(r.get("floor_ok")) for r in rows)}
    for tool, label in labels.items():
        times = [r[tool] for r in common]
        factor = "1.0x" if tool == "plain" else f"{slow[tool]:.1f}x"
        print(f"{label:36s} {oks[tool]:>7d}/{n} {100 * oks[tool] / n:5.1f}% {factor:>17s} "
              f"{_fmt_s(statistics.median(times)) if times else '-':>12s}")
    print(f"(slowdowns over the {len(common)} tasks every in-process tool ran correctly)")
    print()
    r_py = slow["ours"] / slow["pysnooper"]
    r_sn = slow["ours"] / slow["snoop"]
    print(f"ours / PySnooper slowdown: {r_py:.3f}  (goal <= 0.100: "
          f"{'met' if r_py <= 0.1 else 'NOT met'}); record only: "
          f"{slow['ours_record'] / slow['pysnooper']:.3f}")
    print(f"floor / PySnooper slowdown: {slow['floor'] / slow['pysnooper']:.3f} (what a "
          f"pure-Python {FLOOR_BACKEND} tracer costs before it records any value)")
    print(f"ours / snoop slowdown:     {r_sn:.3f}; record only: "
          f"{slow['ours_record'] / slow['snoop']:.3f}")
    # Fixed per-call costs dominate the tiny calls; per executed line, and on the longer calls,
    # they matter less.
    long_ = [r for r in common if r.get("steps", 0) >= LONG_STEPS]
    if long_:
        per_line = {tool: statistics.median((r[tool] - r["plain"]) / r["steps"] for r in long_)
                    for tool in ("ours_record", "ours", "pysnooper", "snoop", "floor")}
        slow_long = {tool: _geomean(r[tool] / r["plain"] for r in long_)
                     for tool in ("ours_record", "ours", "pysnooper", "snoop")}
        print(f"on the {len(long_)} calls of >= {LONG_STEPS} executed lines: ours / PySnooper "
              f"{slow_long['ours'] / slow_long['pysnooper']:.3f} (record only "
              f"{slow_long['ours_record'] / slow_long['pysnooper']:.3f}), ours / snoop "
              f"{slow_long['ours'] / slow_long['snoop']:.3f}; cost per executed line "
              f"(median): ours {_fmt_s(per_line['ours_record'])} recording, "
              f"{_fmt_s(per_line['ours'])} with export; PySnooper "
              f"{_fmt_s(per_line['pysnooper'])}; snoop {_fmt_s(per_line['snoop'])}; floor "
              f"{_fmt_s(per_line['floor'])} (one tenth of PySnooper's: "
              f"{_fmt_s(per_line['pysnooper'] / 10)})")
    print()
    print(f"(e) warm sandbox runs (fork, trace, JSON back), {sand['n']} tasks, one at a time, "
          f"best of {max(1, a.repeat // 2)} per task:")
    print(f"    median {sand['median_ms']:.1f} ms, p95 {sand['p95_ms']:.1f} ms, mean "
          f"{sand['mean_ms']:.1f} ms (goal: median < 15 ms: "
          f"{'met' if sand['median_ms'] < 15 else 'NOT met'}); correct result "
          f"{sand['ok']}/{sand['n']} ({100 * sand['ok'] / max(1, sand['n']):.1f}%)")
    print()
    compared = [r for r in rows if "pysnooper_modified" in r and "ours_changes" in r]
    ours_mut = sum(r["ours_mutations"] for r in compared)
    ours_chg = sum(r["ours_changes"] for r in compared)
    theirs = sum(r["pysnooper_modified"] for r in compared)
    comp = sum(r.get("pysnooper_comprehension", 0) for r in compared)
    short = [r["id"] for r in compared if r["ours_changes"] < r["pysnooper_modified"]]
    print(f"capture check over {len(compared)} tasks (the traced function's own frame, no event "
          f"cap): we record {ours_mut} in-place mutation events and {ours_chg} variable "
          f"changes in all (each name of a mutated object + rebindings to a new value); "
          f"PySnooper prints {theirs} 'Modified var' lines"
          + (f" (and {comp} more for comprehension variables, which Python 3.12+ runs in the "
             f"function's frame: not the function's variables, and not in our trace on any "
             f"version)" if comp else "") + ".")
    print(f"    tasks where we record fewer changes than PySnooper reports: {len(short)}"
          + (f" ({', '.join(short[:10])}{'...' if len(short) > 10 else ''})" if short else "")
          + f" -> we capture at least what PySnooper captures: {'yes' if not short else 'NO'}")
    trunc = sum(bool(r.get("ours_truncated")) for r in rows)
    print(f"    tasks whose default trace hit the {RunRequest.max_events:,}-event cap: {trunc}")
    failed = [(r["id"], k, r[k]) for r in rows for k in r if k.endswith("_error")]
    if failed:
        print(f"tool failures ({len(failed)}): " + "; ".join(f"{i} {k[:-6]}: {v[:60]}"
                                                        for i, k, v in failed[:8]))
    print(f"wall time: in-process part {t_inprocess:.0f} s, total "
          f"{time.perf_counter() - t_start:.0f} s")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, default=str, indent=1))
    return 0


def _fmt_load(load) -> str:
    return "/".join(f"{x:.2f}" for x in load)


def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
