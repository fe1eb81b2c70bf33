"""The four `workspace/executeCommand` commands, as plain async functions.

Each takes the service, the single arguments object `{uri, function?, line?, args?, target?,
runId?}` and a progress reporter, and answers a JSON-ready dict: the command's answer,
`{needsArgs: true, function, suggestions}` or `{error: "..."}`. They never raise for bad
input; cancellation (CancelledError) propagates, and the runs it interrupts are cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol.converters import get_converter

from tracecot.tracer import SentenceVerdict

from . import finder, present
from .asserts import assert_edit, readable_assert
from .calls import args_of_call, example_from_call, input_text
from .document import Document, Example, FunctionInfo
from .inputs import is_valid_expression
from .model import ModelUnavailable
from .service import Service
from .workspace import root_for, write_launcher

log = logging.getLogger(__name__)

EXPLAIN, FIND, PREDICT, DEBUG = ("tracecot.server.explainRun", "tracecot.server.findInput",
                                 "tracecot.server.predictOutput", "tracecot.server.debugRun")
ALL = (EXPLAIN, FIND, PREDICT, DEBUG)
_LSP = get_converter()               # lsprotocol types -> the JSON the client receives


class NullProgress:
    def begin(self, title: str) -> None: ...
    def report(self, message: str, percentage: int | None = None) -> None: ...
    def end(self, message: str | None = None) -> None: ...


class _Problem(Exception):
    """Ends a command with `{error: message}`."""


def _str(a: dict, key: str) -> str | None:
    v = a.get(key)
    return v if isinstance(v, str) else None


def _resolve(svc: Service, a, need_args: bool = True):
    """(uri, doc, fn, input or None, answer-to-return-instead or None).

    `args` is what goes between the parentheses, or the whole call; for a method the whole
    call says what it is called on (`Stack([1]).push(2)`); `receiver` may say it instead.
    Without either, a method runs on `Cls()` when the class needs no arguments."""
    if not isinstance(a, dict):
        raise _Problem("the command needs one argument object with a \"uri\"")
    if not svc.trusted:
        raise _Problem(present.UNTRUSTED)
    uri = _str(a, "uri")
    if not uri:
        raise _Problem("the command needs the document's \"uri\"")
    run_id = _str(a, "runId")
    e = svc.run_input(run_id) if run_id else None
    if e is not None and not _str(a, "args"):
        a = {**a, "function": _str(a, "function") or e.function, "args": input_text(e)}
    doc = svc.document(uri)
    if doc is None:
        raise _Problem(f"cannot read {uri}")
    if doc.syntax is not None:
        raise _Problem(f"{doc.syntax.message}; tracecot runs the file once it parses")
    name = _str(a, "function")
    fn = doc.function(name) if name else None
    if fn is None and name is None:
        line = a.get("line")
        if isinstance(line, int) and not isinstance(line, bool):
            fn = doc.function_at(line)
        if fn is None:
            raise _Problem("put the cursor inside a function (none found at "
                           + (f"line {line + 1})" if isinstance(line, int) else "the cursor)"))
    if fn is None:
        skipped = next((s for s in doc.skipped if s.name == name), None) if name else None
        if skipped is not None:
            raise _Problem(skipped.reason)
        if name and name.replace(".", "_").isidentifier():
            raise _Problem(f"no function {name!r} in this file (tracecot runs top-level "
                           f"functions and the methods of top-level classes)")
        fn = FunctionInfo(name=name or "", def_line=0, name_range=(0, 0, 0, 0), end_line=0)
    args = _str(a, "args")
    # the instance a method or property runs on: the one given, else one made from nothing
    receiver = (_str(a, "receiver") or "").strip() or fn.default_receiver
    ex = None
    if args is not None:
        args = args.strip()
        whole = None
        if fn.is_method:
            whole = example_from_call(fn, args)
        elif args.startswith((fn.name.rsplit(".", 1)[-1] + "(", fn.name + "(")):
            parsed = args_of_call(args)
            whole = fn.example(parsed[1]) if parsed is not None else None
        if whole is not None:             # the user typed the whole call
            ex = fn.example(whole.args, origin="command", receiver=whole.receiver)
        elif fn.kind == "property":       # the instance alone, or nothing: the default one
            ex = fn.example("", origin="command", receiver=args or receiver)
            if ex.receiver is None:
                cls, m = fn.name.rsplit(".", 1)
                raise _Problem(f"{fn.name} is a property and {cls}(...) needs arguments: "
                               f"type the instance, e.g. {cls}(...), or the read, "
                               f"e.g. {cls}(...).{m}")
        else:
            ex = fn.example(args, origin="command")
            if fn.kind == "class":
                ex.receiver = fn.cls
            elif fn.kind == "method":
                ex.receiver = receiver
                if ex.receiver is None:
                    cls, m = fn.name.rsplit(".", 1)
                    raise _Problem(f"{fn.name} is a method and {cls}(...) needs arguments: "
                                   f"type the whole call, e.g. {cls}(...).{m}({args})")
        if not is_valid_expression(f"f({ex.run_args})"):
            raise _Problem(f"the arguments are not valid Python: {ex.call}")
    if ex is None and need_args:
        if not fn.params and (fn.kind not in ("method", "property") or fn.default_receiver):
            ex = fn.example("", origin="command",
                            receiver=fn.cls if fn.kind == "class" else fn.default_receiver
                            if fn.kind in ("method", "property") else None)
        else:
            sugg = [input_text(e) for e in svc.examples(uri, doc, fn)]
            return uri, doc, fn, None, {"needsArgs": True, "function": fn.name,
                                        "suggestions": sugg[:10]}
    return uri, doc, fn, ex, None


async def run_command(svc: Service, command: str, a, progress=None) -> dict:
    progress = progress or NullProgress()
    try:
        if command == EXPLAIN:
            return await explain_run(svc, a, progress)
        if command == FIND:
            return await find_input(svc, a, progress)
        if command == PREDICT:
            return await predict_output(svc, a, progress)
        if command == DEBUG:
            return await debug_run(svc, a)
        return {"error": f"unknown command {command!r}"}
    except _Problem as p:
        return {"error": str(p)}
    except asyncio.CancelledError:
        raise
    except Exception as e:  # a bug must become an answer, not a dead request
        log.exception("command %s failed", command)
        return {"error": f"internal error: {type(e).__name__}: {e}"}


def _remember(svc: Service, uri: str, fn: FunctionInfo, ex: Example, doc: Document) -> str:
    """Make this the function's selected run (its run id answers); keep it in the workspace
    history."""
    path = svc.to_path(uri)
    known = {e.key for e in doc.examples_for(fn.name)}
    if path and ex.key not in known:
        svc.history(uri).add(path, fn.name, input_text(ex))
    return svc.select(uri, fn.name, ex)


def _expected_for(doc: Document, fn: FunctionInfo, ex: Example) -> Example:
    for e in doc.examples_for(fn.name):
        if e.key == ex.key:
            return e
    return ex


async def explain_run(svc: Service, a, progress) -> dict:
    uri, doc, fn, ex, early = _resolve(svc, a)
    if early:
        return early
    call = ex.call
    progress.begin(f"tracecot: running {present.short(call, 60)}")
    try:
        run = await svc.run(uri, doc, _expected_for(doc, fn, ex))
        if not run.trace.ok:
            return {"error": f"{call}: {present.outcome(run.trace, 300)}"}
        rid = _remember(svc, uri, fn, ex, doc)
        progress.report("narrating and verifying", 50)
        expl = await svc.explanation(run)
        arrow = "→" if run.trace.status == "returned" else "⇒"
        answer = {"title": f"{call} {arrow} {present.outcome(run.trace, 80)}",
                  "markdown": expl.markdown, "verified": bool(expl.verified),
                  "steps": [{"index": s.index, "line": s.line, "text": s.text,
                             "verified": s.verified, "depth": s.depth} for s in expl.steps],
                  "runId": rid, "function": fn.name, "args": input_text(ex), "call": call}
        if svc.model.state == "ready":
            progress.report("checking the model's reasoning", 75)
            try:
                p = await svc.model.predict_output(doc.runnable, fn.name, ex.run_args, mode="cot")
                answer["reasoning"] = _reasoning(p)
            except ModelUnavailable as e:
                log.info("no reasoning: %s", e)
        return answer
    finally:
        progress.end()


def _reasoning(p: dict) -> list[dict]:
    """The model's reasoning for the editor: its sentence verdicts (SentenceVerdict JSON, as the
    worker sent them), else the whole reasoning as one unchecked sentence."""
    out = [SentenceVerdict.from_json(v).to_json() for v in p.get("verdicts") or []]
    if not out and p.get("reasoning"):
        out.append(SentenceVerdict(str(p["reasoning"]), "unchecked").to_json())
    return out


async def predict_output(svc: Service, a, progress) -> dict:
    uri, doc, fn, ex, early = _resolve(svc, a)
    if early:
        return early
    if ex.attribute:
        return {"error": f"{fn.name} is a property: the model predicts what calls return; "
                         f"run *Explain run* to see what {ex.call} gives"}
    if not svc.model.enabled:
        return {"error": svc.model.message if svc.model.state == "unavailable"
                else "model not available: it is disabled (setting tracecot.model.enabled)"}
    progress.begin(f"tracecot: predicting {present.short(ex.call, 60)}")
    try:
        if svc.model.state == "loading":
            progress.report("loading the model", 10)
        model_task = asyncio.ensure_future(
            svc.model.predict_output(doc.runnable, fn.name, ex.run_args, mode="cot"))
        run = await svc.run(uri, doc, ex)
        try:
            p = await model_task
        except ModelUnavailable as e:
            return {"error": str(e)}
        finally:
            model_task.cancel()
        prediction = p.get("prediction")
        verified = False
        if not isinstance(prediction, str) or not prediction.strip():
            prediction = "(no answer" + (f": {p['error']})" if p.get("error") else ")")
        elif run.trace.status == "returned" and is_valid_expression(prediction):
            check = await svc.runner.run(svc.request(uri, doc, ex, expected=prediction))
            verified = bool(check.comparison and check.comparison.python_equal
                            and not check.comparison.error)
        _remember(svc, uri, fn, ex, doc)
        return {"prediction": prediction, "verified": verified,
                "actual": present.outcome(run.trace, 500), "reasoning": _reasoning(p),
                "function": fn.name, "args": input_text(ex), "call": ex.call}
    finally:
        progress.end()


async def find_input(svc: Service, a, progress) -> dict:
    uri, doc, fn, given, _ = _resolve(svc, a, need_args=False)
    target = _str(a, "target")
    if target is None or not target.strip():
        return {"error": "say which output you want (\"target\")"}
    target = target.strip()
    if not is_valid_expression(target):
        return {"error": f"the target is not a Python expression: {target}"}
    if fn.kind == "property":
        cls = fn.name.rsplit(".", 1)[0]
        return {"error": f"{fn.name} is a property: it takes no arguments to search over. "
                         f"Its value depends on the instance; run *Explain run* on "
                         f"{cls}(...).{fn.def_name} with the instances you want to try"}
    examples = svc.examples(uri, doc, fn)
    # A method's inputs are searched on one instance: the one given, else a known one.
    receiver = given.receiver if given is not None else next(
        (e.receiver for e in examples if e.receiver is not None),
        fn.cls if fn.kind == "class" else fn.default_receiver)
    if fn.kind == "method" and receiver is None:
        cls, m = fn.name.rsplit(".", 1)
        return {"error": f"{fn.name} is a method and {cls}(...) needs arguments: give an "
                         f"instance, e.g. \"args\": \"{cls}(...).{m}()\""}
    known = [e.args for e in examples if e.receiver == receiver]
    if given is not None:
        known.insert(0, given.args)
    budget = svc.settings.budget
    per_run = min(svc.settings.timeout, 1.0)
    progress.begin(f"tracecot: looking for {fn.name}(…) == {present.short(target, 40)}")

    def run(args: str):
        req = svc.request(uri, doc, fn.example(args, receiver=receiver), expected=target)
        req.timeout = per_run
        req.max_events = 64           # only the result matters here
        return svc.runner.run(req, cache=False)

    def report(tried: int, found: int, elapsed: float) -> None:
        pct = int(min(99, 100 * elapsed / budget))
        progress.report(f"{tried} inputs tried, {found} found", pct)

    model_task = None
    if svc.model.state == "ready" and not fn.is_method:
        model_task = asyncio.ensure_future(svc.model.predict_inputs(doc.runnable, fn.name, target))
    try:
        problem = finder.Problem(doc.runnable, fn.name, target, path=svc.to_path(uri),
                                 callee=f"{receiver}.{fn.def_name}" if receiver else None)
        result = await finder.find(problem, lambda req: svc.runner.run(req, cache=False),
                                   budget, known=known, progress=report)
        found = list(result.found)
        if model_task is not None:
            found += await _model_inputs(model_task, run, found, budget)
    finally:
        if model_task is not None:
            model_task.cancel()
        progress.end()
    def as_input(f):
        e = fn.example(f.args, receiver=receiver)
        text = readable_assert(e, target, doc.text)
        return {"args": input_text(e), "verified": True, "result": f.result, "call": e.call,
                "assertText": text,
                "edit": _LSP.unstructure(assert_edit(doc.text, text, fn.after_line))}
    inputs = [as_input(f) for f in found]
    if inputs:
        message = (f"{len(inputs)} input{'s' * (len(inputs) != 1)} proven by running "
                   f"{fn.name} ({result.tried} tried in {result.elapsed:.1f} s)")
    elif result.lookalike is not None:
        like = fn.example(result.lookalike.args, receiver=receiver)
        message = (f"no input makes `{like.call} == {present.short(target, 60)}` true: "
                   f"{like.call} gives {present.short(result.lookalike.result, 60)}, which "
                   f"looks the same, but `==` says they differ (objects of a class without "
                   f"__eq__ are equal only to themselves)")
    else:
        why = "every candidate was tried" if result.exhausted else f"within {budget:g} s"
        message = (f"no input found that makes {fn.name} return {present.short(target, 60)} "
                   f"({result.tried} tried, {why})")
    answer = {"inputs": inputs, "message": message, "function": fn.name,
              "insertLine": fn.after_line}
    if inputs:
        answer["assertText"], answer["edit"] = inputs[0]["assertText"], inputs[0]["edit"]
        test = _test_for(svc, uri, fn, [i["assertText"] for i in inputs], target)
        if test is not None:
            answer["testText"], answer["testPath"] = test
    return answer


def _test_for(svc: Service, uri: str, fn: FunctionInfo, asserts: list[str],
              target: str) -> tuple[str, str] | None:
    """A pytest test with the proven asserts, and where it would go: `tests/test_<module>.py`
    when the workspace has a tests folder, else next to the module."""
    path = svc.to_path(uri)
    if not path:
        return None
    stem = os.path.splitext(os.path.basename(path))[0]
    if not stem.isidentifier():
        return None
    root = root_for(path, svc.roots) or os.path.dirname(path)
    folder = os.path.join(root, "tests") if os.path.isdir(os.path.join(root, "tests")) \
        else os.path.dirname(path)
    name = "".join(c if c.isalnum() else "_" for c in f"{fn.name}_gives_{target}".lower())
    name = "_".join(p for p in name.split("_") if p)[:60]
    body = "\n".join(f"    {line}" for a in asserts for line in a.splitlines())
    text = f"from {stem} import {fn.name.split('.')[0]}\n\n\ndef test_{name}():\n{body}\n"
    return text, os.path.join(folder, f"test_{stem}.py")


async def _model_inputs(task, run, found, budget: float) -> list:
    try:
        preds = await asyncio.wait_for(task, timeout=max(1.0, budget / 2))
    except (ModelUnavailable, asyncio.TimeoutError) as e:
        log.info("model inputs unavailable: %s", e)
        return []
    out, have = [], {f.args for f in found}
    for p in preds:
        args = p.get("prediction")
        if not isinstance(args, str) or args in have:
            continue
        trace = await run(args)       # proven here too, not taken on the model's word
        if trace.status == "returned" and trace.comparison and trace.comparison.python_equal:
            from tracecot.tracer.values import render
            out.append(finder.Found(args, render(trace.result)))
            have.add(args)
    return out


async def debug_run(svc: Service, a) -> dict:
    """How to debug exactly this run: a launch configuration (`program`, `args`, `cwd`, and
    the whole `configuration` for VS Code's Python debugger) that loads the file as the
    sandbox does (top-level asserts and bare calls left out) and makes the same call."""
    uri, doc, fn, ex, early = _resolve(svc, a)
    if early:
        return early
    path = svc.to_path(uri)
    if not path or not os.path.isfile(path):
        return {"error": "save the file first: the debugger runs it from disk"}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            on_disk = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        return {"error": f"cannot read {path}: {e}"}
    if on_disk.replace("\r\n", "\n") != doc.text.replace("\r\n", "\n"):
        return {"error": "save the file first: the debugger runs the file on disk, which "
                         "differs from the editor"}
    root = root_for(path, svc.roots) or os.path.dirname(path)
    try:
        launcher = write_launcher(root)
    except OSError as e:
        return {"error": f"cannot write the debug launcher under {root}/.tracecot: {e}"}
    _remember(svc, uri, fn, ex, doc)
    args = [path, fn.name, ex.run_args]
    config = {"type": "debugpy", "request": "launch", "name": f"tracecot: {ex.call}"[:120],
              "program": launcher, "args": args, "cwd": root, "justMyCode": True,
              "console": "internalConsole"}
    return {"program": launcher, "args": args, "cwd": root, "call": ex.call,
            "function": fn.name, "line": fn.def_line, "configuration": config}
