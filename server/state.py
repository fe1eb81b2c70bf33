"""Everything the server keeps between requests, owned in one place: settings, trust and roots,
parsed documents, run histories, the selected input of each function, run ids, and the caches
of explanations and predictions. The job modules (examples, explaining, hover, annotations,
commands) read it and change it only through the methods here or the Service's setters.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any, Callable

from tracecot.tracer.schema import RunRequest, Trace

from .document import Document, Example
from .explain import Explanation
from .inputs import parse_document
from .model import ModelService
from .runs import History, Runner, make_request
from .workspace import TestIndex, root_for

RUN_IDS_KEPT = 500


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
        def sub(k: str) -> dict[str, Any]:
            v = d.get(k)
            return v if isinstance(v, dict) else {}

        def num(v: object) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0

        run, model = sub("run"), sub("model")
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


@dataclass
class State:
    sandbox: object
    get_text: Callable[[str], str | None]
    to_path: Callable[[str], str | None]
    runner: Runner
    model: ModelService
    pool: ThreadPoolExecutor
    settings: Settings = field(default_factory=Settings)
    trusted: bool = False
    roots: list[str] = field(default_factory=list)
    tests: TestIndex = field(default_factory=TestIndex)
    docs: dict[str, Document] = field(default_factory=dict)
    histories: dict[str, History] = field(default_factory=dict)
    selected: dict[tuple[str, str], Example] = field(default_factory=dict)  # (uri, function)
    explanations: OrderedDict[tuple, Explanation] = field(default_factory=OrderedDict)
    explaining: dict[tuple, asyncio.Future] = field(default_factory=dict)
    predictions: OrderedDict[tuple, dict] = field(default_factory=OrderedDict)
    runs: OrderedDict[str, tuple[str, Example]] = field(default_factory=OrderedDict)  # runId
    run_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def document(self, uri: str) -> Document | None:
        """The parsed document, parsed again only when its text changed."""
        text = self.get_text(uri)
        if text is None:
            return None
        doc = self.docs.get(uri)
        if doc is None or doc.text != text:
            doc = parse_document(text)
            self.docs[uri] = doc
        return doc

    def history(self, uri: str) -> History:
        """The run history of the workspace folder that holds `uri`."""
        root = root_for(self.to_path(uri), self.roots) or ""
        h = self.histories.get(root)
        if h is None:
            h = self.histories[root] = History(root or None)
        return h

    def request(self, uri: str, doc: Document, e: Example,
                expected: str | None | EllipsisType = ...) -> RunRequest:
        exp = e.expected if expected is ... else expected
        return make_request(doc.runnable, self.to_path(uri), e.function, e.run_args,
                            self.settings, expected=exp)

    def select(self, uri: str, function: str, ex: Example) -> str:
        """Make `ex` the function's selected input; returns a run id that names it."""
        self.selected[(uri, function)] = ex
        rid = str(next(self.run_ids))
        self.runs[rid] = (uri, ex)
        while len(self.runs) > RUN_IDS_KEPT:
            self.runs.popitem(last=False)
        return rid

    def run_input(self, run_id: str) -> Example | None:
        got = self.runs.get(run_id)
        return got[1] if got is not None else None
