"""Forward narration of loops: the loop and its count, then the first and last iterations in
full plus each iteration whose control flow (sequence of lines) differs from those shown,
the rest as "… N more iterations like these" (with the values the loop variables took and
what the hidden iterations left behind), then how the loop ended.
"""

from __future__ import annotations

from .analysis import Call, LoopRun, Unit
from .lines import LineSteps
from .narrative import VALUE_CHARS_PLAIN, Claim, join_words, short, tick
from ..schema import BIND, MUTATE
from .source_lines import branch_header, branch_parts, code_text, for_iterable
from ..values import encode


class LoopSteps(LineSteps):
    """Steps for loops (`LoopRun`s from the analysis); iterations' lines via `LineSteps`."""

    # -- loops
    def loop(self, run: LoopRun, depth: int) -> None:
        code = code_text(self.lines.get(run.line))
        claims = []
        if run.count == 0 and run.exit is not None:
            return self.loop_never(run, run.exit, code, depth)
        if run.complete:
            claims.append(Claim("loop_count", run.line, None, encode(run.count),
                                run.first_event, self.ev(run.first_event).frame))
            times = f"{run.count} time" + ("s" if run.count != 1 else "")
            md = f"Line {run.line}: the loop {tick(code)} runs {times}."
            plain = f"Line {run.line}: the loop {code.rstrip(':')} runs {times}."
        elif run.numbers and run.numbers[0] > 1:
            md = f"Line {run.line}: the loop {tick(code)} goes on."
            plain = f"Line {run.line}: the loop {code.rstrip(':')} goes on."
        else:
            md = f"Line {run.line}: the loop {tick(code)} starts."
            plain = f"Line {run.line}: the loop {code.rstrip(':')} starts."
        if not claims:               # the count is unknown: the header ran, at least
            ran = run.iterations[0][0] if run.iterations else run.exit
            assert ran is not None, "a loop's header runs for an iteration or for its exit"
            claims.append(self.runs(ran))
        self.add(depth, run.line, md, plain, claims)
        shown = self._pick(run)
        hidden: list[int] = []
        for k, body in enumerate(run.iterations):
            if k not in shown:
                hidden.append(k)
                continue
            if hidden:
                self._hidden(run, hidden, depth + 1)
                hidden = []
            self.iteration(run, k, body, depth + 1)
            if len(self.steps) >= self.o.max_steps:
                return
        if hidden:
            self._hidden(run, hidden, depth + 1)
        if run.exit is not None:
            self.loop_exit(run, run.exit, depth + 1)

    def loop_never(self, run: LoopRun, u: Unit, code: str, depth: int) -> None:
        calls = [it for it in u.items if isinstance(it, Call)]
        if calls:
            self.unit_calls(u, calls, depth)
        claims = [Claim("loop_count", run.line, None, encode(0), run.first_event, u.frame)]
        br = self.a.branch(u) if run.kind == "while" else None
        if br is not None:
            claims.append(Claim("branch", u.line, branch_parts(self.lines.get(u.line))[1],
                                encode(br), u.start, u.frame))
        what = code.rstrip(":")
        if run.kind == "while":
            header = branch_header(self.lines.get(u.line))
            what = header[1] if header else code
        vals_md, vals_pl, vclaims = self._read_values(u, what if run.kind == "while" else
                                                      for_iterable(code))
        claims.extend(vclaims)
        if run.kind == "while":
            md = f"Line {run.line}: the loop {tick(code)} runs 0 times: {tick(what)} is " \
                 f"false{vals_md}."
            pl = (f"Line {run.line}: with {vals_pl}, {what} is false, so the while loop runs "
                  f"0 times." if vals_pl else
                  f"Line {run.line}: {what} is false, so the while loop runs 0 times.")
        else:
            md = f"Line {run.line}: the loop {tick(code)} runs 0 times: nothing to iterate " \
                 f"over{vals_md}."
            pl = (f"Line {run.line}: with {vals_pl}, the loop {code.rstrip(':')} runs 0 times."
                  if vals_pl else f"Line {run.line}: the loop {code.rstrip(':')} runs 0 times.")
        self.add_with_effects(depth, u, md, pl, claims)

    def _signature(self, nodes: list) -> tuple:
        sig = []
        for n in nodes:
            if isinstance(n, LoopRun):
                sig.append(("loop", n.line,
                            frozenset(self._signature(b) for b in n.iterations)))
            else:
                sig.append(n.line)
        return tuple(sig)

    def _pick(self, run: LoopRun) -> set[int]:
        n = run.count
        if n <= 3:
            return set(range(n))
        shown = {0, n - 1}
        seen = {self._signature(run.iterations[0]), self._signature(run.iterations[-1])}
        for k in range(1, n - 1):
            if len(shown) >= self.o.shown_iterations:
                break
            sig = self._signature(run.iterations[k])
            if sig not in seen:
                seen.add(sig)
                shown.add(k)
        return shown

    def iteration(self, run: LoopRun, k: int, body: list, depth: int) -> None:
        head: Unit = body[0]
        number = (run.numbers[0] if run.numbers else 1) + k
        # Calls made by the header (evaluating the iterable, resuming a generator) first.
        calls = [it for it in head.items if isinstance(it, Call)]
        if calls:
            self.unit_calls(head, calls, depth)
        binds = self._events(head, (BIND,))
        claims = [self.claim("binds", i) for i in binds]
        br = self.a.branch(head)
        if binds:
            md_b = join_words([tick(f"{self.ev(i).name} = {short(self.ev(i).value)}")
                          for i in binds])
            pl_b = join_words([f"{self.ev(i).name} = {short(self.ev(i).value, VALUE_CHARS_PLAIN)}"
                          for i in binds])
            md = f"Iteration {number}: {md_b}."
            plain = f"Iteration {number}: {pl_b}."
        elif br is not None and branch_parts(self.lines.get(head.line))[1] != "True":
            cond = branch_parts(self.lines.get(head.line))[1]
            vals_md, vals_pl, bclaims = self.branch_claims(head, br, cond)
            claims.extend(bclaims)
            md = f"Iteration {number}: {tick(cond)} is {'true' if br else 'false'}{vals_md}."
            plain = f"Iteration {number}: with {vals_pl}, {cond} is " \
                    f"{'true' if br else 'false'}." if vals_pl else \
                f"Iteration {number}: {cond} is {'true' if br else 'false'}."
        else:
            md = f"Iteration {number}:"
            plain = f"Iteration {number}:"
            claims.append(self.runs(head))
        self.add_with_effects(depth, head, md, plain, claims, skip=set(binds), strip=".:")
        for node in body[1:]:
            if isinstance(node, LoopRun):
                self.loop(node, depth + 1)
            else:
                self.unit(node, depth + 1)

    def _hidden(self, run: LoopRun, ks: list[int], depth: int) -> None:
        n = len(ks)
        claims: list[Claim] = []
        # Values the loop variables took in the hidden iterations (bounded).
        per_var: dict[str, list[int]] = {}
        for k in ks:
            for i in self._events(run.iterations[k][0], (BIND,)):
                per_var.setdefault(self.ev(i).name or "", []).append(i)   # BINDs name theirs
        parts_md, parts_pl = [], []
        for name, idx in per_var.items():
            m = self.o.loop_values
            pick = idx if len(idx) <= m else idx[: m - 2] + idx[-2:]
            claims.extend(self.claim("binds", i) for i in pick)
            vals = [short(self.ev(i).value, 40) for i in pick]
            if len(idx) > m:
                vals = vals[: m - 2] + ["…"] + vals[-2:]
            parts_md.append(f"{tick(name)} takes " + ", ".join(vals))
            parts_pl.append(f"{name} takes " + ", ".join(v.replace("…", "...") for v in vals))
        # What the hidden iterations left in the loop's frame.
        frame = run.iterations[ks[0]][0].frame
        last_ev = self._last_event(run.iterations[ks[-1]])
        first_ev = run.iterations[ks[0]][0].start
        changed: dict[str, int] = {}
        for i in range(first_ev, last_ev + 1):
            e = self.ev(i)
            if e.frame == frame and e.kind in (BIND, MUTATE) and e.name \
                    and e.name not in per_var:
                changed[e.name] = i
        after_md, after_pl = [], []
        for name, i in list(changed.items())[:4]:
            claims.append(self.claim("binds" if self.ev(i).kind == BIND else "mutates", i))
            after_md.append(tick(f"{name} = {short(self.ev(i).value)}"))
            after_pl.append(f"{name} is {short(self.ev(i).value, VALUE_CHARS_PLAIN)}")
        word = "iteration" if n == 1 else "iterations"
        like = "like this" if n == 1 else "like these"
        md = f"… {n} more {word} {like}"
        plain = f"... {n} more {word} {like}"
        if parts_md:
            md += " (" + "; ".join(parts_md) + ")"
            plain += " (" + "; ".join(parts_pl) + ")"
        if after_md:
            them = "it" if n == 1 else "them"
            md += f"; after {them} " + join_words(after_md)
            plain += f"; after {them} " + join_words(after_pl)
        self.add(depth, run.line, md + ".", plain + ".", claims)

    def _last_event(self, nodes: list) -> int:
        last = nodes[-1]
        while isinstance(last, LoopRun):
            last = last.exit if last.exit is not None else last.iterations[-1][-1]
        ends = [last.start]
        for it in last.items:
            ends.append(it if isinstance(it, int) else (it.end or it.start or 0))
        return max(ends)

    def loop_exit(self, run: LoopRun, u: Unit, depth: int) -> None:
        calls = [it for it in u.items if isinstance(it, Call)]
        if calls:
            self.unit_calls(u, calls, depth)
        claims = []
        br = self.a.branch(u)
        if run.kind == "while" and br is not None:
            cond = branch_parts(self.lines.get(u.line))[1]
            vals_md, vals_pl, bclaims = self.branch_claims(u, br, cond)
            claims.extend(bclaims)
            md = f"{tick(cond)} is now false{vals_md}, so the loop ends."
            plain = (f"With {vals_pl}, {cond} is false, so the loop ends." if vals_pl else
                     f"{cond} is false, so the loop ends.")
        else:
            md = plain = ("The loop ends." if run.kind == "while" else
                          "There are no more items, so the loop ends.")
            claims.append(self.runs(u))          # the header ran once more
        self.add_with_effects(depth, u, md, plain, claims)
