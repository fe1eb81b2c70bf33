"""Text claims checked against a run: what the run did, indexed by variable (`World`), and
the `Checker` that settles each claim in order ("ok", "wrong" with the true value, or
"unchecked" when the trace cannot settle it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..narration.analysis import Analysis, LoopRun, analyse, bound_value, fn_name
from .safe_eval import (SAFE_FUNCS, Undecodable, Unsafe, decode, equal_encoded, equal_py,
                        safe_eval)
from ..schema import OUTPUT, OUTPUT_CUT_MARK, RAISE, RETURN, RunRequest, Trace
from .text_claims import TextClaim
from ..values import encoded_equal, is_complete, render

__all__ = ["ClaimResult", "World", "Checker"]


@dataclass
class ClaimResult:
    claim: TextClaim
    verdict: str                  # ok | wrong | unchecked
    actual: str | None = None
    note: str = ""


@dataclass
class _Seg:
    start: int
    end: int
    value: dict
    frame: int


class World:
    """What the run did, indexed for checking text claims."""

    def __init__(self, trace: Trace, request: RunRequest):
        self.t = trace
        self.a: Analysis = analyse(trace, request)
        ev = trace.events
        n = len(ev)
        frame_end: dict[int, int] = {}
        for i, e in enumerate(ev):
            frame_end[e.frame] = i + 1
        root = self.a.root.frame if self.a.root is not None else 0
        frame_end[root] = n + 1
        self.segs: dict[str, list[_Seg]] = {}
        self.shaky: set[str] = set()     # names whose intermediate values may be unrecorded
        one_line = {lp.line for lp in trace.loops if lp.body_start == lp.line}
        for f in self.a.frames:
            for name in self.a.variables(f):
                idx, vals = self.a.timeline(f, name)
                for k, (i, v) in enumerate(zip(idx, vals, strict=True)):
                    end = idx[k + 1] if k + 1 < len(idx) else frame_end.get(f, n + 1)
                    self.segs.setdefault(name, []).append(_Seg(i, end, v, f))
                    line = ev[i].line
                    text = trace.lines.get(line, "")
                    if line in one_line or ";" in text or not is_complete(v):
                        self.shaky.add(name)
        for lst in self.segs.values():
            lst.sort(key=lambda s: s.start)
        self.fn_returns: dict[str, list[tuple[int, dict]]] = {}
        self.outputs: list[tuple[int, str]] = []
        self.raises: list[tuple[int, str]] = []
        for i, e in enumerate(ev):
            if e.kind == RETURN:
                fr = self.a.frame_of(e.frame)
                if fr is not None:
                    for key in {fn_name(fr), fr.function, fr.function.split(".")[-1]}:
                        self.fn_returns.setdefault(key, []).append((i, bound_value(e)))
            elif e.kind == OUTPUT:
                self.outputs.append((i, e.text or ""))
            elif e.kind == RAISE:
                self.raises.append((i, e.name or ""))
        self.loop_counts: list[tuple[int, int]] = []
        self.loops_complete = True
        for call in self.a.calls:
            self._walk(self.a.structure(call))
        self.top_names = {fn_name(self.a.frame_of(root)), trace.function,
                          trace.function.split(".")[-1], "f"} if self.a.root else {"f"}
        self.change_points: dict[str, list[int]] = {k: [s.start for s in v]
                                                    for k, v in self.segs.items()}
        # Calls nested deeper than the recorder's limit left no trace: what they did is
        # unknown, so nothing about the run is called wrong merely for not being seen.
        self.partial = trace.truncated or any(
            f.depth >= request.max_depth for f in trace.frames)

    def _walk(self, nodes) -> None:
        for nd in nodes:
            if isinstance(nd, LoopRun):
                if nd.complete:
                    self.loop_counts.append((nd.first_event, nd.count))
                else:
                    self.loops_complete = False
                for body in nd.iterations:
                    self._walk(body)

    def value_at(self, name: str, pos: int) -> dict | None:
        best = None
        for s in self.segs.get(name, ()):
            if s.start > pos:
                break
            if pos < s.end and (best is None or s.start >= best.start):
                best = s
        return best.value if best else None


class Checker:
    def __init__(self, world: World, mode: str):
        self.w = world
        self.cursor = 0
        self.mode = mode        # "forward" | "backward"

    def check(self, c: TextClaim) -> ClaimResult:
        try:
            return getattr(self, "_" + c.kind)(c)
        except (Unsafe, Undecodable, RecursionError, MemoryError):
            return ClaimResult(c, "unchecked", None, "could not evaluate")

    def _anywhere(self, c: TextClaim) -> bool:
        return self.mode == "backward" or c.past

    # -- variables
    def _value(self, c: TextClaim) -> ClaimResult:
        if c.subject.isidentifier():
            return self._var(c, lambda enc: equal_encoded(c.value, enc))
        return self._expr(c, lambda got: equal_py(got, c.value))

    def _truth(self, c: TextClaim) -> ClaimResult:
        if c.subject.isidentifier():
            def test(enc):
                try:
                    return bool(decode(enc)) == c.value, ""
                except (Undecodable, ValueError, SyntaxError):
                    return None, ""
            return self._var(c, test, truth=True)
        return self._expr(c, lambda got: (bool(got) == c.value, ""), truth=True)

    def _var(self, c: TextClaim, test, truth: bool = False) -> ClaimResult:
        w = self.w
        segs = w.segs.get(c.subject)
        if not segs:
            if c.subject in ("result", "output", "answer") and c.kind == "value":
                return self._returns(TextClaim("returns", "", c.value, c.text))
            return ClaimResult(c, "unchecked", None, f"{c.subject} is not a traced variable")
        unsure = False
        for s in segs:
            if s.end <= self.cursor:
                continue
            ok, note = test(s.value)
            if ok:
                self.cursor = max(self.cursor, s.start)
                return ClaimResult(c, "ok", None, note)
            if ok is None:
                unsure = True
        if True:
            for s in segs:
                if s.end > self.cursor:
                    break
                ok, note = test(s.value)
                if ok:
                    if self._anywhere(c):
                        return ClaimResult(c, "ok", None, note)
                    return ClaimResult(c, "wrong", self._values_from(c.subject, truth),
                                       f"{c.subject} had that value only earlier in the run")
                if ok is None:
                    unsure = True
        if unsure or c.subject in w.shaky or w.partial:
            return ClaimResult(c, "unchecked", None, "the trace cannot settle this value")
        return ClaimResult(c, "wrong", self._values_from(c.subject, truth),
                           f"{c.subject} never has that value")

    def _values_from(self, name: str, truth: bool = False) -> str:
        segs = [s for s in self.w.segs.get(name, ()) if s.end > self.cursor] or \
            self.w.segs.get(name, [])[-1:]
        out: list[str] = []
        for s in segs:
            r = render(s.value)
            if truth:
                try:
                    r = f"{r} ({'true' if decode(s.value) else 'false'})"
                except (Undecodable, ValueError, SyntaxError):
                    pass
            if r not in out:
                out.append(r)
        shown = out[:5] + (["…"] if len(out) > 5 else [])
        return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)

    def _env_at(self, names: list[str], pos: int) -> dict:
        env = {}
        for n in names:
            v = self.w.value_at(n, pos)
            if v is None:
                raise Unsafe
            env[n] = decode(v)
        return env

    def _expr(self, c: TextClaim, test, truth: bool = False) -> ClaimResult:
        node = ast.parse(c.subject, mode="eval").body
        names = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                        and not (n.id in SAFE_FUNCS and n.id not in self.w.segs)})
        if any(n not in self.w.segs for n in names):
            return ClaimResult(c, "unchecked", None, "names the trace does not know")
        if not names:                 # arithmetic on constants: true or false anywhere
            got = safe_eval(node, {})
            ok, note = test(got)
            if ok is None:
                return ClaimResult(c, "unchecked")
            return ClaimResult(c, "ok" if ok else "wrong", None if ok else repr(got), note)
        points = sorted({p for n in names for p in self.w.change_points[n]})
        later = [self.cursor] + [p for p in points if p > self.cursor]
        earlier = [p for p in points if p < self.cursor]
        results: list[object] = []     # the expression's values at the change points
        failed = False
        for group, moves in ((later[:400], True), (earlier[-400:], False)):
            for p in group:
                try:
                    got = safe_eval(node, self._env_at(names, p))
                except (ArithmeticError, LookupError, TypeError, ValueError):
                    continue          # no value at this point (e.g. the key is not there yet)
                except (Unsafe, Undecodable, AttributeError, RecursionError, MemoryError):
                    failed = True
                    continue
                ok, note = test(got)
                if ok:
                    if moves:
                        self.cursor = max(self.cursor, p)
                        return ClaimResult(c, "ok", None, note)
                    if self._anywhere(c):
                        return ClaimResult(c, "ok", None, note)
                if ok is None:
                    failed = True
                elif moves and got not in [r for r in results if type(r) is type(got)]:
                    results.append(got)
        if failed or any(n in self.w.shaky for n in names) or self.w.partial or \
                not results:
            return ClaimResult(c, "unchecked", None, "the trace cannot settle this value")
        shown = [repr(r) for r in results[:5]]
        return ClaimResult(c, "wrong", shown[0] if len(shown) == 1 else
                           "one of " + ", ".join(shown), f"{c.subject} never has that value")

    # -- results
    def _returns(self, c: TextClaim) -> ClaimResult:
        w, t = self.w, self.w.t
        who = c.subject
        if who and who not in w.top_names:
            rets = w.fn_returns.get(who)
            if not rets:
                return ClaimResult(c, "unchecked", None, f"{who} is not a traced function")
            if isinstance(c.value, tuple) and len(c.value) == 2 and c.value[0] == "expr":
                return ClaimResult(c, "unchecked")
            unsure = False
            for i, v in rets:
                ok, note = equal_encoded(c.value, v)
                if ok and (i >= self.cursor or self._anywhere(c)):
                    self.cursor = max(self.cursor, i)
                    return ClaimResult(c, "ok", None, note)
                unsure = unsure or ok is None
            if unsure or w.partial:
                return ClaimResult(c, "unchecked")
            vals = []
            for _, v in rets:
                if render(v) not in vals:
                    vals.append(render(v))
            return ClaimResult(c, "wrong", vals[0] if len(vals) == 1 else
                               "one of " + ", ".join(vals[:5]), f"{who} never returns that")
        if t.status != "returned":
            what = f"raises {t.exception.type}" if t.exception else "fails"
            return ClaimResult(c, "wrong", what, "the function does not return")
        if isinstance(c.value, tuple) and len(c.value) == 2 and c.value[0] == "expr":
            root = w.a.root
            end = root.end if root is not None and root.end is not None else len(t.events)
            node = ast.parse(c.value[1], mode="eval").body
            names = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                            and not (n.id in SAFE_FUNCS and n.id not in w.segs)})
            try:
                env = {}
                for n in names:
                    if root is None:
                        raise Unsafe          # no call whose variables it could read
                    at = w.a.value_at(root.frame, n, end)
                    if at is None:
                        raise Unsafe
                    env[n] = decode(at[1])
                got = safe_eval(node, env)
            except (Unsafe, Undecodable, ArithmeticError, LookupError, TypeError, ValueError,
                    AttributeError, RecursionError, MemoryError):
                return ClaimResult(c, "unchecked", None, "could not evaluate the expression")
            ok, note = equal_py(got, None, enc=t.result)
            if ok is None:
                return ClaimResult(c, "unchecked")
            return ClaimResult(c, "ok" if ok else "wrong", None if ok else _result_text(t),
                               note)
        ok, note = equal_encoded(c.value, t.result)
        if ok is None:
            return ClaimResult(c, "unchecked", None, "the result was cut short in the trace")
        if not ok and who:            # "f returns x" may be said of a recursive call of f
            for i, v in w.fn_returns.get(who, ()):
                if (i >= self.cursor or self._anywhere(c)) and equal_encoded(c.value, v)[0]:
                    self.cursor = max(self.cursor, i)
                    return ClaimResult(c, "ok", None, "a nested call of the function")
        return ClaimResult(c, "ok" if ok else "wrong", None if ok else _result_text(t), note)

    def _loop_count(self, c: TextClaim) -> ClaimResult:
        counts = [n for _, n in self.w.loop_counts]
        if c.value in counts:
            return ClaimResult(c, "ok")
        if not counts or not self.w.loops_complete or self.w.partial or \
                any(lp.body_start == lp.line for lp in self.w.t.loops):
            return ClaimResult(c, "unchecked", None, "no loop count to compare with")
        shown = sorted(set(counts))
        return ClaimResult(c, "wrong", ", ".join(map(str, shown[:6])),
                           "no loop runs that many times")

    def _appends(self, c: TextClaim) -> ClaimResult:
        w = self.w
        segs = w.segs.get(c.subject)
        if not segs:
            return ClaimResult(c, "unchecked", None, f"{c.subject} is not a traced variable")
        appended: list[tuple[int, dict]] = []
        prev: dict[int, dict] = {}
        for s in segs:
            old = prev.get(s.frame)
            prev[s.frame] = s.value
            v = s.value
            if old is None or v.get("t") != "list" or old.get("t") != "list":
                continue
            if len(v["items"]) >= 1 and v["items"][:-1] == old["items"]:
                appended.append((s.start, v["items"][-1]))
        # ("name", variable): the appended item is another variable's value
        named = c.value[1] if isinstance(c.value, tuple) and len(c.value) == 2 \
            and c.value[0] == "name" else None
        name_item = named is not None
        for pos, item in appended:
            if pos < self.cursor and not self._anywhere(c):
                continue
            ok: bool | None
            if named is not None:
                then = w.value_at(named, pos)
                ok = then is not None and encoded_equal(then, item)
            else:
                ok = equal_encoded(c.value, item)[0]
            if ok:
                self.cursor = max(self.cursor, pos)
                return ClaimResult(c, "ok")
        if name_item or not appended or c.subject in w.shaky or w.partial:
            return ClaimResult(c, "unchecked", None, "no matching append found")
        items = [render(i) for _, i in appended]
        return ClaimResult(c, "wrong", ", ".join(items[:6]),
                           f"appended to {c.subject}: {', '.join(items[:6])}")

    def _prints(self, c: TextClaim) -> ClaimResult:
        want = c.value if isinstance(c.value, str) else str(c.value)
        outs = self.w.outputs
        for i, text in outs:
            if i == self.w.a.cut_print:     # cut by the output cap: its complete lines only
                if want in text.split("\n")[:-1]:
                    return ClaimResult(c, "ok")
            elif text.rstrip("\n") == want or want in text.split("\n"):
                return ClaimResult(c, "ok")
        if self.w.partial or self.w.t.stdout.endswith(OUTPUT_CUT_MARK):
            return ClaimResult(c, "unchecked")
        got = ", ".join(repr(t.rstrip(chr(10))) for _, t in outs[:5]) or "nothing is printed"
        return ClaimResult(c, "wrong", got, "never printed")

    def _raises(self, c: TextClaim) -> ClaimResult:
        names = {n for _, n in self.w.raises}
        if self.w.t.exception is not None:
            names.add(self.w.t.exception.type)
        if c.subject in names:
            return ClaimResult(c, "ok")
        if self.w.partial:
            return ClaimResult(c, "unchecked")
        return ClaimResult(c, "wrong", ", ".join(sorted(names)) or "nothing is raised",
                           f"{c.subject} is never raised")


def _result_text(t: Trace) -> str:
    """The returned value, rendered (a trace that returned None may leave `result` out)."""
    return render(t.result) if t.result is not None else "None"
