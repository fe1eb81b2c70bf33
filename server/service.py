"""The server's state and answers, as plain async Python (the LSP layer only converts types).

Documents -> functions and their known inputs -> runs (sandbox, cached) -> explanations
(narrator + verifier, in a thread) -> hovers, lenses, inlay hints, diagnostics.
All line numbers 0-based.
"""

from __future__ import annotations

import asyncio
import dataclasses
import keyword
import logging
import os
import re
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from tracecot.tracer.schema import RunRequest, Trace

from . import present
from .explain import Explanation, check, narrate_trace
from .asserts import readable_assert
from .calls import constructor_examples, example_from_call, input_text
from .document import Document, Example, FunctionInfo
from .inputs import identifier_at, is_valid_expression, line_of, local_names, parse_document
from .model import ModelService, ModelUnavailable
from .runs import History, Runner, make_request, request_key
from .workspace import TestIndex, root_for

log = logging.getLogger(__name__)


@dataclass
class Settings:
    timeout: float = 2.0
    step_cap: int = 2_000_000
    inlay_hints: bool = True
    budget: float = 10.0
    model_enabled: bool = True
    model_path: str = ""
    model_adapter: str = ""

    @classmethod
    def from_json(cls, d, base: "Settings | None" = None) -> "Settings":
        s = Settings(**vars(base)) if base else Settings()
        if not isinstance(d, dict):
            return s
        sub = lambda k: d.get(k) if isinstance(d.get(k), dict) else {}  # noqa: E731
        run, model = sub("run"), sub("model")
        num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0  # noqa: E731
        if num(run.get("timeout")):
            s.timeout = min(float(run["timeout"]), 600.0)
        if num(run.get("stepCap")):
            s.step_cap = int(run["stepCap"])
        if isinstance(sub("inlayHints").get("enabled"), bool):
            s.inlay_hints = sub("inlayHints")["enabled"]
        if num(sub("inputFinder").get("budget")):
            s.budget = min(float(sub("inputFinder")["budget"]), 600.0)
        if isinstance(model.get("enabled"), bool):
            s.model_enabled = model["enabled"]
        for key, attr in (("path", "model_path"), ("adapter", "model_adapter")):
            if isinstance(model.get(key), str):
                setattr(s, attr, model[key].strip())
        return s


@dataclass
class Run:
    """An example run: what was asked, and what happened."""
    example: Example
    request: RunRequest
    trace: Trace

    @property
    def call(self) -> str:
        return self.example.call


@dataclass
class Diag:
    range: tuple[int, int, int, int]
    message: str
    severity: str = "warning"
    data: dict = field(default_factory=dict)


ORIGIN = {"doctest": "the doctest", "assert": "the assert", "history": "an earlier run",
          "command": "your run", "test": "the tests",
          "instance": "an instance another example makes"}


class Service:
    def __init__(self, sandbox, get_text: Callable[[str], str | None],
                 to_path: Callable[[str], str | None], on_model_state=None):
        self.sandbox = sandbox
        self.runner = Runner(sandbox)
        self.get_text, self.to_path = get_text, to_path
        self.settings = Settings()
        self.trusted = False
        self.roots: list[str] = []
        self.tests = TestIndex()
        self.model = ModelService(on_model_state)
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="tracecot-explain")
        self._docs: dict[str, Document] = {}
        self._histories: dict[str, History] = {}
        self.selected: dict[tuple[str, str], Example] = {}    # (uri, function) -> input
        self._expl: OrderedDict[tuple, Explanation] = OrderedDict()
        self._expl_pending: dict[tuple, asyncio.Future] = {}
        self._pred: OrderedDict[tuple, dict] = OrderedDict()

    # ------------------------------------------------------------------ documents
    def document(self, uri: str) -> Document | None:
        text = self.get_text(uri)
        if text is None:
            return None
        doc = self._docs.get(uri)
        if doc is None or doc.text != text:
            doc = parse_document(text)
            self._docs[uri] = doc
        return doc

    def forget(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def history(self, uri: str) -> History:
        root = root_for(self.to_path(uri), self.roots) or ""
        h = self._histories.get(root)
        if h is None:
            h = self._histories[root] = History(root or None)
        return h

    def examples(self, uri: str, doc: Document, fn: FunctionInfo, with_tests: bool = True) -> list[Example]:
        """Known inputs of `fn`, best first, one per argument list."""
        path = self.to_path(uri)
        out: list[Example] = []
        chosen = self.selected.get((uri, fn.name))
        if chosen is not None:
            out.append(fn.example(chosen.args, origin="command", receiver=chosen.receiver))
        if path and self.trusted:
            for a in self.history(uri).get(path, fn.name):
                e = example_from_call(fn, a, "history") if fn.is_method else \
                    fn.example(a, origin="history")
                if e is not None:
                    out.append(e)
        out += doc.examples_for(fn.name)
        # `__init__`: the instances that method examples are called on were made by it too.
        methods = [e for m in doc.functions if m.kind == "method" and m.cls == fn.name
                   for e in doc.examples_for(m.name)] if fn.kind == "init" else []
        if with_tests and self.trusted and path:
            root = root_for(path, self.roots)
            try:
                kinds = {f.name: f.kind for f in doc.functions}
                tested = self.tests.examples(root, path, kinds)
                out += [e for e in tested if e.function == fn.name]
                if fn.kind == "init":
                    methods += [e for e in tested if e.function.startswith(fn.name + ".")]
            except Exception:  # noqa: BLE001
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
                made = self.examples(uri, doc, init, with_tests) if init is not None else []
                unique += [fn.example("", origin="instance", receiver=m.source_call,
                                      line=m.line, where=m.where) for m in made[:3]]
        return unique

    def origin_text(self, e: Example) -> str:
        if e.origin in ("doctest", "assert") and e.line is not None:
            return f"{ORIGIN[e.origin]} on line {e.line + 1}"
        if e.origin == "test" and e.where:
            return f"{e.where}" + (f" line {e.line + 1}" if e.line is not None else "")
        if e.origin == "instance" and e.line is not None:
            return f"the instance made on line {e.line + 1}" + (f" of {e.where}" if e.where else "")
        return ORIGIN.get(e.origin, e.origin)

    # ------------------------------------------------------------------ runs
    def request(self, uri: str, doc: Document, e: Example, expected: str | None = ...) -> RunRequest:
        exp = e.expected if expected is ... else expected
        return make_request(doc.runnable, self.to_path(uri), e.function, e.run_args,
                            self.settings, expected=exp)

    async def run(self, uri: str, doc: Document, e: Example) -> Run:
        req = self.request(uri, doc, e)
        return Run(e, req, await self.runner.run(req))

    async def primary(self, uri: str, doc: Document, fn: FunctionInfo) -> Run | None:
        exs = self.examples(uri, doc, fn)
        return await self.run(uri, doc, exs[0]) if exs else None

    async def explained_primary(self, uri: str, doc: Document, fn: FunctionInfo):
        """(run, explanation) of the function's first known input. When nothing is cached the
        run and the fresh run that checks its narrative start together (one run's latency)."""
        exs = self.examples(uri, doc, fn)
        if not exs:
            return None, None
        req = self.request(uri, doc, exs[0])
        fresh = None
        # Only when the sandbox has room: under load a run that never ends would hold two slots.
        if self.runner.cached(req) is None and self.runner.busy < 2:
            fresh = asyncio.ensure_future(self.runner.run(req, cache=False))
        handed = False
        try:
            run = Run(exs[0], req, await self.runner.run(req))
            if not run.trace.ok:
                return run, None
            handed = True
            return run, await self.explanation(run, fresh)
        finally:
            if fresh is not None and not handed:
                fresh.cancel()

    async def explanation(self, run: Run, fresh: asyncio.Future | None = None) -> Explanation:
        """Narrative of the run with every claim checked against a fresh run (cached).
        Narration runs in a thread while the fresh run goes on in the sandbox."""
        key = request_key(run.request)
        hit = self._expl.get(key)
        fut = self._expl_pending.get(key)
        if fresh is not None and (hit is not None or fut is not None):
            fresh.cancel()            # an explanation exists or is on its way: not needed
        if hit is not None:
            self._expl.move_to_end(key)
            return hit
        if fut is None:
            fut = asyncio.ensure_future(self._explain(run, fresh))
            self._expl_pending[key] = fut

            def done(f, key=key):
                self._expl_pending.pop(key, None)
                if not f.cancelled() and f.exception() is None:
                    self._expl[key] = f.result()
                    while len(self._expl) > 256:
                        self._expl.popitem(last=False)
            fut.add_done_callback(done)
        return await asyncio.shield(fut)

    async def _explain(self, run: Run, fresh_run: asyncio.Future | None = None) -> Explanation:
        loop = asyncio.get_running_loop()
        # Told as the user wrote the call (`Stack([1]).top`, `s.pop()`), not as the sandbox
        # makes it (`Stack.top(Stack([1]))`).
        shown = dataclasses.replace(run.trace, call=run.example.call)
        narrating = loop.run_in_executor(self.pool, narrate_trace, shown, run.request)
        fresh = None
        if run.trace.ok:
            fresh = await (fresh_run or self.runner.run(run.request, cache=False))
        elif fresh_run is not None:
            fresh_run.cancel()
        narrative = await narrating
        return await loop.run_in_executor(self.pool, check, narrative, fresh)

    # ------------------------------------------------------------------ hover
    async def hover(self, uri: str, line: int, col: int) -> str | None:
        doc = self.document(uri)
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
                return await self.hover_skipped(uri, doc, skipped)
        fn = doc.function_at(line)
        ident = identifier_at(text, col)
        if fn is None:
            # `class P:` with P's own __init__: the hover of a call of the class
            init = doc.function(ident[0]) if ident is not None else None
            m = re.match(r"\s*class\s+([A-Za-z_]\w*)", text)
            if init is not None and init.kind == "init" and m and m.group(1) == ident[0]:
                if not self.trusted:
                    return f"**tracecot** · {present.UNTRUSTED}"
                return await self.hover_function(uri, doc, init)
            return None
        on_name = line == fn.def_line and (ident is None or ident[0] in (
            fn.def_name, "def"))
        if not self.trusted:
            return f"**tracecot** · {present.UNTRUSTED}" if on_name else None
        if on_name:
            return await self.hover_function(uri, doc, fn)
        nested = doc.nested_at(line)
        if nested is not None and ident is not None and doc.function(nested.outer) is not None \
                and not keyword.iskeyword(ident[0]) \
                and ident[0] in local_names(doc.text, nested.def_line):
            return await self.hover_nested_variable(uri, doc, nested, ident[0])
        # names the nested def reads from the function around it: that function's values
        if ident is None or line == fn.def_line and ident[0] not in fn.params:
            return None
        return await self.hover_variable(uri, doc, fn, ident[0])

    async def hover_skipped(self, uri: str, doc: Document, skipped) -> str:
        """Why tracecot does not call this def; for a nested function, how the run of the
        function around it called it."""
        text = f"**tracecot** · {skipped.reason}"
        outer = doc.function(skipped.outer) if skipped.outer else None
        if outer is None or not self.trusted:
            return text
        run = await self.primary(uri, doc, outer)
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

    async def hover_function(self, uri: str, doc: Document, fn: FunctionInfo) -> str:
        run, ex = await self.explained_primary(uri, doc, fn)
        if run is None:
            return present.no_input(fn)
        note = None
        if not run.trace.ok:
            return present.hover_function(run.call, run.trace, [], None,
                                          self.origin_text(run.example))
        if ex.narrator == "summary" and ex.notes:
            note = f"*{ex.notes[0]}*"
        pred = self.prediction_text(uri, doc, run)
        return present.hover_function(run.call, run.trace, ex.steps, ex.verified,
                                      self.origin_text(run.example), pred, note=note)

    async def hover_variable(self, uri: str, doc: Document, fn: FunctionInfo, name: str) -> str | None:
        run = await self.primary(uri, doc, fn)
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

    async def hover_nested_variable(self, uri: str, doc: Document, nested, name: str) -> str | None:
        """A variable of a def nested in a runnable function: its values in each call the
        enclosing function's run made of it."""
        run = await self.primary(uri, doc, doc.function(nested.outer))
        if run is None or not run.trace.ok:
            return None
        calls = present.nested_value_history(run.trace, nested.name, name)
        if calls and not any(calls):
            return None
        why = None if calls else present.unrecorded_runs(run.trace, nested.def_line,
                                                           nested.end_line)
        return present.hover_nested_variable(name, nested.name, run.call, calls, unrecorded=why)

    def prediction_text(self, uri: str, doc: Document, run: Run) -> str | None:
        m = self.model
        if not m.enabled or run.example.attribute:
            # (the model is asked about calls: `Cls.prop(instance)` is not one)
            return None
        if m.state == "loading":
            return present.prediction_line("loading")
        if m.state != "ready":
            return present.prediction_line(m.message)
        key = (doc.digest, run.example.function, run.example.run_args)
        got = self._pred.get(key)
        if got is None:
            self._pred[key] = {"state": "predicting"}
            while len(self._pred) > 256:
                self._pred.popitem(last=False)
            asyncio.ensure_future(self._predict(key, doc.runnable, run.example))
            return present.prediction_line("predicting")
        if got.get("state") == "done":
            return present.prediction_line("done", got.get("prediction"), got.get("verified"),
                                           got.get("actual"))
        return present.prediction_line(got.get("state", "predicting"))

    async def _predict(self, key, code: str, e: Example) -> None:
        try:
            p = await self.model.predict_output(code, e.function, e.run_args, mode="direct")
            self._pred[key] = {"state": "done", "prediction": p.get("prediction") or "(no answer)",
                               "verified": bool(p.get("verified")), "actual": p.get("actual")}
        except ModelUnavailable as err:
            self._pred[key] = {"state": str(err)}
        except Exception as err:  # noqa: BLE001
            self._pred[key] = {"state": f"model not available: {err}"}

    # ------------------------------------------------------------------ lenses and hints
    def lenses(self, uri: str) -> list[tuple[FunctionInfo, str, dict | None]]:
        """(function, kind, command args) per lens; kind "run" lenses are resolved later."""
        doc = self.document(uri)
        if doc is None or doc.syntax is not None or not self.trusted:
            return []
        out = []
        for fn in doc.functions:
            base = {"uri": uri, "function": fn.name, "line": fn.def_line}
            if self.examples(uri, doc, fn, with_tests=True):
                out.append((fn, "run", {"uri": uri, "function": fn.name, "digest": doc.digest}))
            out.append((fn, "explain", base))
            out.append((fn, "find", base))
        return out

    async def resolve_run_lens(self, uri: str, function: str) -> tuple[str, dict] | None:
        doc = self.document(uri)
        fn = doc.function(function) if doc is not None and doc.syntax is None else None
        if fn is None or not self.trusted:
            return None
        run = await self.primary(uri, doc, fn)
        if run is None:
            return None
        ex = None
        if run.trace.ok:
            key_hit = self.runner.cached(run.request)
            if key_hit is not None:
                try:
                    ex = await asyncio.wait_for(self.explanation(run), self.settings.timeout + 2)
                except asyncio.TimeoutError:
                    ex = None
        title = present.lens_title(run.call, run.trace, ex.verified if ex else None)
        return title, {"uri": uri, "function": fn.name, "args": input_text(run.example),
                       "line": fn.def_line}

    async def inlay_hints(self, uri: str, first: int, last: int) -> list[tuple[int, int, str]]:
        if not (self.trusted and self.settings.inlay_hints):
            return []
        doc = self.document(uri)
        if doc is None or doc.syntax is not None:
            return []
        lines = doc.text.splitlines()
        fns = [f for f in doc.functions if f.end_line >= first and f.def_line <= last]

        async def one(fn):
            try:
                return fn, await asyncio.wait_for(self.primary(uri, doc, fn), self.settings.timeout + 1)
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

    # ------------------------------------------------------------------ diagnostics
    def written_examples(self, doc: Document) -> list[Example]:
        out = [e for f in doc.functions for e in f.examples if e.expected or e.raises]
        return out + [e for e in doc.asserts if e.expected]

    async def diagnostics(self, uri: str) -> list[Diag]:
        doc = self.document(uri)
        if doc is None or doc.syntax is not None or not self.trusted:
            return []
        exs = self.written_examples(doc)[:200]
        runs = await asyncio.gather(*(self.run(uri, doc, e) for e in exs))
        out = []
        lines = doc.text.splitlines()
        for e, run in zip(exs, runs):
            msg = present.mismatch_message(e.call, run.trace, e.expected, e.raises)
            if msg is None:
                continue
            rng = e.expected_range
            if rng is None:
                ln = e.line or 0
                text = lines[ln] if ln < len(lines) else ""
                rng = (ln, len(text) - len(text.lstrip()), ln, len(text.rstrip()))
            data = {"kind": "mismatch", "function": e.function, "args": input_text(e)}
            actual = present.result_text(run.trace)
            if actual is not None and e.expected_range is not None and is_valid_expression(actual):
                data.update(actual=actual, range=list(e.expected_range))
            out.append(Diag(rng, "tracecot: " + msg, "warning", data))
        return out

    async def verified_assert(self, uri: str, doc: Document, fn: FunctionInfo) -> tuple[str, int] | None:
        """`assert f(args) == result` for the selected run, checked by running it again (for a
        doctest session's input: the session's statements, then the assert)."""
        run = await self.primary(uri, doc, fn)
        if run is None or run.trace.status != "returned":
            return None
        result = present.result_text(run.trace)
        if result is None or not is_valid_expression(result):
            return None
        check = await self.runner.run(self.request(uri, doc, run.example, expected=result))
        if not (check.comparison and check.comparison.python_equal and not check.comparison.error):
            return None
        return readable_assert(run.example, result, doc.text), fn.after_line

    # ------------------------------------------------------------------ settings and trust
    def apply_settings(self, settings: Settings) -> list[str]:
        old, self.settings = self.settings, settings
        changed = [k for k in vars(settings) if getattr(old, k) != getattr(settings, k)]
        self.model.configure(settings.model_enabled, settings.model_path, settings.model_adapter,
                             self.trusted)
        return changed

    def set_trusted(self, trusted: bool) -> None:
        self.trusted = bool(trusted)
        self.model.configure(self.settings.model_enabled, self.settings.model_path,
                             self.settings.model_adapter, self.trusted)

    def set_roots(self, roots: list[str]) -> None:
        self.roots = [os.path.abspath(r) for r in roots if r]
        self.tests.invalidate()

    def close(self) -> None:
        self.runner.cancel_all()
        self.model.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
