"""Predict what code returns (or which input gives an output), and prove it by running it.

Every prediction is checked in the tracer's sandbox, never in this process: an output
prediction passes when `f(args) == prediction` holds there, an input prediction when
`f(prediction) == target` holds (CruxEval's assert semantics). Chain-of-thought reasoning is
additionally checked sentence by sentence with the tracer's verifier.
"""

from __future__ import annotations

import ast
import os
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Callable, Sequence

from tracecot.tracer import SentenceVerdict, outcome_text, verify_text

from . import prompts as P
from .extract import extract_input, extract_output
from .generate import Engine, GenConfig, Generation

DEFAULT_TEMPERATURE = 0.8     # used when k > 1 samples are asked for without a temperature


@dataclass
class Prediction:
    kind: str                    # "output" | "input"
    mode: str                    # "direct" | "cot"
    function: str
    args: str | None             # the call's arguments (given for outputs, predicted for inputs)
    prediction: str | None       # predicted value (outputs) or arguments (inputs), Python source
    verified: bool               # the sandbox proved the prediction right
    actual: str | None = None    # what the call really gives (result text, or the exception)
    run_status: str | None = None    # sandbox trace status: returned | raised | error
    error: str | None = None     # why it could not be checked (no answer found, bad literal...)
    reasoning: str | None = None     # chain of thought, CoT mode
    verdicts: list[SentenceVerdict] = field(default_factory=list)
    raw: str = ""                # answer prefill + model completion
    latency_s: float = 0.0       # generation + verification
    first_token_s: float = 0.0
    tokens: int = 0              # generated tokens
    prompt_tokens: int = 0
    finish: str = ""

    def to_json(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**d, "verdicts": [v.to_json() for v in self.verdicts]}

    @classmethod
    def from_json(cls, d: dict) -> "Prediction":
        """Inverse of to_json (e.g. for results that came back from the worker)."""
        verdicts = [SentenceVerdict.from_json(v) for v in d.get("verdicts") or []]
        return cls(**{**d, "verdicts": verdicts})

    @property
    def wrong_sentences(self) -> int:
        return sum(v.verdict == "wrong" for v in self.verdicts)


@dataclass
class OutputTask:
    code: str
    function: str
    args: str


@dataclass
class InputTask:
    code: str
    function: str
    output: str


def default_function(code: str) -> str:
    """`f` when defined (CruxEval), else the last top-level function of the module."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return "f"
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return "f" if "f" in names or not names else names[-1]


def parse_call(code: str, call_or_args: str, function: str | None = None) -> tuple[str, str]:
    """"f([1, 2])" or "[1, 2]" -> (function, args source)."""
    text = call_or_args.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        node = None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and (function is None or node.func.id == function)
            and (function is not None or node.func.id == default_function(code)
                 or f"def {node.func.id}(" in code)):
        rest = text[len(node.func.id):].strip()
        return node.func.id, rest[1:-1].strip()
    return function or default_function(code), text


def split_reasoning(text: str) -> str:
    """The chain of thought: everything before the answer block."""
    at = text.find("[ANSWER]")
    return (text[:at] if at >= 0 else text).strip()


class Predictor:
    """Model + sandbox. Thread-compatible (one generation at a time, guarded by a lock)."""

    def __init__(self, lm=None, engine: Engine | None = None, sandbox=None, timeout: float = 2.0,
                 batch_size: int = 8, check_reasoning: bool = True):
        if engine is None:
            if lm is None:
                from .loading import load_model
                lm = load_model()
            engine = Engine(lm)
        self.engine, self.timeout, self.batch_size = engine, timeout, batch_size
        self.check_reasoning = check_reasoning
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._hints: dict[tuple[str, str], str] = {}

    @property
    def tokenizer(self):
        return self.engine.tokenizer

    @property
    def sandbox(self):
        if self._sandbox is None:
            from tracecot.tracer.running.sandbox import Sandbox
            self._sandbox = Sandbox()
        return self._sandbox

    # -- single predictions -------------------------------------------------------------

    def predict_output(self, code: str, call_or_args: str, mode: str = "direct",
                       function: str | None = None, samples: int = 1,
                       temperature: float | None = None, max_new_tokens: int | None = None
                       ) -> Prediction | list[Prediction]:
        """What does the call return? One Prediction, or a list when samples > 1."""
        fn, args = parse_call(code, call_or_args, function)
        preds = self.predict_output_batch([OutputTask(code, fn, args)], mode, samples,
                                          temperature, max_new_tokens=max_new_tokens)[0]
        return preds if samples > 1 else preds[0]

    def predict_inputs(self, code: str, function: str | None, target_output: str, k: int = 1,
                       mode: str = "direct", temperature: float | None = None,
                       max_new_tokens: int | None = None) -> list[Prediction]:
        """k candidate inputs for which `function` returns `target_output`, each verified."""
        fn = function or default_function(code)
        return self.predict_input_batch([InputTask(code, fn, target_output)], mode, k,
                                        temperature, max_new_tokens=max_new_tokens)[0]

    # -- batches ------------------------------------------------------------------------

    def _gen_config(self, spec: P.PromptSpec, samples: int, temperature: float | None,
                    max_new_tokens: int | None, seed: int | None) -> GenConfig:
        if temperature is None:
            temperature = DEFAULT_TEMPERATURE if samples > 1 else 0.0
        return GenConfig(max_new_tokens=max_new_tokens or spec.max_new_tokens,
                         temperature=temperature, stop=spec.stop, seed=seed,
                         repeat_ngram=spec.repeat_ngram, ban_first=spec.ban_first)

    def _generate(self, specs: list[P.PromptSpec], cfg: GenConfig, samples: int,
                  cancel: Callable[[], bool] | None, hint: str | None = None
                  ) -> list[list[Generation]]:
        texts = [P.render(self.tokenizer, s) for s in specs]
        with self._lock:
            return self.engine.generate_many(texts, cfg, self.batch_size, samples, cancel,
                                             prefix_hint=hint)

    def _hint(self, kind: str, mode: str) -> str:
        """The text every prompt of this kind starts with: two dummy tasks' common prefix."""
        key = (kind, mode)
        if key not in self._hints:
            make = P.output_prompt if kind == "output" else P.input_prompt
            a = P.render(self.tokenizer, make("def f(a):\n    return a", "f", "1", mode))
            b = P.render(self.tokenizer, make("def g(b, c):\n    pass", "g", "'x'", mode))
            self._hints[key] = os.path.commonprefix([a, b])
        return self._hints[key]

    def predict_output_batch(self, tasks: Sequence[OutputTask], mode: str = "direct",
                             samples: int = 1, temperature: float | None = None,
                             cancel: Callable[[], bool] | None = None,
                             max_new_tokens: int | None = None, seed: int | None = 0
                             ) -> list[list[Prediction]]:
        from tracecot.tracer.schema import RunRequest

        def make(task: OutputTask, raw: str, g: Generation):
            value = extract_output(raw, task.function)
            p = _from_generation("output", mode, task.function, task.args, value, raw, g)
            if value is None:
                p.error = "no answer found in the model's reply"
            # The real call always runs, so `actual` is known even without an answer.
            return p, RunRequest(function=task.function, args=task.args, source=task.code,
                                 timeout=self.timeout, expected=value)

        specs = [P.output_prompt(t.code, t.function, t.args, mode) for t in tasks]
        preds, checked = self._generate_and_run("output", tasks, specs, mode, make, samples,
                                                temperature, cancel, max_new_tokens, seed)
        t0 = time.perf_counter()
        for (i, j), trace in checked:
            p = preds[i][j]
            p.run_status, p.actual = trace.status, outcome_text(trace)
            cmp = trace.comparison
            if p.prediction is not None and cmp is not None:
                p.verified = bool(cmp.python_equal) and not cmp.error
                if cmp.error:
                    p.error = f"prediction could not be evaluated: {cmp.error}"
            if mode == "cot" and self.check_reasoning and p.reasoning:
                p.verdicts = self._check(tasks[i].code, tasks[i].function, tasks[i].args,
                                         p.reasoning)
        self._add_verify_time(preds, time.perf_counter() - t0)
        return preds

    def predict_input_batch(self, tasks: Sequence[InputTask], mode: str = "direct",
                            samples: int = 1, temperature: float | None = None,
                            cancel: Callable[[], bool] | None = None,
                            max_new_tokens: int | None = None, seed: int | None = 0
                            ) -> list[list[Prediction]]:
        from tracecot.tracer.schema import RunRequest

        def make(task: InputTask, raw: str, g: Generation):
            args = extract_input(raw, task.function)
            p = _from_generation("input", mode, task.function, args, args, raw, g)
            if args is None:
                p.error = "no input found in the model's reply"
                return p, None
            return p, RunRequest(function=task.function, args=args, source=task.code,
                                 timeout=self.timeout, expected=task.output)

        specs = [P.input_prompt(t.code, t.function, t.output, mode) for t in tasks]
        preds, checked = self._generate_and_run("input", tasks, specs, mode, make, samples,
                                                temperature, cancel, max_new_tokens, seed)
        t0 = time.perf_counter()
        for (i, j), trace in checked:
            p = preds[i][j]
            p.run_status, p.actual = trace.status, outcome_text(trace)
            cmp = trace.comparison
            p.verified = trace.status == "returned" and cmp is not None and bool(cmp.python_equal)
            if trace.status == "error" and trace.error is not None:
                p.error = f"the predicted input does not run: {trace.error.message}"
            if mode == "cot" and self.check_reasoning and p.reasoning:
                p.verdicts = self._check(tasks[i].code, tasks[i].function, p.args or "",
                                         p.reasoning)
        self._add_verify_time(preds, time.perf_counter() - t0)
        return preds

    def _generate_and_run(self, kind: str, tasks: Sequence, specs: list, mode: str, make,
                          samples: int, temperature: float | None, cancel, max_new_tokens,
                          seed) -> tuple[list[list[Prediction]], list]:
        """Generate for every task, build each prediction and its check run with
        `make(task, raw_reply, generation) -> (Prediction, RunRequest | None)`, run the checks.
        Returns the predictions (one row per task) and [((task, sample), trace)]."""
        if not tasks:
            return [], []
        cfg = self._gen_config(specs[0], samples, temperature, max_new_tokens, seed)
        gens = self._generate(specs, cfg, samples, cancel, self._hint(kind, mode))
        t0 = time.perf_counter()
        preds: list[list[Prediction]] = []
        reqs, where = [], []
        for i, (task, spec, glist) in enumerate(zip(tasks, specs, gens, strict=True)):
            row = []
            for j, g in enumerate(glist):
                p, req = make(task, spec.prefill + g.text, g)
                if req is not None:
                    reqs.append(req)
                    where.append((i, j))
                row.append(p)
            preds.append(row)
        traces = self._run_sandbox(reqs, preds) if reqs else []
        self._add_verify_time(preds, time.perf_counter() - t0)
        # No traces at all when the sandbox failed (_run_sandbox): nothing to pair.
        return preds, list(zip(where, traces, strict=False))

    def _run_sandbox(self, reqs: list, preds: list[list[Prediction]]) -> list:
        """Run the checks; if the sandbox itself fails, every prediction says so (unverified)."""
        try:
            return self.sandbox.run_many(reqs)
        except Exception as e:  # noqa: BLE001 - e.g. tracer missing or broken
            for row in preds:
                for p in row:
                    p.error = f"verification unavailable: {type(e).__name__}: {e}"
            return []

    def _check(self, code: str, function: str, args: str, text: str) -> list[SentenceVerdict]:
        try:
            return verify_text(code, function, args, text).sentences
        except Exception as e:  # noqa: BLE001 - a verifier failure must not lose the prediction
            return [SentenceVerdict(text, "unchecked",
                                    note=f"verifier failed: {type(e).__name__}: {e}")]

    @staticmethod
    def _add_verify_time(preds: list[list[Prediction]], seconds: float) -> None:
        count = sum(len(r) for r in preds) or 1
        for row in preds:
            for p in row:
                p.latency_s += seconds / count


def _from_generation(kind: str, mode: str, function: str, args: str | None,
                     value: str | None, raw: str, g: Generation) -> Prediction:
    """An unverified prediction with the generation's text and timings."""
    return Prediction(kind, mode, function, args, value, False, raw=raw,
                      first_token_s=g.first_token_s, tokens=g.tokens, finish=g.finish,
                      prompt_tokens=g.prompt_tokens, latency_s=g.total_s,
                      reasoning=split_reasoning(g.text) if mode == "cot" else None)


_DEFAULT: Predictor | None = None
_DEFAULT_LOCK = threading.Lock()


def default_predictor() -> Predictor:
    """The process-wide predictor on the default model (loaded on first use)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Predictor()
        return _DEFAULT


def predict_output(code: str, call_or_args: str, mode: str = "direct", **kw):
    """Module-level shortcut: `predict_output(code, "f([1, 2])", mode="cot")`."""
    return default_predictor().predict_output(code, call_or_args, mode, **kw)


def predict_inputs(code: str, function: str | None, target_output: str, k: int = 1,
                   mode: str = "direct", **kw) -> list[Prediction]:
    return default_predictor().predict_inputs(code, function, target_output, k, mode, **kw)
