"""`tracecot predict`: the model's prediction for one call, checked by a real sandboxed run.

    tracecot predict FILE:FUNC ARGS              what does FUNC(ARGS) return?
    tracecot predict FILE:FUNC --output VALUE    which input gives VALUE? (-k candidates)
    options: --cot (verified reasoning), --json, --model, --adapter (none: the base model)

Exit codes as the other commands: 0 the prediction is proven right, 1 it is not, 2 bad
input (file, function, arguments, model), 3 the real run failed (timeout, syntax error...).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

EXIT_OK, EXIT_UNVERIFIED, EXIT_USAGE, EXIT_RUN_FAILED = 0, 1, 2, 3
_MARK = {"ok": "✓", "wrong": "✗", "unchecked": "·"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracecot predict",
                                description="Predict a function's output (or an input for a "
                                            "given output) with the local model; every "
                                            "prediction is checked by a real run.")
    p.add_argument("target", metavar="FILE:FUNC", help="e.g. examples/histogram.py:histogram")
    p.add_argument("args", nargs="?", default=None, help="arguments as Python source")
    p.add_argument("--output", default=None, metavar="VALUE",
                   help="predict an input for which FUNC returns VALUE (a Python literal)")
    p.add_argument("-k", type=int, default=1, help="input candidates to sample (with --output)")
    p.add_argument("--cot", action="store_true", help="reason step by step (verified)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--model", default=None, help="model checkpoint dir or .gguf")
    p.add_argument("--adapter", default=None,
                   help="adapter dir (default: the shipped fine-tuned one; 'none': base model)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds for the checking run")
    return p


def _fail(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"tracecot predict: {msg}", file=sys.stderr)
    return code


def _check_input(a) -> tuple[str, str, str] | int:
    """(code, function, error-free) or an exit code after printing why."""
    path, sep, func = a.target.rpartition(":")
    if not sep or not path or not func:
        return _fail(f"expected FILE:FUNCTION, got {a.target!r}")
    try:
        code = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        return _fail(f"cannot read {path}: {e.strerror or e}")
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return _fail(f"{path}:{e.lineno}: syntax error: {e.msg}", EXIT_RUN_FAILED)
    names = {n.name for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    if func.split(".")[0] not in names:
        return _fail(f"no function {func!r} in {path}")
    if (a.output is None) == (a.args is None):
        return _fail("give either ARGS (predict the output) or --output VALUE (predict an "
                     "input), not both" if a.args is not None else
                     "give ARGS (predict the output) or --output VALUE (predict an input)")
    for what, text, wrap in (("ARGS", a.args, "f({})"), ("--output", a.output, "({})")):
        if text is not None:
            try:
                ast.parse(wrap.format(text), mode="eval")
            except SyntaxError:
                return _fail(f"{what} is not valid Python: {text!r}")
    if a.k < 1:
        return _fail("-k must be at least 1")
    return code, func, path


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    checked = _check_input(a)
    if isinstance(checked, int):
        return checked
    code, func, path = checked
    from .loading import ModelLoadError, load_model
    from .predict import Prediction, Predictor
    try:
        lm = load_model(a.model, a.adapter)
    except ModelLoadError as e:
        return _fail(str(e))
    predictor = Predictor(lm=lm, timeout=a.timeout)
    mode = "cot" if a.cot else "direct"
    preds: list[Prediction]
    if a.output is None:
        one = predictor.predict_output(code, a.args, mode, function=func)
        preds = [one] if isinstance(one, Prediction) else one    # one sample: one Prediction
    else:
        preds = predictor.predict_inputs(code, func, a.output, k=a.k, mode=mode)
    if a.json:
        json.dump({"model": lm.describe(), "predictions": [p.to_json() for p in preds]},
                  sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print(preds, lm, a)
    if any(p.verified for p in preds):
        return EXIT_OK
    if a.output is None and preds[0].run_status == "error":
        return EXIT_RUN_FAILED
    return EXIT_UNVERIFIED


def _bare(line: str) -> str:
    """A reasoning line without its indentation and step number ("  3. ...")."""
    return re.sub(r"^\s*\d+\.\s+", "", line).strip()


def _print(preds, lm, a) -> None:
    model = lm.name + (f" + {Path(lm.adapter).name} adapter" if lm.adapter else " (base)")
    print(f"model: {model}")
    for p in preds:
        mark = "✓" if p.verified else "✗"
        if p.kind == "output":
            print(f"{p.function}({p.args}) == {p.prediction if p.prediction is not None else '?'}"
                  f"  {mark}  (real run: {p.actual})")
        else:
            shown = p.args if p.args is not None else "?"
            print(f"{p.function}({shown}) == {a.output}  {mark}"
                  + (f"  (real run: {p.actual})" if p.actual is not None else ""))
        if p.error and not p.verified:
            print(f"  {p.error}")
        if p.reasoning:
            verdicts = {v.sentence.strip(): v for v in p.verdicts}
            lines = p.reasoning.splitlines()
            if p.verdicts and not any(_bare(line) in verdicts for line in lines):
                lines = [v.sentence for v in p.verdicts]     # the verifier split otherwise
            for line in lines:
                v = verdicts.get(_bare(line))
                tail = f"  (really {v.actual})" if v is not None and v.status == "wrong" \
                    and v.actual else ""
                print(f"  {_MARK.get(v.status, '·') if v else ' '} {line}{tail}")
            if p.verdicts:
                ok = sum(v.status == "ok" for v in p.verdicts)
                checked = sum(v.status != "unchecked" for v in p.verdicts)
                print(f"  reasoning: {ok}/{checked} checked sentences verified")
