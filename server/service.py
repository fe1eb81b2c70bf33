"""The server's answers, as plain async Python (the LSP layer only converts types).

Documents -> functions and their known inputs -> runs (sandbox, cached) -> explanations
(narrator + verifier, in a thread) -> hovers, lenses, inlay hints, diagnostics. All line
numbers 0-based. `Service` is the one object the LSP layer and the commands hold: it owns the
`State` (state.py) and hands each request to the module that does that job: examples.py
(known inputs), explaining.py (runs, explanations), hover.py, annotations.py (lenses, hints,
diagnostics, the verified assert).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from types import EllipsisType
from typing import Callable

from tracecot.tracer.schema import RunRequest

# The module, not the __future__ feature of that name.
from . import annotations as ann
from . import examples, explaining, hover
from .document import Document, Example, FunctionInfo
from .explain import Explanation
from .model import ModelService
from .runs import History, Runner
from .state import Diag, Run, Settings, State

__all__ = ["Service", "Settings", "Run", "Diag"]


class Service:
    def __init__(self, sandbox, get_text: Callable[[str], str | None],
                 to_path: Callable[[str], str | None], on_model_state=None):
        self.state = State(sandbox=sandbox, get_text=get_text, to_path=to_path,
                           runner=Runner(sandbox), model=ModelService(on_model_state),
                           pool=ThreadPoolExecutor(max_workers=3,
                                                   thread_name_prefix="tracecot-explain"))

    # ------------------------------------------------------------------ the state, read-only
    @property
    def runner(self) -> Runner:
        return self.state.runner

    @property
    def model(self) -> ModelService:
        return self.state.model

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def trusted(self) -> bool:
        return self.state.trusted

    @property
    def roots(self) -> list[str]:
        return self.state.roots

    @property
    def tests(self):
        return self.state.tests

    def to_path(self, uri: str) -> str | None:
        return self.state.to_path(uri)

    # ------------------------------------------------------------------ documents and inputs
    def document(self, uri: str) -> Document | None:
        return self.state.document(uri)

    def forget(self, uri: str) -> None:
        self.state.docs.pop(uri, None)

    def history(self, uri: str) -> History:
        return self.state.history(uri)

    def examples(self, uri: str, doc: Document, fn: FunctionInfo,
                 with_tests: bool = True) -> list[Example]:
        return examples.examples(self.state, uri, doc, fn, with_tests)

    def select(self, uri: str, function: str, ex: Example) -> str:
        return self.state.select(uri, function, ex)

    def run_input(self, run_id: str) -> Example | None:
        return self.state.run_input(run_id)

    # ------------------------------------------------------------------ runs
    def request(self, uri: str, doc: Document, e: Example,
                expected: str | None | EllipsisType = ...) -> RunRequest:
        return self.state.request(uri, doc, e, expected)

    async def run(self, uri: str, doc: Document, e: Example) -> Run:
        return await explaining.run(self.state, uri, doc, e)

    async def primary(self, uri: str, doc: Document, fn: FunctionInfo) -> Run | None:
        return await explaining.primary(self.state, uri, doc, fn)

    async def explanation(self, run: Run, fresh: asyncio.Future | None = None) -> Explanation:
        return await explaining.explanation(self.state, run, fresh)

    # ------------------------------------------------------------------ editor features
    async def hover(self, uri: str, line: int, col: int) -> str | None:
        return await hover.hover(self.state, uri, line, col)

    def lenses(self, uri: str) -> list[tuple[FunctionInfo, str, dict | None]]:
        return ann.lenses(self.state, uri)

    async def resolve_run_lens(self, uri: str, function: str) -> tuple[str, dict] | None:
        return await ann.resolve_run_lens(self.state, uri, function)

    async def inlay_hints(self, uri: str, first: int, last: int) -> list[tuple[int, int, str]]:
        return await ann.inlay_hints(self.state, uri, first, last)

    async def diagnostics(self, uri: str) -> list[Diag]:
        return await ann.diagnostics(self.state, uri)

    async def verified_assert(self, uri: str, doc: Document, fn: FunctionInfo
                              ) -> tuple[str, int] | None:
        return await ann.verified_assert(self.state, uri, doc, fn)

    # ------------------------------------------------------------------ settings and trust
    def initialize(self, settings: Settings, trusted: bool, roots: list[str]) -> None:
        """The client's first word: settings, trust, folders (the model starts only once the
        client is initialized: `set_trusted`)."""
        self.state.settings, self.state.trusted = settings, bool(trusted)
        self.set_roots(roots)

    def apply_settings(self, settings: Settings) -> list[str]:
        st = self.state
        old, st.settings = st.settings, settings
        changed = [k for k in vars(settings) if getattr(old, k) != getattr(settings, k)]
        st.model.configure(settings.model_enabled, settings.model_path, settings.model_adapter,
                           st.trusted)
        return changed

    def set_trusted(self, trusted: bool) -> None:
        st = self.state
        st.trusted = bool(trusted)
        st.model.configure(st.settings.model_enabled, st.settings.model_path,
                           st.settings.model_adapter, st.trusted)

    def set_roots(self, roots: list[str]) -> None:
        self.state.roots = [os.path.abspath(r) for r in roots if r]
        self.state.tests.invalidate()

    def close(self) -> None:
        self.state.runner.cancel_all()
        self.state.model.close()
        self.state.pool.shutdown(wait=False, cancel_futures=True)
