"""What the editor shows: hover markdown, code lens titles, inlay hint text, messages.

Pure functions of traces, examples and explanations; no LSP types, no I/O.
Line numbers in traces are 1-based (the tracer's); everything returned here is 0-based.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracecot.tracer.schema import BIND, MUTATE, Trace, outcome_text
from tracecot.tracer.values import render

UNTRUSTED = ("tracecot does not run code in an untrusted workspace. "
             "Trust the workspace (Manage Workspace Trust) to see runs and explanations.")
CHECK, CROSS, UNCHECKED = "✓", "✗", "·"


def short(text: str, limit: int = 60) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def md_code(text: str) -> str:
    """Inline code that survives backticks in the value."""
    ticks = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def outcome(trace: Trace, limit: int = 200) -> str:
    """`[1, 2]`, `raises ValueError: bad`, or the sandbox error, in one line."""
    return short(outcome_text(trace), limit)


def result_text(trace: Trace) -> str | None:
    """The full result as Python source, when the run returned and it is not truncated."""
    if trace.status != "returned" or trace.result is None:
        return None
    from tracecot.tracer.values import is_complete
    if not is_complete(trace.result):
        return None
    return render(trace.result)


def expectation_mark(trace: Trace) -> bool | None:
    """True/False when the run was compared with an expected value, else None."""
    c = trace.comparison
    if c is None or c.error:
        return None
    return bool(c.python_equal)


# --------------------------------------------------------------------------- code lens


def lens_title(call: str, trace: Trace | None, verified: bool | None = None) -> str:
    """`▶ f([1, 1, 3]) → [(2, 1), ...] ✓`."""
    if trace is None:
        return f"▶ {short(call, 50)}"
    if trace.status == "error":
        return f"▶ {short(call, 40)} ⚠ {outcome(trace, 50)}"
    arrow = "→" if trace.status == "returned" else "⇒"
    text = f"▶ {short(call, 40)} {arrow} {short(outcome(trace), 50)}"
    matches = expectation_mark(trace)
    if matches is False:
        return text + f" {CROSS} expected {short(_expected_text(trace), 30)}"
    if verified is True or (verified is None and matches):
        return text + f" {CHECK}"
    if verified is False:
        return text + f" {CROSS} (narrative not verified)"
    return text


def _expected_text(trace: Trace) -> str:
    c = trace.comparison
    return render(c.expected) if c and c.expected is not None else "?"


# --------------------------------------------------------------------------- hovers


def no_input(fn) -> str:
    """Hover of a function or method tracecot has no input for: what would give it one."""
    simple = fn.name.rsplit(".", 1)[-1]
    parens = "" if fn.kind == "property" else "(...)"
    if fn.kind in ("method", "property") and not fn.default_receiver:
        cls = fn.name.rsplit(".", 1)[0]
        return (f"**tracecot** · {md_code(fn.name)} is a {fn.kind}, and `{cls}(...)` needs "
                f"arguments, so tracecot needs an instance to call it on. Add a doctest such "
                f"as `>>> {cls}(...).{simple}{parens}`, an `assert {cls}(...).{simple}{parens} "
                f"== ...`, or run *Explain run* with the whole call.")
    if fn.kind in ("method", "property"):
        call = f"{fn.default_receiver}.{simple}{parens}"
    elif fn.kind == "class":
        call = f"{fn.name}(...)"
    else:
        call = f"{fn.name}(...)"
    return (f"**tracecot** · no known input for {md_code(fn.name)} yet. Add a doctest "
            f"(`>>> {call}`) or an `assert {call} == ...`, or run *Explain run* once.")


@dataclass
class StepLine:
    """One narrated step as the server shows it (0-based line)."""
    index: int
    line: int
    text: str
    verified: bool | None
    depth: int


def mark(verified: bool | None) -> str:
    return CHECK if verified is True else CROSS if verified is False else UNCHECKED


def hover_function(call: str, trace: Trace, steps: list[StepLine], verified: bool | None,
                   origin: str | None = None, prediction: str | None = None,
                   max_steps: int = 8, note: str | None = None) -> str:
    head_mark = {True: f"{CHECK} verified", False: f"{CROSS} not verified",
                 None: "unchecked"}[verified]
    arrow = "→" if trace.status == "returned" else "⇒" if trace.status == "raised" else "⚠"
    parts = [f"**tracecot** · {md_code(short(call, 80))} {arrow} "
             f"{md_code(outcome(trace, 120))} · {head_mark}"]
    sub = []
    if origin:
        sub.append(f"input from {origin}")
    if trace.ok:
        sub.append(f"{trace.steps} step{'s' * (trace.steps != 1)}, {trace.wall_ms:.1f} ms")
    matches = expectation_mark(trace)
    if matches is False:
        sub.append(f"{CROSS} expected {md_code(short(_expected_text(trace), 60))}")
    elif matches is True:
        sub.append(f"{CHECK} as expected")
    if sub:
        parts.append("*" + " · ".join(sub) + "*")
    if note:
        parts.append(note)
    if steps:
        shown = [s for s in steps if s.depth == 0][:max_steps] or steps[:max_steps]
        lines = [f"{mark(s.verified)} {step_text(s)}" for s in shown]
        more = len(steps) - len(shown)
        if more > 0:
            lines.append(f"… {more} more step{'s' * (more != 1)} — run *Explain run* "
                         f"to see them all")
        parts.append("\n\n".join(lines))
    if trace.stdout.strip():
        parts.append("printed: " + md_code(short(trace.stdout.strip(), 100)))
    if prediction:
        parts.append(prediction)
    return "\n\n".join(parts)


def step_text(s: StepLine, limit: int = 160) -> str:
    """A step's Markdown, with its line when the text does not say it already."""
    text = short(s.text, limit)
    if text.count("`") % 2:
        text += "`"
    if s.line >= 0 and f"line {s.line + 1}" not in text.lower():
        text += f" *(line {s.line + 1})*"
    return text


def escape(text: str) -> str:
    """Markdown-escape plain narrative text (keeps backtick code spans as they are)."""
    out, in_code = [], False
    for ch in text:
        if ch == "`":
            in_code = not in_code
        elif not in_code and ch in "*_[]<>#|\\":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def model_label(info: dict | None) -> str:
    """Which model answered (the worker's description of it): a fine-tuned adapter's name
    links to its model card."""
    info = info or {}
    if info.get("adapter"):
        card = info.get("card")
        name = f"fine-tuned {info.get('name', 'model')}"
        return f"[{name}]({Path(card).as_uri()})" if card else name
    return f"base {info.get('name', 'model')} (no adapter)"


def prediction_line(state: str, prediction: str | None = None, verified: bool | None = None,
                    actual: str | None = None, model: str | None = None) -> str | None:
    """The model's part of a hover, by state: disabled | loading | predicting | done | error;
    `model` (Markdown) names the model that answered."""
    if state == "disabled":
        return None
    if state == "loading":
        return "*model: loading…*"
    if state == "predicting":
        return "*model: predicting…*"
    if state == "done" and prediction is not None:
        by = f" · {model}" if model else ""
        if verified:
            return f"model predicted {md_code(short(prediction, 80))} {CHECK}{by}"
        extra = f" (actual {md_code(short(actual, 60))})" if actual else ""
        return f"model predicted {md_code(short(prediction, 80))} {CROSS}{extra}{by}"
    return f"*{state}*" if state.startswith("model not available") else None


def nested_calls(trace: Trace, name: str, limit: int = 6) -> tuple[int, list[str]]:
    """Calls of the nested function `name` in a run: (how many, `inner(k=1)` → `10` lines)."""
    frames = {f.id for f in trace.frames
              if f.parent is not None and f.function.rsplit(".", 1)[-1] == name}
    calls: dict[int, list] = {}
    for ev in trace.events:
        if ev.frame not in frames:
            continue
        if ev.kind == "call" and not ev.resumed:
            args = ", ".join(f"{a[0]}={short(render(a[1]), 30)}" for a in (ev.args or [])
                             if isinstance(a, list) and len(a) == 2)
            calls[ev.frame] = [args, None]
        elif ev.kind == "return" and ev.frame in calls:
            calls[ev.frame][1] = f"→ {md_code(short(render(ev.value), 40) if ev.value else 'None')}"
        elif ev.kind == "propagate" and ev.frame in calls and calls[ev.frame][1] is None:
            calls[ev.frame][1] = f"⇒ raises {ev.name or 'an exception'}"
    lines = [f"- {md_code(f'{name}({a})')} {r or ''}".rstrip() for a, r in calls.values()]
    return len(frames), lines[:limit]


@dataclass
class ValueChange:
    line: int          # 0-based
    kind: str          # "bind" | "mutate"
    value: str
    iteration: int | None


def top_frames(trace: Trace) -> set[int]:
    return {f.id for f in trace.frames if f.parent is None} or {0}


def value_history(trace: Trace, name: str) -> list[ValueChange]:
    """Values a variable of the top call took, in order (BIND and MUTATE events)."""
    top = top_frames(trace)
    out, iteration = [], None
    loop_iter: dict[int, int] = {}
    for ev in trace.events:
        if ev.frame not in top:
            continue
        if ev.kind == "loop":
            loop_iter[ev.line] = ev.iteration or 0
            iteration = ev.iteration
        elif ev.kind in (BIND, MUTATE) and ev.name == name and ev.value is not None:
            out.append(ValueChange(ev.line - 1, ev.kind, render(ev.value), iteration))
    return out


def hover_variable(name: str, call: str, history: list[ValueChange], limit: int = 12) -> str:
    if not history:
        return (f"**tracecot** · {md_code(name)} is not assigned in the run "
                f"{md_code(short(call, 80))}")
    head = f"**tracecot** · {md_code(name)} in {md_code(short(call, 80))}: " \
           f"{len(history)} change{'s' * (len(history) != 1)}"
    rows: list[ValueChange | None] = list(history)
    if len(history) > limit:     # None: where the middle is left out
        rows = [*history[: limit // 2], None, *history[-(limit // 2):]]
    lines = []
    for ch in rows:
        if ch is None:
            lines.append(f"- … {len(history) - 2 * (limit // 2)} more")
            continue
        how = "changed in place" if ch.kind == MUTATE else "="
        it = f" *(iteration {ch.iteration})*" if ch.iteration else ""
        lines.append(f"- line {ch.line + 1}: {how} {md_code(short(ch.value, 80))}{it}")
    return head + "\n\n" + "\n".join(lines)


# --------------------------------------------------------------------------- inlay hints


def inlay_hints(trace: Trace, max_value: int = 40) -> dict[int, str]:
    """0-based line -> `v = 2 (×5), w = 'a'`: the last value each variable of the top call got
    on that line, with how many times (loops)."""
    top = top_frames(trace)
    per_line: dict[int, dict[str, list]] = {}
    for ev in trace.events:
        if ev.frame in top and ev.kind in (BIND, MUTATE) and ev.name and ev.value is not None:
            slot = per_line.setdefault(ev.line - 1, {}).setdefault(ev.name, [None, 0])
            slot[0] = ev.value
            slot[1] += 1
    out = {}
    for line, names in per_line.items():
        bits = []
        for name, (value, count) in names.items():
            times = f" (×{count})" if count > 1 else ""
            bits.append(f"{name} = {short(render(value), max_value)}{times}")
        out[line] = ", ".join(bits)
    return out


def return_hint(trace: Trace) -> tuple[int, str] | None:
    """The line that returned (or raised) for the top call, and the text to show there."""
    top = top_frames(trace)
    for ev in reversed(trace.events):
        if ev.frame in top and ev.kind == "return":
            return ev.line - 1, f"→ {short(render(ev.value), 40)}" if ev.value else "→ None"
    if trace.status == "raised" and trace.exception and trace.exception.line:
        return trace.exception.line - 1, f"⇒ {trace.exception.type}"
    return None


# --------------------------------------------------------------------------- diagnostics


def mismatch_message(call: str, trace: Trace, expected: str | None,
                     raises: str | None) -> str | None:
    """Why an example's written result is wrong, or None when it holds (or cannot be told)."""
    if trace.status == "error":
        if trace.error and trace.error.kind in ("timeout", "step_limit", "memory_limit"):
            return f"{call} did not finish: {trace.error.message}"
        return None
    if raises is not None:
        if trace.status == "raised" and trace.exception and trace.exception.type == raises:
            return None
        return f"{call} {outcome(trace)}, not raises {raises}"
    if expected is None:
        return None
    if trace.status == "raised":
        return f"{call} {outcome(trace)}, but the example expects {short(expected, 60)}"
    c = trace.comparison
    if c is None or c.error or c.python_equal:
        return None
    if c.canonical_equal:       # same class and attributes, yet `==` is False
        return (f"{call} returns {outcome(trace, 120)}, which looks like "
                f"{short(expected, 60)}, but `==` says they differ (objects of a class without "
                f"__eq__ are equal only to themselves)")
    return f"{call} returns {outcome(trace, 120)}, not {short(expected, 60)}"


def nested_frames(trace: Trace, name: str) -> list[int]:
    """Frame ids of the calls of the nested function `name` in a run, in call order."""
    ids = {f.id for f in trace.frames
           if f.parent is not None and f.function.rsplit(".", 1)[-1] == name}
    order: list[int] = []
    for ev in trace.events:
        if ev.frame in ids and ev.frame not in order:
            order.append(ev.frame)
    return order + sorted(ids - set(order))


def unrecorded_runs(trace: Trace, def_line: int, end_line: int | None) -> str | None:
    """When the body of a nested def (0-based `def_line`..`end_line`) ran but no call of it
    was recorded, why: a sentence to say instead of "not called". Line counts include every
    run, recorded or not (calls below the depth limit, past the event cap)."""
    if end_line is None:
        return None
    runs = sum(n for line, n in trace.line_counts.items() if def_line + 2 <= line <= end_line + 1)
    if not runs:
        return None
    why = "deeper than the tracer's depth limit" + \
        (" or after the trace reached its event cap" if trace.truncated else "")
    return (f"its lines ran {runs} time{'s' * (runs != 1)}, but none of its calls was "
            f"recorded: they were {why}.")


def nested_value_history(trace: Trace, name: str, var: str) -> list[list[str]]:
    """Per call of the nested function `name` (in call order): the values `var` took in that
    call, its argument value first when it is a parameter."""
    frames = nested_frames(trace, name)
    per: dict[int, list[str]] = {f: [] for f in frames}
    for ev in trace.events:
        if ev.frame not in per:
            continue
        if ev.kind == "call" and not ev.resumed:
            for a in ev.args or []:
                if isinstance(a, list) and len(a) == 2 and a[0] == var and a[1] is not None:
                    per[ev.frame].append(render(a[1]))
        elif ev.kind in (BIND, MUTATE) and ev.name == var and ev.value is not None:
            per[ev.frame].append(render(ev.value))
    return [per[f] for f in frames]


def hover_nested_variable(var: str, inner: str, call: str, calls: list[list[str]],
                          limit: int = 8, unrecorded: str | None = None) -> str:
    """`k` inside the nested `inner`, as the run `call` of the enclosing function set it
    (`unrecorded`: why no call was recorded although it ran, see unrecorded_runs)."""
    run = md_code(short(call, 80))
    if not calls and unrecorded:
        return f"**tracecot** · In the run {run}, {md_code(inner)} ran: {unrecorded}"
    if not calls:
        return (f"**tracecot** · {md_code(inner)} was not called in the run {run}, so "
                f"{md_code(var)} has no value there.")
    n = len(calls)
    head = (f"**tracecot** · {md_code(var)} in {md_code(inner)}, in the run {run}: "
            f"{md_code(inner)} called {n} time{'s' * (n != 1)}")
    lines = []
    for i, values in enumerate(calls[:limit], 1):
        if not values:
            lines.append(f"- {inner} call {i}: {md_code(var)} not assigned")
            continue
        shown = values if len(values) <= 6 else values[:3] + ["…"] + values[-2:]
        text = " → ".join(v if v == "…" else md_code(short(v, 40)) for v in shown)
        lines.append(f"- {inner} call {i}: {md_code(var)} = {text}")
    if n > limit:
        lines.append(f"- … {n - limit} more call{'s' * (n - limit != 1)}")
    return head + "\n\n" + "\n".join(lines)
