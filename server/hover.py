"""Hover answers: a function's verified narrative (with the model's prediction when it is on),
a variable's values in the run, a nested def's calls, or why a def is not run."""

from __future__ import annotations

import asyncio
import keyword
import re

from . import present
from .document import Document, Example, FunctionInfo
from .examples import origin_text
from .explaining import explained_primary, primary
from .inputs import identifier_at, line_of, local_names
from .model import ModelUnavailable
from .state import Run, State


async def hover(st: State, uri: str, line: int, col: int) -> str | None:
    doc = st.document(uri)
    if doc is None:
        return None
    text = line_of(doc.text, line)
    if doc.syntax is not None:
        if text.lstrip().startswith(("def ", "async def ")):
            return f"**tracecot** · {doc.syntax.message}. Runs resume once the file parses."
        return None
    skipped = doc.skipped_at(line)
    if skipped is not None:
        ident = identifier_at(text, col)
        if ident is None or ident[0] in ("def", "async", skipped.name.rsplit(".", 1)[-1]):
            return await hover_skipped(st, uri, doc, skipped)
    fn = doc.function_at(line)
    ident = identifier_at(text, col)
    if fn is None:
        # `class P:` with P's own __init__: the hover of a call of the class
        init = doc.function(ident[0]) if ident is not None else None
        m = re.match(r"\s*class\s+([A-Za-z_]\w*)", text)
        if init is not None and ident is not None and init.kind == "init" and m \
                and m.group(1) == ident[0]:
            if not st.trusted:
                return f"**tracecot** · {present.UNTRUSTED}"
            return await hover_function(st, uri, doc, init)
        return None
    on_name = line == fn.def_line and (ident is None or ident[0] in (
        fn.def_name, "def"))
    if not st.trusted:
        return f"**tracecot** · {present.UNTRUSTED}" if on_name else None
    if on_name:
        return await hover_function(st, uri, doc, fn)
    nested = doc.nested_at(line)
    if nested is not None and ident is not None and nested.outer is not None \
            and doc.function(nested.outer) is not None \
            and not keyword.iskeyword(ident[0]) \
            and ident[0] in local_names(doc.text, nested.def_line):
        return await hover_nested_variable(st, uri, doc, nested, ident[0])
    # names the nested def reads from the function around it: that function's values
    if ident is None or line == fn.def_line and ident[0] not in fn.params:
        return None
    return await hover_variable(st, uri, doc, fn, ident[0])

async def hover_skipped(st: State, uri: str, doc: Document, skipped) -> str:
    """Why tracecot does not call this def; for a nested function, how the run of the
    function around it called it."""
    text = f"**tracecot** · {skipped.reason}"
    outer = doc.function(skipped.outer) if skipped.outer else None
    if outer is None or not st.trusted:
        return text
    run = await primary(st, uri, doc, outer)
    if run is None or not run.trace.ok:
        return text
    count, lines = present.nested_calls(run.trace, skipped.name)
    if not count:
        why = present.unrecorded_runs(run.trace, skipped.def_line, skipped.end_line)
        if why:
            return text + f"\n\nIn the run {present.md_code(present.short(run.call, 60))}, " \
                          f"{why}"
        return text + f"\n\nThe run {present.md_code(present.short(run.call, 60))} " \
                      f"did not call it."
    head = (f"In the run {present.md_code(present.short(run.call, 60))} it was called "
            f"{count} time{'s' * (count != 1)}:")
    more = f"\n- … {count - len(lines)} more" if count > len(lines) else ""
    return text + "\n\n" + head + "\n\n" + "\n".join(lines) + more

async def hover_function(st: State, uri: str, doc: Document, fn: FunctionInfo) -> str:
    run, ex = await explained_primary(st, uri, doc, fn)
    if run is None:
        return present.no_input(fn)
    note = None
    if not run.trace.ok:
        return present.hover_function(run.call, run.trace, [], None,
                                      origin_text(run.example))
    if ex.narrator == "summary" and ex.notes:
        note = f"*{ex.notes[0]}*"
    pred = prediction_text(st, uri, doc, run)
    return present.hover_function(run.call, run.trace, ex.steps, ex.verified,
                                  origin_text(run.example), pred, note=note)

async def hover_variable(st: State, uri: str, doc: Document, fn: FunctionInfo,
                         name: str) -> str | None:
    run = await primary(st, uri, doc, fn)
    if run is None or not run.trace.ok:
        return None
    history = present.value_history(run.trace, name)
    args = dict((a[0], a[1]) for a in run.trace.args if isinstance(a, list) and len(a) == 2)
    if not history and name in args:
        from tracecot.tracer.values import render
        history = [present.ValueChange(fn.def_line, "bind", render(args[name]), None)]
    if not history:
        return None
    return present.hover_variable(name, run.call, history)

async def hover_nested_variable(st: State, uri: str, doc: Document, nested,
                                name: str) -> str | None:
    """A variable of a def nested in a runnable function: its values in each call the
    enclosing function's run made of it."""
    fn = doc.function(nested.outer) if nested.outer is not None else None
    run = await primary(st, uri, doc, fn) if fn is not None else None
    if run is None or not run.trace.ok:
        return None
    calls = present.nested_value_history(run.trace, nested.name, name)
    if calls and not any(calls):
        return None
    why = None if calls else present.unrecorded_runs(run.trace, nested.def_line,
                                                       nested.end_line)
    return present.hover_nested_variable(name, nested.name, run.call, calls, unrecorded=why)

def prediction_text(st: State, uri: str, doc: Document, run: Run) -> str | None:
    m = st.model
    if not m.enabled or run.example.attribute:
        # (the model is asked about calls: `Cls.prop(instance)` is not one)
        return None
    if m.state == "loading":
        return present.prediction_line("loading")
    if m.state != "ready":
        return present.prediction_line(m.message)
    info = m.info or {}
    # keyed by the model too: after a switch of model or adapter, the old answers are not its
    key = (info.get("path"), info.get("adapter"), doc.digest, run.example.function,
           run.example.run_args)
    got = st.predictions.get(key)
    if got is None:
        st.predictions[key] = {"state": "predicting"}
        while len(st.predictions) > 256:
            st.predictions.popitem(last=False)
        asyncio.ensure_future(_predict(st, key, doc.runnable, run.example))
        return present.prediction_line("predicting")
    if got.get("state") == "done":
        return present.prediction_line("done", got.get("prediction"), got.get("verified"),
                                       got.get("actual"), model=present.model_label(m.info))
    return present.prediction_line(got.get("state", "predicting"))

async def _predict(st: State, key, code: str, e: Example) -> None:
    try:
        p = await st.model.predict_output(code, e.function, e.run_args, mode="direct")
        st.predictions[key] = {"state": "done", "prediction": p.get("prediction") or "(no answer)",
                           "verified": bool(p.get("verified")), "actual": p.get("actual")}
    except ModelUnavailable as err:
        st.predictions[key] = {"state": str(err)}
    except Exception as err:  # noqa: BLE001
        st.predictions[key] = {"state": f"model not available: {err}"}
