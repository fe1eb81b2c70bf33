"""Forward narration of one executed line: what it changed, printed, raised or returned,
which way a branch went (with the values the condition read), and the calls it made (told
in full, or summarised in one step when repeated or nested deeper than the detail level).

`LineSteps` is the base of the forward narrator (`narrate._Forward`); it expects the
attributes that class sets (`trace`, `a`: the Analysis, `o`: Options, `steps`, `lines`)
and its `body(call, depth)` to narrate a called function's body.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .analysis import Analysis, Call, Unit, args_value, event_value, fn_name
from .narrative import (VALUE_CHARS_MD, VALUE_CHARS_PLAIN, Claim, Step, args_text, excerpt,
                        fn_code, join_words, short, tick)
from ..schema import BIND, CAUGHT, MUTATE, OUTPUT, PROPAGATE, RAISE, RETURN, YIELD, Event
from .source_lines import branch_parts, code_text, names_read, parse_line
from ..values import encode, render

if TYPE_CHECKING:
    from ..schema import Trace
    from .narrate import Options


class LineSteps:
    """Steps for executed lines and the calls made in them."""

    # Set by the forward narrator (narrate._Forward), which also defines `body`.
    trace: Trace
    a: Analysis
    o: Options
    steps: list[Step]
    lines: dict[int, str]

    def body(self, call: Call, depth: int) -> None:
        raise NotImplementedError("the forward narrator narrates a called function's body")

    # -- step output
    def add(self, depth: int, line: int | None, md: str, plain: str,
            claims: list[Claim] | None = None) -> Step:
        step = Step(len(self.steps) + 1, depth, line, md, list(claims or []), plain)
        self.steps.append(step)
        return step

    def claim(self, kind: str, i: int | None, *, variable=None, value=None, line=None) -> Claim:
        e = self.a.events[i] if i is not None else None
        return Claim(kind, line if line is not None else (e.line if e else None),
                     variable if variable is not None else (e.name if e else None),
                     value if value is not None or e is None else event_value(e), i,
                     e.frame if e else None)

    def ev(self, i: int) -> Event:
        return self.a.events[i]

    @staticmethod
    def runs(u: Unit) -> Claim:
        """The claim of a step that only says a line ran (`break`, a bare iteration)."""
        return Claim("runs", u.line, None, None, u.start, u.frame)

    def add_with_effects(self, depth: int, u: Unit, md: str, plain: str, claims: list[Claim],
                         skip: set | None = None, strip: str = ".") -> Step:
        """A step for unit `u`: the text given, then what else the line did (its effects)."""
        other = self._effects(u, skip=skip or set())
        if other[0]:
            md = md.rstrip(strip) + "; " + other[0] + "."
            plain = plain.rstrip(strip) + "; " + other[1] + "."
            claims.extend(other[2])
        return self.add(depth, u.line, md, plain, claims)

    # -- one executed line
    def _events(self, u: Unit, kinds: tuple) -> list[int]:
        return [it for it in u.items if isinstance(it, int) and self.ev(it).kind in kinds]

    def branch_claims(self, u: Unit, br: bool, cond: str) -> tuple[str, str, list[Claim]]:
        """A header's branch claim, then the values its condition read (text and claims)."""
        vals_md, vals_pl, vclaims = self._read_values(u, cond)
        return vals_md, vals_pl, [Claim("branch", u.line, cond, encode(br), u.start,
                                        u.frame)] + vclaims

    def _read_values(self, u: Unit, cond: str) -> tuple[str, str, list[Claim]]:
        """Values of the variables a condition reads, as ` (v = 1)` text plus value claims."""
        parts_md, parts_pl, claims = [], [], []
        for name in names_read(cond)[:3]:
            got = self.a.value_at(u.frame, name, u.start)
            if got is None:
                continue
            v = got[1]
            if v is None or len(render(v)) > 60:
                continue
            parts_md.append(tick(f"{name} = {render(v)}"))
            parts_pl.append(f"{name} = {render(v)}")
            claims.append(Claim("value", u.line, name, v, u.start, u.frame))
        md = f" ({', '.join(parts_md)})" if parts_md else ""
        return md, join_words(parts_pl), claims

    def _effects(self, u: Unit, skip: set, items: list | None = None
                 ) -> tuple[str, str, list[Claim]]:
        """Markdown phrase, plain phrase and claims for the events of a unit (no calls)."""
        md, pl, claims = [], [], []
        binds: dict[str, list[int]] = {}
        for it in (u.items if items is None else items):
            if not isinstance(it, int) or it in skip:
                continue
            e = self.ev(it)
            name = e.name or ""     # every event told here names its variable or type
            if e.kind == BIND:
                binds.setdefault(name, []).append(it)
        done_binds: set[str] = set()
        for it in (u.items if items is None else items):
            if not isinstance(it, int) or it in skip:
                continue
            e = self.ev(it)
            name = e.name or ""     # every event told here names its variable or type
            k = e.kind
            if k == BIND:
                if name in done_binds:
                    continue
                done_binds.add(name)
                idx = binds[name]
                if len(idx) == 1:
                    claims.append(self.claim("binds", it))
                    md.append(f"sets {tick(name)} to {tick(short(e.value))}")
                    pl.append(f"{name} is set to {short(e.value, VALUE_CHARS_PLAIN)}")
                else:
                    pick = idx if len(idx) <= 6 else idx[:4] + idx[-2:]
                    claims.extend(self.claim("binds", i) for i in pick)
                    vals = [short(self.ev(i).value, 40) for i in pick]
                    if len(idx) > 6:
                        vals = vals[:4] + ["…"] + vals[-2:]
                    md.append(f"sets {tick(name)} {len(idx)} times: " + ", ".join(vals))
                    pl.append(f"{name} is set {len(idx)} times, finally to "
                              f"{short(self.ev(idx[-1]).value, VALUE_CHARS_PLAIN)}")
            elif k == MUTATE:
                claims.append(self.claim("mutates", it))
                also = f" (also {', '.join(map(tick, e.aliases))})" if e.aliases else ""
                also_pl = f" (also {', '.join(e.aliases)})" if e.aliases else ""
                md.append(f"changes {tick(name)} in place to {tick(short(e.value))}{also}")
                pl.append(f"{name} becomes {short(e.value, VALUE_CHARS_PLAIN)}{also_pl}")
            elif k == OUTPUT:
                text = (e.text or "").rstrip("\n")
                where = "" if (e.stream or "stdout") == "stdout" else " to stderr"
                if it == self.a.cut_print:     # a prefix of what it printed: the line ran
                    where += " (then the output cap was reached: the rest was not kept)"
                    claims.append(self.runs(u))
                else:
                    claims.append(Claim("prints", e.line, e.stream or "stdout",
                                        encode(e.text or ""), it, e.frame))
                md.append(f"prints {tick(excerpt(text, VALUE_CHARS_MD))}{where}")
                pl.append(f"it prints {excerpt(text, VALUE_CHARS_PLAIN, '...')}{where}")
            elif k == RAISE:
                claims.append(Claim("raises", e.line, name, encode(e.text or ""), it, e.frame))
                msg = f": {e.text}" if e.text else ""
                md.append(f"raises {tick(f'{name}{msg}')}")
                pl.append(f"it raises {name}{msg}")
            elif k == CAUGHT:
                claims.append(self.claim("caught", it))
                md.append(f"the {tick(name)} is caught by the handler at line {e.line}")
                pl.append(f"the {name} is caught by the handler at line {e.line}")
            elif k == RETURN:
                f = self.a.frame_of(e.frame)
                claims.append(self.claim("returns", it, variable=f.function if f else None))
                if f is not None and f.kind == "generator":
                    md.append(f"{fn_code(f)} finishes")
                    pl.append(f"{fn_name(f)} finishes")
                else:
                    md.append(f"{fn_code(f)} returns {tick(short(e.value))}")
                    pl.append(f"{fn_name(f)} returns {short(e.value, VALUE_CHARS_PLAIN)}")
            elif k == YIELD:
                f = self.a.frame_of(e.frame)
                claims.append(self.claim("yields", it, variable=f.function if f else None))
                md.append(f"{fn_code(f)} yields {tick(short(e.value))}")
                pl.append(f"{fn_name(f)} yields {short(e.value, VALUE_CHARS_PLAIN)}")
            elif k == PROPAGATE:
                f = self.a.frame_of(e.frame)
                claims.append(self.claim("propagates", it))
                md.append(f"{fn_code(f)} stops: the {tick(name)} propagates to its caller")
                pl.append(f"{fn_name(f)} stops and the {name} propagates to its caller")
        return "; ".join(md), ", ".join(pl), claims

    def _unchanged(self, u: Unit) -> tuple[str, str, list[Claim]]:
        """Assignment targets the line left as they were (x += 0 rebinds the same object).

        Only said when the frame went on after the line: the recorder sees a line's changes
        when the next line starts (or the frame ends), so a record that stops right after it
        does not know them."""
        units = self.a.frame_units.get(u.frame, [])
        if u.pos + 1 >= len(units) and not any(
                isinstance(it, int) and self.ev(it).kind in (RETURN, YIELD, PROPAGATE)
                for it in u.items):
            return "", "", []
        tree = parse_line(code_text(self.lines.get(u.line)))
        if tree is None or len(tree.body) != 1:
            return "", "", []
        node = tree.body[0]
        targets: list[ast.expr]
        if isinstance(node, ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        else:
            return "", "", []
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        md, pl, claims = [], [], []
        for name in names:
            got = self.a.value_at(u.frame, name, u.start)
            if got is None:
                continue
            md.append(f"{tick(name)} stays {tick(short(got[1]))}")
            pl.append(f"{name} stays {short(got[1], VALUE_CHARS_PLAIN)}")
            claims.append(Claim("value", u.line, name, got[1], u.start, u.frame))
        return "; ".join(md), ", ".join(pl), claims

    def unit(self, u: Unit, depth: int) -> None:
        code = code_text(self.lines.get(u.line))
        calls = [it for it in u.items if isinstance(it, Call)]
        prefix_md = f"Line {u.line}: {tick(code)}" if code else f"Line {u.line}:"
        prefix_pl = f"Line {u.line}: {code.rstrip(':')}" if code else f"Line {u.line}:"
        if calls:
            first = u.items.index(calls[0])
            before = self._effects(u, set(), u.items[:first])
            claims = list(before[2])
            md = prefix_md + (f" {before[0]};" if before[0] else "")
            pl = prefix_pl + (f", {before[1]};" if before[1] else "")
            step = self.add(depth, u.line, md.rstrip(";") + ".", pl.rstrip(";") + ".", claims)
            self.unit_calls(u, calls, depth, step)
            last = max(u.items.index(c) for c in calls)
            after = self._effects(u, set(), u.items[last + 1:])
            if not any(self.ev(i).kind == BIND for i in u.items[last + 1:]
                       if isinstance(i, int)):
                unch = self._unchanged(u)
                after = (("; ".join(filter(None, [after[0], unch[0]]))),
                         (", ".join(filter(None, [after[1], unch[1]]))), after[2] + unch[2])
            if after[0]:
                self.add(depth, u.line, f"Back at line {u.line}: {after[0]}.",
                         f"Back at line {u.line}: {after[1]}.", after[2])
            return
        br = self.a.branch(u)
        eff = self._effects(u, set())
        claims = list(eff[2])
        if br is not None:
            kw, cond = branch_parts(self.lines.get(u.line))
            vals_md, vals_pl, bclaims = self.branch_claims(u, br, cond)
            claims[:0] = bclaims
            nxt = self.a.frame_units[u.frame][u.pos + 1].line
            word = "true" if br else "false"
            if kw == "while":
                go = "the loop goes on" if br else "the loop ends"
            else:
                go = f"runs line {nxt}" if br else f"goes to line {nxt}"
            md = f"{prefix_md} is {word}{vals_md} → {go}."
            pl = (f"Line {u.line}: with {vals_pl}, the condition {cond} is {word}, so it {go}."
                  if vals_pl else f"Line {u.line}: the condition {cond} is {word}, so it {go}.")
            pl = pl.replace("so it the loop", "so the loop")
            self.add(depth, u.line, md, pl, claims)
            return
        if not eff[0]:
            unch = self._unchanged(u)
            if unch[0]:
                self.add(depth, u.line, f"{prefix_md}: {unch[0]}.", f"{prefix_pl}, so "
                         f"{unch[1]}.", unch[2])
                return
            word = code.split(" ")[0].rstrip(":") if code else ""
            if word in ("break", "continue"):
                what = "leaves the loop" if word == "break" else "goes to the next iteration"
                self.add(depth, u.line, f"{prefix_md} {what}.", f"{prefix_pl} {what}.",
                         [self.runs(u)])
            return                            # nothing observable happened on this line
        joiner = ":" if eff[0].startswith(("`", "the ")) else ""
        self.add(depth, u.line, f"{prefix_md}{joiner} {eff[0]}.", f"{prefix_pl}, so {eff[1]}.",
                 claims)

    # -- calls inside a line
    def unit_calls(self, u: Unit, calls: list[Call], depth: int, step: Step | None = None
                   ) -> None:
        groups: list[list[Call]] = []
        for c in calls:
            if groups and self.a.frame_of(groups[-1][0].frame) is not None and \
                    self._same_fn(groups[-1][0], c):
                groups[-1].append(c)
            else:
                groups.append([c])
        for g in groups:
            f = self.a.frame_of(g[0].frame)
            summarise = depth + 1 > self.o.detail or (
                len(g) > 1 and (f is not None and f.kind == "lambda" or
                                all(self._small(c) for c in g)))
            if summarise:
                self.call_summary(u, g, depth, step)
                step = None
                continue
            for c in g:
                self.call_full(u, c, depth, step)
                step = None

    def _same_fn(self, a: Call, b: Call) -> bool:
        fa, fb = self.a.frame_of(a.frame), self.a.frame_of(b.frame)
        return fa is not None and fb is not None and fa.function == fb.function \
            and fa.def_line == fb.def_line

    def _small(self, c: Call) -> bool:
        return len(c.units) <= 2 and not any(isinstance(it, Call) for u in c.units
                                              for it in u.items)

    def _call_words(self, c: Call, limit: int) -> tuple[str, str, list[Claim]]:
        f = self.a.frame_of(c.frame)
        name = fn_name(f)
        e = self.ev(c.start) if c.start is not None else None
        claims = []
        if e is not None and not c.resumed:
            claims.append(self.claim("calls", c.start, variable=f.function if f else None,
                                     value=args_value(e.args),
                                     line=f.def_line if f else None))
        if c.resumed:
            return (f"resumes {fn_code(f)}", f"{name} resumes", claims)
        args = e.args if e is not None else []
        shown = name if name != "the lambda" else "lambda"
        return (tick(f"{shown}({args_text(args, limit)})"),
                f"{shown}({args_text(args, VALUE_CHARS_PLAIN)})", claims)

    def call_full(self, u: Unit, c: Call, depth: int, step: Step | None) -> None:
        md_call, pl_call, claims = self._call_words(c, VALUE_CHARS_MD)
        if step is not None:       # said as part of the line's own step
            step.text = step.text.rstrip(".") + (f" → {md_call}." if c.resumed
                                                 else f" → calls {md_call}.")
            step.plain = step.plain.rstrip(".") + (f"; {pl_call}." if c.resumed
                                                   else f"; it calls {pl_call}.")
            step.claims.extend(claims)
        elif c.resumed:
            self.add(depth, u.line, f"Line {u.line}: {md_call}.", f"Line {u.line}: {pl_call}.",
                     claims or [self.runs(u)])
        else:
            self.add(depth, u.line, f"Calls {md_call} from line {u.line}.",
                     f"{pl_call} is called.", claims)
        self.body(c, depth + 1)

    def call_summary(self, u: Unit, g: list[Call], depth: int, step: Step | None) -> None:
        f = self.a.frame_of(g[0].frame)
        claims: list[Claim] = []
        m = self.o.repeated_calls
        pick = g if len(g) <= m + 2 else g[:m] + g[-2:]
        md_parts, pl_parts = [], []
        for c in pick:
            e = self.ev(c.start) if c.start is not None else None
            end = self.ev(c.end) if c.end is not None else None
            if e is not None and not c.resumed:
                claims.append(self.claim("calls", c.start, variable=f.function if f else None,
                                         value=args_value(e.args),
                                         line=f.def_line if f else None))
            args_md = args_text(e.args if e else [], 40, " = ") if e else ""
            if end is None:
                out_md = out_pl = "(no result recorded)"
            elif end.kind == RETURN:
                claims.append(self.claim("returns", c.end, variable=f.function if f else None))
                out_md = tick(short(end.value, 40))
                out_pl = short(end.value, 60)
            elif end.kind == YIELD:
                claims.append(self.claim("yields", c.end, variable=f.function if f else None))
                out_md = "yields " + tick(short(end.value, 40))
                out_pl = "yields " + short(end.value, 60)
            else:
                claims.append(self.claim("propagates", c.end))
                out_md = out_pl = f"raises {end.name}"
            md_parts.append(f"{tick(args_md)} → {out_md}" if args_md else out_md)
            pl_parts.append(f"{args_md} gives {out_pl}" if args_md else out_pl)
        if len(g) > len(pick):
            md_parts.insert(m, "…")
            pl_parts.insert(m, "...")
        name = fn_name(f)
        who = name if name == "the lambda" else tick(name)
        if len(g) == 1:
            md = f"calls {who}: {md_parts[0]}"
            pl = f"it calls {name}: {pl_parts[0]}"
        else:
            md = f"calls {who} {len(g)} times: " + ", ".join(md_parts)
            pl = f"it calls {name} {len(g)} times: " + "; ".join(pl_parts)
        if step is not None:
            step.text = step.text.rstrip(".") + " " + md + "."
            step.plain = step.plain.rstrip(".") + "; " + pl + "."
            step.claims.extend(claims)
        else:
            self.add(depth, u.line, f"Line {u.line}: {md}.", f"Line {u.line}: {pl}.", claims)

