"""The backward narrative: from the result back to the arguments along the data flow.

Starting at the line that returned (or raised), each step names a variable that line read,
the lines that gave it its final value (the last binding, earlier bindings when that one
read the variable itself, as in `x += 1`, and every in-place change since), and the
variables those lines read, down to the parameters (and, for a call nested below the top,
through the call site to the caller's variables). Only dependencies found in the trace and
in the source lines' syntax trees are stated; every step carries checkable claims.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis, Call, Unit, analyse, args_value, event_value, fn_name
from .narrative import (VALUE_CHARS_MD, VALUE_CHARS_PLAIN, Claim, Narrative, Step,
                        TraceSummary, join_words, outcome_claims, request_for, short, tick)
from ..schema import BIND, CALL, CAUGHT, MUTATE, RAISE, RETURN, RunRequest, Trace
from .source_lines import code_text, names_read
from ..values import encode

MAX_STEPS = 40
LOOP_VALUES = 8


@dataclass
class _Item:
    frame: int
    name: str
    before: int          # the value the variable had just before this event index
    depth: int


class _Backward:
    def __init__(self, trace: Trace, request: RunRequest | None):
        self.t = trace
        self.a: Analysis = analyse(trace, request)
        # Frames the call itself runs (a class call: its __new__ and __init__ too)
        self.top = {c.frame for c in self.a.roots}
        self.steps: list = []
        self.seen: set[tuple[int, str]] = set()
        self.params: list[tuple[str, dict | None]] = []
        self._unit_at: dict[int, Unit] | None = None
        self.untraceable = False

    def add(self, depth: int, line: int | None, md: str, plain: str, claims: list[Claim]):
        self.steps.append(Step(len(self.steps) + 1, depth, line, md, claims, plain))

    def unit_at(self, index: int) -> Unit | None:
        if self._unit_at is None:
            self._unit_at = {}
            for units in self.a.frame_units.values():
                for u in units:
                    for it in u.items:
                        if isinstance(it, int):
                            self._unit_at[it] = u
        return self._unit_at.get(index)

    def known(self, frame: int, name: str, before: int) -> bool:
        idx, _ = self.a.timeline(frame, name)
        return bool(idx) and idx[0] < before

    def fname(self, frame: int) -> str:
        return fn_name(self.a.frame_of(frame))

    # -- the start: what ended the call
    def start(self) -> list[_Item]:
        t, a = self.t, self.a
        root = a.root
        if root is None:
            return []
        frame = root.frame
        init = next((c for c in reversed(a.roots) if c.end is not None and
                     a.frame_at(c.frame).function == f"{t.function}.__init__"), None)
        init_end = init.end if init is not None else None
        if t.status == "returned" and init is not None and init_end is not None \
                and a.events[init_end].kind == RETURN:
            # A class was called: the output is the instance its __init__ leaves behind.
            e = a.events[init_end]
            code = code_text(t.lines.get(e.line))
            md = (f"The output {tick(short(t.result, VALUE_CHARS_MD))} is the new instance, "
                  f"`self` in {tick(a.frame_at(init.frame).function)} as it returns at line "
                  f"{e.line}: {tick(code)}.")
            pl = (f"Calling the class {t.function} gives the new instance, self in its "
                  f"__init__, which returns at line {e.line} ({code}); the output is "
                  f"{short(t.result, VALUE_CHARS_PLAIN)}.")
            self.add(0, e.line, md, pl, outcome_claims(t))
            return [_Item(init.frame, "self", init_end, 1)] \
                if self.known(init.frame, "self", init_end) else []
        if t.status == "returned" and root.end is not None and \
                a.events[root.end].kind == RETURN:
            e = a.events[root.end]
            code = code_text(t.lines.get(e.line))
            claims = [Claim("returns", e.line, a.frame_at(frame).function, event_value(e),
                            root.end, frame)]
            md = (f"The output {tick(short(e.value, VALUE_CHARS_MD))} is what "
                  f"{tick(t.function)} returns at line {e.line}: {tick(code)}.")
            pl = (f"The function returns at line {e.line} ({code}), and the output is "
                  f"{short(e.value, VALUE_CHARS_PLAIN)}.")
            self.add(0, e.line, md, pl, claims)
            return self.reads(frame, e.line, root.end, 1, self.unit_at(root.end))
        if t.status == "returned":       # the record stopped before the return
            md = (f"The output {tick(short(t.result, VALUE_CHARS_MD))} cannot be traced "
                  f"back: the trace stops after {len(a.events)} recorded events, before "
                  f"{tick(t.function)} returns.")
            pl = (f"The output is {short(t.result, VALUE_CHARS_PLAIN)}, but the trace stops "
                  "before the return, so it cannot be traced back.")
            self.add(0, None, md, pl, outcome_claims(t))
            self.untraceable = True
            return []
        if t.status == "error":
            msg = t.error.message if t.error else "the run failed"
            self.add(0, None, f"The run did not finish ({msg}), so there is no output to "
                     "trace back.", f"The run did not finish ({msg}).", outcome_claims(t))
            return []
        # Raised: start where the exception was raised (possibly in a nested call).
        raise_i = self.final_raise()
        if t.status == "raised" and raise_i is None:
            ex = t.exception
            at = f" at line {ex.line}" if ex is not None and ex.line else ""
            name = ex.type if ex is not None else "an exception"
            md = (f"The call raises {tick(name)}{at}, where the trace does not show it "
                  "(the record stops earlier, or the call that raised it is nested too deep "
                  "to be recorded), so it cannot be traced back.")
            pl = f"The call raises {name}{at}; the trace does not show where, so it cannot " \
                "be traced back."
            self.add(0, None, md, pl, outcome_claims(t))
            self.untraceable = True
            return []
        if t.status == "raised" and raise_i is not None:
            e = a.events[raise_i]
            code = code_text(t.lines.get(e.line))
            where = "" if e.frame == frame else f" in {tick(self.fname(e.frame))}"
            claims = [Claim("raises", e.line, e.name, encode(e.text or ""), raise_i, e.frame)]
            exc = e.name or ""      # a RAISE event names its exception's type
            md = (f"The call raises {tick(exc)} at line {e.line}{where}: {tick(code)}.")
            pl = f"The exception {e.name} is raised at line {e.line} ({code})."
            self.add(0, e.line, md, pl, claims)
            return self.reads(e.frame, e.line, raise_i, 1, self.unit_at(raise_i))
        return []

    def final_raise(self) -> int | None:
        """Index of the RAISE event of the exception the call ends with, only when the trace
        proves it: the top call's end is recorded, nothing caught it since, and it is the
        same type raised at the same line (else it was raised where nothing was recorded)."""
        a = self.a
        root, ex = a.root, self.t.exception
        if root is None or root.end is None or ex is None:
            return None
        for i in range(len(a.events) - 1, -1, -1):
            e = a.events[i]
            if e.kind == CAUGHT:
                return None
            if e.kind == RAISE:
                same = e.name == ex.type and (ex.line is None or e.line == ex.line)
                return i if same else None
        return None

    def reads(self, frame: int, line: int, before: int, depth: int, unit: Unit | None
              ) -> list[_Item]:
        """Variables of `frame` that `line` read (just before event `before`), plus what the
        calls made on that line returned (said in one step)."""
        if unit is not None:
            self.calls_on(unit, depth)
        out = []
        for name in names_read(self.t.lines.get(line, "")):
            if self.known(frame, name, before) and (frame, name) not in self.seen:
                out.append(_Item(frame, name, before, depth))
        return out

    def calls_on(self, unit: Unit, depth: int) -> None:
        calls = [it for it in unit.items if isinstance(it, Call) and not it.resumed]
        if not calls:
            return
        parts_md, parts_pl, claims = [], [], []
        for c in calls[:4]:
            f = self.a.frame_of(c.frame)
            e = self.a.events[c.start] if c.start is not None else None
            end = self.a.events[c.end] if c.end is not None else None
            if e is None or end is None or end.kind != RETURN:
                continue
            claims.append(Claim("calls", e.line, f.function if f else e.name,
                                args_value(e.args), c.start, c.frame))
            claims.append(Claim("returns", end.line, f.function if f else e.name,
                                event_value(end), c.end, c.frame))
            name = fn_name(f)
            shown = "lambda" if name == "the lambda" else name
            args = ", ".join(f"{n}={short(v, 40)}" for n, v in e.args or [])
            parts_md.append(f"{tick(f'{shown}({args})')} returns {tick(short(end.value))}")
            parts_pl.append(f"{shown}({args}) returns {short(end.value, VALUE_CHARS_PLAIN)}")
        if parts_md:
            more = f" (and {len(calls) - 4} more calls)" if len(calls) > 4 else ""
            self.add(depth, unit.line, f"On line {unit.line}, " + join_words(parts_md) + more + ".",
                     f"On line {unit.line}, " + join_words(parts_pl) + more + ".", claims)

    # -- one variable
    def explain(self, item: _Item) -> list[_Item]:
        a, t = self.a, self.t
        frame, name, before, depth = item.frame, item.name, item.before, item.depth
        self.seen.add((frame, name))
        idx, vals = a.timeline(frame, name)
        k = max(j for j in range(len(idx)) if idx[j] < before)
        chain: list[int] = []
        while k >= 0:
            i = idx[k]
            e = a.events[i]
            chain.append(i)
            if e.kind == CALL:
                break
            if e.kind == BIND and name not in names_read(t.lines.get(e.line, "")):
                if not self._is_for_target(e):
                    break
                # a loop variable: every value it took in this loop tells where it came from
                k -= 1
                while k >= 0 and a.events[idx[k]].kind == BIND and \
                        a.events[idx[k]].line == e.line:
                    chain.append(idx[k])
                    k -= 1
                break
            k -= 1
        chain.reverse()
        first = a.events[chain[0]]
        groups: dict[int, list[int]] = {}
        for i in chain[1:] if first.kind == CALL or self._is_for_target(first) else chain:
            groups.setdefault(a.events[i].line, []).append(i)
        if self._is_for_target(first):
            loop_binds = [i for i in chain if a.events[i].kind == BIND
                          and a.events[i].line == first.line]
            groups.pop(first.line, None)
        claims: list[Claim] = []
        md_parts, pl_parts = [], []
        nxt: list[_Item] = []
        caller_md = caller_pl = ""
        # Where the value came from.
        if first.kind == CALL:
            pv = dict((n, v) for n, v in first.args or []).get(name)
            claims.append(Claim("value", first.line, name, pv, chain[0], frame))
            if frame in self.top:
                self.params.append((name, pv))
                md_parts.append(f"{tick(name)} is an argument of the call: "
                                f"{tick(f'{name} = {short(pv)}')}")
                pl_parts.append(f"{name} is an argument: {name} = "
                                f"{short(pv, VALUE_CHARS_PLAIN)}")
            else:
                f = a.frame_at(frame)
                caller = a.frame_of(f.parent) if f.parent is not None else None
                site = code_text(t.lines.get(f.call_line)) if f.call_line else ""
                md_parts.append(f"{tick(name)} is an argument of {tick(fn_name(f))}: "
                                f"{tick(f'{name} = {short(pv)}')}")
                pl_parts.append(f"{name} is an argument of {fn_name(f)}: {name} = "
                                f"{short(pv, VALUE_CHARS_PLAIN)}")
                if caller is not None and f.call_line is not None:
                    caller_md = (f"; {tick(fn_name(f))} was called at line {f.call_line} by "
                                 f"{tick(site)} in {tick(fn_name(caller))}")
                    caller_pl = (f"; {fn_name(f)} was called at line {f.call_line} ({site}) "
                                 f"in {fn_name(caller)}")
                    for n in names_read(t.lines.get(f.call_line, "")):
                        if self.known(caller.id, n, chain[0]) and (caller.id, n) not in self.seen:
                            nxt.append(_Item(caller.id, n, chain[0], depth + 1))
        elif self._is_for_target(first):
            pick = loop_binds if len(loop_binds) <= LOOP_VALUES else \
                loop_binds[: LOOP_VALUES - 2] + loop_binds[-2:]
            claims.extend(Claim("binds", first.line, name, event_value(a.events[i]), i, frame)
                          for i in pick)
            shown = [short(event_value(a.events[i]), 40) for i in pick]
            if len(loop_binds) > len(pick):
                shown = shown[: LOOP_VALUES - 2] + ["…"] + shown[-2:]
            code = code_text(t.lines.get(first.line))
            md_parts.append(f"{tick(name)} is the loop variable of {tick(code)} (line "
                            f"{first.line}); it took " + ", ".join(shown))
            pl_parts.append(f"{name} is the loop variable at line {first.line}; it took the "
                            "values " + ", ".join(x.replace("…", "...") for x in shown))
            nxt.extend(self._reads_of(frame, first.line, chain[-1], depth, name, nxt))
        else:
            line = first.line
            evs = groups.pop(line)
            code = code_text(t.lines.get(line))
            kind = "binds" if first.kind == BIND else "mutates"
            claims.append(Claim(kind, line, name, event_value(first), chain[0], frame))
            verb = "was set to" if first.kind == BIND else "was changed in place to"
            md_parts.append(f"{tick(name)} {verb} {tick(short(event_value(first)))} at line "
                            f"{line} by {tick(code)}")
            pl_parts.append(f"{name} {verb} {short(event_value(first), VALUE_CHARS_PLAIN)} at "
                            f"line {line} ({code})")
            nxt.extend(self._reads_of(frame, line, evs[-1], depth, name, nxt))
            if len(evs) > 1:
                groups = {line: evs[1:], **groups}
        # What changed it afterwards.
        if groups:
            kinds = {a.events[i].kind for evs in groups.values() for i in evs}
            verb = ("changed in place" if kinds == {MUTATE} else
                    "set again" if kinds == {BIND} else "changed")
            loops = {self._loop_of(line) for line in groups}
            where_md, where_pl = [], []
            for line, evs in groups.items():
                e_last = a.events[evs[-1]]
                claims.append(Claim("binds" if e_last.kind == BIND else "mutates", line, name,
                                    event_value(e_last), evs[-1], frame))
                code = code_text(t.lines.get(line))
                where_md.append(f"line {line} ({tick(code)})")
                where_pl.append(f"line {line} ({code})")
                nxt.extend(self._reads_of(frame, line, evs[-1], depth, name, nxt))
                if len(evs) == 1:
                    u = self.unit_at(evs[-1])
                    if u is not None:
                        self.calls_on(u, depth + 1)
            loop_txt = ""
            if len(loops) == 1 and None not in loops:
                loop_txt = f" in the loop at line {loops.pop()}"
            final = event_value(a.events[chain[-1]])
            md_parts.append(f"then {verb} at {join_words(where_md)}{loop_txt}, ending as "
                            f"{tick(short(final))}")
            pl_parts.append(f"then {verb} at {join_words(where_pl)}{loop_txt}, ending as "
                            f"{short(final, VALUE_CHARS_PLAIN)}")
        in_fn = "" if frame in self.top else f" (in {tick(self.fname(frame))})"
        in_fn_pl = "" if frame in self.top else f" (in {self.fname(frame)})"
        reads = [x.name for x in nxt if x.frame == frame]
        tail_md = f"; these lines read {join_words([tick(r) for r in reads])}" if reads else ""
        tail_pl = f"; these lines read {join_words(reads)}" if reads else ""
        md = ", ".join(md_parts) + in_fn + caller_md + tail_md + "."
        pl = ", ".join(pl_parts) + in_fn_pl + caller_pl + tail_pl + "."
        self.add(depth, a.events[chain[-1]].line, md, pl, claims)
        return nxt

    def _reads_of(self, frame: int, line: int, before: int, depth: int, name: str,
                  have: list[_Item]) -> list[_Item]:
        out: list[_Item] = []
        for it in self.reads(frame, line, before, depth + 1, None):
            if it.name != name and all((it.frame, it.name) != (x.frame, x.name)
                                       for x in have + out):
                out.append(it)
        return out

    def _is_for_target(self, e) -> bool:
        lp = self.a.loops.get(e.line)
        return e.kind == BIND and lp is not None and lp.kind == "for"

    def _loop_of(self, line: int) -> int | None:
        best = None
        for lp in self.a.trace.loops:
            if lp.line <= line <= lp.body_end and (best is None or lp.line > best):
                best = lp.line
        return best

    def run(self) -> None:
        queue = self.start()
        while queue and len(self.steps) < MAX_STEPS:
            item = queue.pop(0)
            if (item.frame, item.name) in self.seen:
                continue
            queue.extend(self.explain(item))

    def conclusion(self) -> tuple[str, str, list[Claim]]:
        t = self.t
        claims = outcome_claims(t)
        if claims[0].kind == "error":
            msg = t.error.message if t.error else "the run failed"
            return f"The run stopped: {msg}", f"The run stopped: {msg}", claims
        what = "output" if t.status == "returned" else "exception"
        if self.untraceable:
            return (f"So {tick(t.call)} returns {tick(short(t.result, 400))}.",
                    f"So the function returns {short(t.result, 100_000)}.", claims)
        if self.params:
            md = (f"So the {what} comes from the argument"
                  f"{'s' if len(self.params) > 1 else ''} "
                  + join_words([tick(f"{n} = {short(v)}") for n, v in self.params]) + ".")
            pl = (f"So the {what} comes from the argument"
                  f"{'s' if len(self.params) > 1 else ''} "
                  + join_words([f"{n} = {short(v, VALUE_CHARS_PLAIN)}" for n, v in self.params])
                  + ".")
        else:
            md = pl = f"So no argument's value flows into the {what}."
        unused = [n for n, _ in t.args if n not in {p for p, _ in self.params}]
        if self.params and unused:
            md += (" The value of " + join_words([tick(n) for n in unused]) + " does not flow "
                   "into it (it may still decide which lines run).")
            pl += (" The value of " + join_words(unused) + " does not flow into it (it may still "
                   "decide which lines run).")
        return md, pl, claims


def backward(trace: Trace, request: RunRequest | None = None) -> Narrative:
    b = _Backward(trace, request)
    b.run()
    md, pl, claims = b.conclusion()
    intro = {"returned": "Let's reason backwards from the output:",
             "raised": "Let's reason backwards from the exception:"}.get(
                 trace.status, "Let's reason backwards:")
    return Narrative(request_for(trace, request), TraceSummary.of(trace), b.steps, md,
                     "backward", pl, claims, intro)
