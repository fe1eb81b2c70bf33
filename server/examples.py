"""The known inputs of a function, best first: the one the user picked, the workspace history,
the doctests and asserts of its file, the tests of the workspace, the instances other examples
make; and how each is named in the editor ("the assert on line 12")."""

from __future__ import annotations

import logging

from .calls import constructor_examples, example_from_call
from .document import Document, Example, FunctionInfo
from .state import State
from .workspace import root_for

log = logging.getLogger(__name__)

ORIGIN = {"doctest": "the doctest", "assert": "the assert", "history": "an earlier run",
          "command": "your run", "test": "the tests",
          "instance": "an instance another example makes"}


def examples(st: State, uri: str, doc: Document, fn: FunctionInfo,
             with_tests: bool = True) -> list[Example]:
    """Known inputs of `fn`, best first, one per argument list."""
    path = st.to_path(uri)
    out: list[Example] = []
    chosen = st.selected.get((uri, fn.name))
    if chosen is not None:
        out.append(fn.example(chosen.args, origin="command", receiver=chosen.receiver))
    if path and st.trusted:
        for a in st.history(uri).get(path, fn.name):
            e = example_from_call(fn, a, "history") if fn.is_method else \
                fn.example(a, origin="history")
            if e is not None:
                out.append(e)
    out += doc.examples_for(fn.name)
    # `__init__`: the instances that method examples are called on were made by it too.
    methods = [e for m in doc.functions if m.kind == "method" and m.cls == fn.name
               for e in doc.examples_for(m.name)] if fn.kind == "init" else []
    if with_tests and st.trusted and path:
        root = root_for(path, st.roots)
        try:
            kinds = {f.name: f.kind for f in doc.functions}
            tested = st.tests.examples(root, path, kinds)
            out += [e for e in tested if e.function == fn.name]
            if fn.kind == "init":
                methods += [e for e in tested if e.function.startswith(fn.name + ".")]
        except Exception:
            log.exception("reading test files failed")
    out += constructor_examples(fn.name, methods)
    seen, unique = set(), []
    for e in out:
        # An example with an expected value is worth more than the same call without one.
        if e.key in seen:
            continue
        better = next((x for x in out if x.key == e.key and x.expected is not None), None)
        if better is not None and e.expected is None:
            e = Example(**{**vars(better), "origin": e.origin})
        seen.add(e.key)
        unique.append(e)
    if not unique and fn.required == 0 and not fn.params:
        if not fn.is_method:
            unique.append(fn.example("", origin="command"))
        elif fn.default_receiver:
            unique.append(fn.example("", origin="command", receiver=fn.default_receiver))
        elif fn.kind in ("method", "property"):
            # No argument needed, no instance known for it: the ones the class's other
            # examples make (`P(3, -4)` from `assert P(3, -4).norm1() == 7`).
            init = doc.function(f"{fn.cls}.__init__")
            made = examples(st, uri, doc, init, with_tests) if init is not None else []
            unique += [fn.example("", origin="instance", receiver=m.source_call,
                                  line=m.line, where=m.where) for m in made[:3]]
    return unique

def origin_text(e: Example) -> str:
    if e.origin in ("doctest", "assert") and e.line is not None:
        return f"{ORIGIN[e.origin]} on line {e.line + 1}"
    if e.origin == "test" and e.where:
        return f"{e.where}" + (f" line {e.line + 1}" if e.line is not None else "")
    if e.origin == "instance" and e.line is not None:
        return f"the instance made on line {e.line + 1}" + (f" of {e.where}" if e.where else "")
    return ORIGIN.get(e.origin, e.origin)
