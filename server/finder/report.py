"""`tracecot find-input`: load, check, search, and say what was found (text or JSON).

Exit codes as the rest of the CLI: 0 found, 1 none found within the budget, 2 usage (no such
file or function, OUTPUT not a Python literal/expression), 3 the function failed on every
candidate (each one hung or ran out of its limits, or each one raised).
"""

from __future__ import annotations

import ast
import asyncio
import json
import re

from .batch import Problem, sandbox_runner
from .search import FindResult, find
from .types import find_function

EXIT_OK, EXIT_NONE, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


def doctest_inputs(tree: ast.AST, func: str) -> list[str]:
    """Argument sources of `>>> func(...)` lines in the function's docstring."""
    fn = find_function(tree, func)
    doc = ast.get_docstring(fn) if fn is not None else None
    out = []
    name = func.rsplit(".", 1)[-1]
    for line in (doc or "").splitlines():
        m = re.match(rf"\s*>>>\s*{re.escape(name)}\((.*)\)\s*$", line)
        if m:
            try:
                call = ast.parse(f"f({m.group(1)})", mode="eval").body
            except SyntaxError:
                continue
            if isinstance(call, ast.Call):
                out.append(m.group(1))
    return out


class ModelHook:
    """tracecot.model's predict_inputs behind the finder's async `predict_inputs`; the
    model runs in a thread (its own worker process where it has one), never user code."""

    def __init__(self, k: int = 4):
        self.k = k

    async def predict_inputs(self, code: str, function: str, target: str) -> list[str]:
        from tracecot.model.predict import predict_inputs
        preds = await asyncio.to_thread(predict_inputs, code, function, target, self.k)
        return [p.prediction for p in preds if p.prediction]


def check(path: str, func: str, output: str) -> tuple[str | None, str | None]:
    """(source, None) when the search can start, else (None, message)."""
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        return None, f"cannot read {path}: {getattr(e, 'strerror', None) or e}"
    try:
        tree = ast.parse(source, path)
    except SyntaxError as e:
        return None, f"{path} does not parse: line {e.lineno}: {e.msg}"
    if find_function(tree, func) is None:
        names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef,
                                                             ast.AsyncFunctionDef))]
        return None, (f"no function named {func!r} in {path}"
                      + (f" (functions there: {', '.join(names)})" if names else ""))
    if "." in func:
        return None, f"{func} is a method: find-input searches plain functions"
    try:
        ast.parse(output.strip(), mode="eval")
    except SyntaxError:
        return None, f"OUTPUT is not a Python expression: {output}"
    return source, None


def describe(res: FindResult, func: str, target: str, budget: float) -> str:
    if res.found:
        lines = [f"{len(res.found)} input{'s' * (len(res.found) != 1)} proven by running "
                 f"{func} ({res.tried} tried in {res.elapsed:.1f} s), simplest first:"]
        lines += [f"  {func}({f.args}) == {target}    [{f.stage}]" for f in res.found]
        return "\n".join(lines)
    if res.lookalike is not None:
        return (f"no input makes {func}(...) == {target}: {func}({res.lookalike.args}) gives "
                f"{res.lookalike.result}, which looks the same, but == says they differ")
    if res.all_failed == "hang":
        return (f"{func} hung or ran out of its limits on every candidate tried "
                f"({res.tried}): no input found")
    if res.all_failed == "raised":
        return f"{func} raised an exception on every candidate tried ({res.tried})"
    if res.all_failed == "failed":
        return (f"{func} raised an exception or hung on every candidate tried ({res.tried}): "
                f"no input found")
    why = "every candidate was tried" if res.exhausted else f"within the {budget:g} s budget"
    lines = [f"no input found that makes {func} return {target} ({res.tried} tried, {why})"]
    if res.closest:
        lines.append("closest outputs reached:")
        lines += [f"  {func}({c.args}) -> {c.result}" for c in res.closest]
    return "\n".join(lines)


def as_json(res: FindResult, func: str, target: str, message: str) -> dict:
    return {"function": func, "target": target, "inputs": [f.args for f in res.found],
            "found": [{"args": f.args, "result": f.result, "stage": f.stage}
                      for f in res.found],
            "closest": [{"args": c.args, "result": c.result} for c in res.closest],
            "tried": res.tried, "runs": res.runs, "elapsed": round(res.elapsed, 3),
            "message": message}


def find_input_cli(path: str, func: str, output: str, budget: float, sandbox,
                   as_json_out: bool = False, model: bool = False, **kw) -> tuple[int, str]:
    as_json_out = kw.pop("as_json", as_json_out)
    source, error = check(path, func, output)
    target = output.strip()
    if error is not None:
        if as_json_out:
            return EXIT_USAGE, json.dumps({"function": func, "target": target, "inputs": [],
                                           "error": error})
        return EXIT_USAGE, f"tracecot: {error}"
    assert source is not None, "check() gives the source when there is no error"
    tree = ast.parse(source)
    problem = Problem(source, func, target, path=path)
    res = asyncio.run(find(problem, sandbox_runner(sandbox), budget=budget,
                           known=doctest_inputs(tree, func),
                           model=ModelHook() if model else None))
    message = describe(res, func, target, budget)
    code = EXIT_OK if res.found else EXIT_FAILED if res.all_failed else EXIT_NONE
    why = backward_story(sandbox, problem, res.found[0].args) if res.found else None
    if as_json_out:
        out = as_json(res, func, target, message)
        out["why"] = why
        return code, json.dumps(out, ensure_ascii=False)
    if not res.found:
        return code, f"tracecot: {message}"
    return code, message + (f"\n\nwhy {func}({res.found[0].args}) gives {target}, "
                            f"backwards:\n{why}" if why else "")


def backward_story(sandbox, problem: Problem, args: str) -> str | None:
    """The backward narrative of the first answer (a fresh traced run in the sandbox)."""
    from tracecot.tracer import RunRequest
    from tracecot.tracer.narration.narrate import narrate_backward, to_plain
    req = RunRequest(function=problem.function, args=args, source=problem.source,
                     path=problem.path, timeout=2.0)
    trace = sandbox.run(req)
    if trace.status != "returned":
        return None
    try:
        return to_plain(narrate_backward(trace, req))
    except Exception:  # noqa: BLE001 - the answer stands without its story
        return None
