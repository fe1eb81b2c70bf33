"""What the editor shows without being asked: code lenses, inlay hints, diagnostics where a
written example disagrees with its run, and the verified assert the quick fix inserts."""

from __future__ import annotations

import asyncio
from typing import Any

from . import present
from .asserts import readable_assert
from .calls import input_text
from .document import Document, Example, FunctionInfo
from .examples import examples
from .explaining import explanation, primary, run as run_example
from .inputs import is_valid_expression
from .state import Diag, State


def lenses(st: State, uri: str) -> list[tuple[FunctionInfo, str, dict | None]]:
    """(function, kind, command args) per lens; kind "run" lenses are resolved later."""
    doc = st.document(uri)
    if doc is None or doc.syntax is not None or not st.trusted:
        return []
    out: list[tuple[FunctionInfo, str, dict[str, Any] | None]] = []
    for fn in doc.functions:
        base: dict[str, Any] = {"uri": uri, "function": fn.name, "line": fn.def_line}
        if examples(st, uri, doc, fn, with_tests=True):
            out.append((fn, "run", {"uri": uri, "function": fn.name, "digest": doc.digest}))
        out.append((fn, "explain", base))
        out.append((fn, "find", base))
    return out

async def resolve_run_lens(st: State, uri: str, function: str) -> tuple[str, dict] | None:
    doc = st.document(uri)
    if doc is None or doc.syntax is not None:
        return None
    fn = doc.function(function)
    if fn is None or not st.trusted:
        return None
    run = await primary(st, uri, doc, fn)
    if run is None:
        return None
    ex = None
    if run.trace.ok:
        key_hit = st.runner.cached(run.request)
        if key_hit is not None:
            try:
                ex = await asyncio.wait_for(explanation(st, run), st.settings.timeout + 2)
            except asyncio.TimeoutError:
                ex = None
    title = present.lens_title(run.call, run.trace, ex.verified if ex else None)
    return title, {"uri": uri, "function": fn.name, "args": input_text(run.example),
                   "line": fn.def_line}

async def inlay_hints(st: State, uri: str, first: int, last: int) -> list[tuple[int, int, str]]:
    if not (st.trusted and st.settings.inlay_hints):
        return []
    doc = st.document(uri)
    if doc is None or doc.syntax is not None:
        return []
    lines = doc.text.splitlines()
    fns = [f for f in doc.functions if f.end_line >= first and f.def_line <= last]

    async def one(fn):
        try:
            return fn, await asyncio.wait_for(primary(st, uri, doc, fn), st.settings.timeout + 1)
        except asyncio.TimeoutError:
            return fn, None
    out = []
    for fn, run in await asyncio.gather(*(one(f) for f in fns[:100])):
        if run is None or not run.trace.ok:
            continue
        hints = present.inlay_hints(run.trace)
        ret = present.return_hint(run.trace)
        if ret is not None:
            hints[ret[0]] = (hints[ret[0]] + "  " if ret[0] in hints else "") + ret[1]
        for line, text in sorted(hints.items()):
            if fn.def_line < line <= fn.end_line and first <= line <= last and line < len(lines):
                traced = run.trace.lines.get(line + 1)
                if traced is not None and traced.rstrip() != lines[line].rstrip():
                    continue
                out.append((line, len(lines[line]), text))
    return out

def written_examples(doc: Document) -> list[Example]:
    out = [e for f in doc.functions for e in f.examples if e.expected or e.raises]
    return out + [e for e in doc.asserts if e.expected]

async def diagnostics(st: State, uri: str) -> list[Diag]:
    doc = st.document(uri)
    if doc is None or doc.syntax is not None or not st.trusted:
        return []
    exs = written_examples(doc)[:200]
    runs = await asyncio.gather(*(run_example(st, uri, doc, e) for e in exs))
    out = []
    lines = doc.text.splitlines()
    for e, run in zip(exs, runs, strict=True):
        msg = present.mismatch_message(e.call, run.trace, e.expected, e.raises)
        if msg is None:
            continue
        rng = e.expected_range
        if rng is None:
            ln = e.line or 0
            text = lines[ln] if ln < len(lines) else ""
            rng = (ln, len(text) - len(text.lstrip()), ln, len(text.rstrip()))
        data: dict[str, Any] = {"kind": "mismatch", "function": e.function,
                                "args": input_text(e)}
        actual = present.result_text(run.trace)
        if actual is not None and e.expected_range is not None and is_valid_expression(actual):
            data.update(actual=actual, range=list(e.expected_range))
        out.append(Diag(rng, "tracecot: " + msg, "warning", data))
    return out

async def verified_assert(st: State, uri: str, doc: Document,
                          fn: FunctionInfo) -> tuple[str, int] | None:
    """`assert f(args) == result` for the selected run, checked by running it again (for a
    doctest session's input: the session's statements, then the assert)."""
    run = await primary(st, uri, doc, fn)
    if run is None or run.trace.status != "returned":
        return None
    result = present.result_text(run.trace)
    if result is None or not is_valid_expression(result):
        return None
    check = await st.runner.run(st.request(uri, doc, run.example, expected=result))
    if not (check.comparison and check.comparison.python_equal and not check.comparison.error):
        return None
    return readable_assert(run.example, result, doc.text), fn.after_line
