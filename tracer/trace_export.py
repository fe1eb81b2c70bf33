"""Turn the recorder's compact tuples into schema JSON, adding loop iteration events.

Runs once per trace, in the child, after the call: nothing here is on the hot path.
"""

from __future__ import annotations

import ast

from .capture import export_value
from .schema import BIND, LINE, LOOP, MUTATE

_TUPLE_FIELDS = ("kind", "frame", "line", "name", "value", "ref")


def find_loops(tree) -> list[dict]:
    loops = []
    if tree is None:
        return loops
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and node.body:
            loops.append({"line": node.lineno,
                          "kind": "while" if isinstance(node, ast.While) else "for",
                          "body_start": node.body[0].lineno,
                          "body_end": max(getattr(s, "end_lineno", s.lineno) for s in node.body),
                          "end_line": node.end_lineno})
    loops.sort(key=lambda x: x["line"])
    return loops


def analyse_names(tree) -> tuple[frozenset, dict]:
    """(names bound only by comprehensions, {for header line: (target names, first body line)}).

    The first are hidden locals of inlined comprehensions on 3.12+; the second lets the
    recorder report a loop variable every iteration, even when it is rebound to the very same
    object (small ints are shared).
    """
    comp, elsewhere, targets = set(), set(), {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for gen in node.generators:
                comp.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor,
                               ast.With, ast.NamedExpr)):
            stores = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)]
            elsewhere.update(stores)
            if isinstance(node, (ast.For, ast.AsyncFor)):
                targets[node.lineno] = (tuple(n.id for n in ast.walk(node.target)
                                              if isinstance(n, ast.Name)), node.body[0].lineno)
        elif isinstance(node, ast.arg):
            elsewhere.add(node.arg)
    return frozenset(comp - elsewhere), targets


def _event_dicts(rec) -> list[dict]:
    out = []
    for ev in rec.events:
        d = {}
        for key, val in zip(_TUPLE_FIELDS, ev):
            if val is not None:
                d[key] = export_value(val) if key == "value" else val
        if len(ev) > 6 and ev[6]:
            d.update(ev[6])
            if "args" in d:
                d["args"] = [[n, export_value(v)] for n, v in d["args"]]
        out.append(d)
    return out


def add_loop_events(events: list[dict], loops: list[dict]) -> list[dict]:
    """Insert a LOOP event where each iteration of a loop starts.

    An iteration starts when its first body line runs (it runs exactly once per iteration,
    whatever the header line does on this Python version). The event goes before the
    bindings the header made for that iteration (the `for` target).
    """
    by_body = {lp["body_start"]: lp for lp in loops if lp["body_start"] != lp["line"]}
    if not by_body:
        return events
    active: dict[int, dict[int, int]] = {}     # frame -> {loop header: iterations so far}
    out: list[dict] = []
    for ev in events:
        if ev["kind"] == LINE:
            frame, line = ev["frame"], ev["line"]
            counters = active.setdefault(frame, {})
            for header in [h for h in counters if not _inside(loops, h, line)]:
                del counters[header]
            lp = by_body.get(line)
            if lp is not None:
                n = counters.get(lp["line"], 0) + 1
                counters[lp["line"]] = n
                at = len(out)
                while at > 0 and out[at - 1]["frame"] == frame and out[at - 1]["kind"] in (BIND, MUTATE) \
                        and out[at - 1]["line"] == lp["line"]:
                    at -= 1
                out.insert(at, {"kind": LOOP, "frame": frame, "line": lp["line"], "iteration": n})
        out.append(ev)
    return out


def _inside(loops: list[dict], header: int, line: int) -> bool:
    for lp in loops:
        if lp["line"] == header:
            return lp["line"] <= line <= lp["end_line"]
    return False


def build_trace(data: dict, rec, tree, source_lines: list[str]) -> None:
    """Fill `data` (the trace JSON) from the recorder."""
    loops = find_loops(tree)
    events = add_loop_events(_event_dicts(rec), loops)
    data["frames"] = [f for f in rec.frames if f is not None]
    data["events"] = events
    data["loops"] = loops
    used = {ev["line"] for ev in events if ev.get("line")}
    used.update(f["def_line"] for f in data["frames"])
    data["lines"] = {str(n): source_lines[n - 1] for n in sorted(used)
                     if 0 < n <= len(source_lines)}
    data["line_counts"] = {str(k): v for k, v in sorted(rec.line_counts.items())}
    data["steps"] = rec.steps
    data["truncated"] = not rec.recording


def _human_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} million times"
    if n >= 10_000:
        return f"{n / 1000:.0f} thousand times"
    return f"{n} time" + ("s" if n != 1 else "")


def hottest_line_message(line_counts: dict[int, int]) -> str:
    if not line_counts:
        return ""
    line, n = max(line_counts.items(), key=lambda kv: kv[1])
    hint = ": likely an infinite loop" if n >= 100_000 else ""
    return f"line {line} ran {_human_count(n)}{hint}"
