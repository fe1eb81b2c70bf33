"""Prediction API: scripted model replies, verification through a sandbox, dataclass results.

The first group runs against a stand-in sandbox (answers from a table, built with the
tracer's own schema), so the plumbing is tested even without the tracer's sandbox; the
second group uses the real sandbox (tracecot.tracer.run) and the tiny random model.
"""

import ast
import json
from dataclasses import dataclass

import pytest

from tracecot.model.generate import Generation
from tracecot.model.predict import Prediction, Predictor, SentenceVerdict, split_reasoning
from tracecot.tracer.schema import SCHEMA_VERSION, Comparison, ExceptionInfo, Trace
from tracecot.tracer.values import encode

CODE = "def f(nums):\n    return sorted(nums)[::-1]"
CODE2 = "def f(s, n):\n    return s * n"


class StubTokenizer:
    chat_template = None


@dataclass
class ScriptedEngine:
    """Replies chosen by a function of the prompt; records what it was asked."""
    reply: object
    tokenizer: object = StubTokenizer()
    calls: list = None

    def generate_many(self, texts, cfg, batch_size=8, samples=1, cancel=None, prefix_hint=None):
        assert prefix_hint is None or all(t.startswith(prefix_hint) for t in texts)
        self.calls = (self.calls or []) + [(list(texts), cfg, samples)]
        return [[Generation(self.reply(t, j), 3, "stop", 10, 0.01, 0.02) for j in range(samples)]
                for t in texts]


class TableSandbox:
    """Stand-in for tracecot.tracer.Sandbox: results looked up, never executed."""

    def __init__(self, table):
        self.table, self.requests = table, []

    def run_many(self, reqs):
        self.requests.extend(reqs)
        out = []
        for r in reqs:
            res = self.table.get((r.function, r.args))
            tr = Trace(version=SCHEMA_VERSION, function=r.function, call=f"{r.function}({r.args})",
                       path=None, backend="table", python="3", status="returned")
            if isinstance(res, Exception):
                tr.status = "raised"
                tr.exception = ExceptionInfo(type(res).__name__, str(res), 2)
            else:
                tr.result = encode(ast.literal_eval(res))
            if r.expected is not None and tr.status == "returned":
                try:
                    exp = ast.literal_eval(r.expected)
                    tr.comparison = Comparison(encode(exp), False,
                                               exp == ast.literal_eval(res), None)
                except (ValueError, SyntaxError) as e:
                    tr.comparison = Comparison(None, False, False, str(e))
            out.append(tr)
        return out


TABLE = {("f", "[1, 3, 2]"): "[3, 2, 1]", ("f", "'ab', 2"): "'abab'", ("f", "'a', 4"): "'aaaa'",
         ("f", "'zz', 1"): "'zz'",
         ("f", "None"): TypeError("'NoneType' object is not iterable")}


def _predictor(reply):
    return Predictor(engine=ScriptedEngine(reply), sandbox=TableSandbox(TABLE))


def test_correct_output_prediction_is_verified():
    p = _predictor(lambda t, j: "[3, 2, 1]\n").predict_output(CODE, "f([1, 3, 2])")
    assert isinstance(p, Prediction)
    assert p.prediction == "[3, 2, 1]" and p.verified and p.actual == "[3, 2, 1]"
    assert p.kind == "output" and p.mode == "direct" and p.args == "[1, 3, 2]"
    assert p.raw.startswith("[ANSWER]\nassert f([1, 3, 2]) ==") and p.latency_s > 0
    assert json.loads(json.dumps(p.to_json()))["verified"] is True


def test_wrong_output_prediction_shows_real_value():
    pred = _predictor(lambda t, j: "[1, 2, 3]\n")
    p = pred.predict_output(CODE, "[1, 3, 2]")         # bare arguments work too
    assert p.prediction == "[1, 2, 3]" and not p.verified and p.actual == "[3, 2, 1]"
    req = pred.sandbox.requests[-1]
    assert req.expected == "[1, 2, 3]" and req.source == CODE and req.function == "f"


def test_unparseable_reply_still_reports_the_real_outcome():
    p = _predictor(lambda t, j: "I think it is hard to say\n").predict_output(CODE, "f(None)")
    assert p.prediction is None and not p.verified and "no answer" in p.error
    assert p.actual.startswith("raises TypeError")


def test_input_prediction_and_k_samples():
    replies = ["'ab', 2) == ", "'zz', 1) == ", "oops"]
    pred = _predictor(lambda t, j: replies[j])
    preds = pred.predict_inputs(CODE2, "f", "'abab'", k=3)
    assert [p.prediction for p in preds] == ["'ab', 2", "'zz', 1", None]
    assert [p.verified for p in preds] == [True, False, False]
    texts, cfg, samples = pred.engine.calls[-1]
    assert samples == 3 and cfg.temperature > 0            # k > 1 samples: sampling
    assert "assert f(??) == 'abab'" in texts[0]


def test_output_samples_return_a_list_and_greedy_by_default():
    pred = _predictor(lambda t, j: ["'abab'", "'ab'"][j] + "\n")
    one = pred.predict_output(CODE2, "f('ab', 2)")
    assert one.verified and pred.engine.calls[-1][1].temperature == 0.0
    many = pred.predict_output(CODE2, "f('ab', 2)", samples=2, temperature=0.5)
    assert [p.verified for p in many] == [True, False]


def test_batch_api_keeps_task_order():
    from tracecot.model.predict import OutputTask
    pred = _predictor(lambda t, j: ("'aaaa'" if "f('a', 4)" in t else "'abab'") + "\n")
    res = pred.predict_output_batch([OutputTask(CODE2, "f", "'a', 4"),
                                     OutputTask(CODE2, "f", "'ab', 2")])
    assert [r[0].prediction for r in res] == ["'aaaa'", "'abab'"]
    assert all(r[0].verified for r in res)


def test_cot_reply_keeps_reasoning():
    reply = ("f is called with nums = [1, 3, 2].\nsorted(nums) is [1, 2, 3].\n"
             "[ANSWER]\nassert f([1, 3, 2]) == [3, 2, 1]\n[/ANSWER]")
    pred = _predictor(lambda t, j: reply)
    pred.check_reasoning = False
    p = pred.predict_output(CODE, "f([1, 3, 2])", mode="cot")
    assert p.verified and p.reasoning == split_reasoning(reply)
    assert p.reasoning.endswith("[1, 2, 3].")
    assert pred.engine.calls[-1][1].stop == ("[/ANSWER]",)


# -- with the real sandbox --------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_sandbox():
    from tracecot.tracer.running.sandbox import Sandbox
    return Sandbox()


def test_real_sandbox_verifies_scripted_answers(real_sandbox):
    pred = Predictor(engine=ScriptedEngine(lambda t, j: "[3, 2, 1]\n"), sandbox=real_sandbox)
    ok = pred.predict_output(CODE, "f([1, 3, 2])")
    assert ok.verified and ok.actual == "[3, 2, 1]" and ok.run_status == "returned"
    bad = pred.predict_output(CODE, "f([5, 4])")
    assert not bad.verified and bad.actual == "[5, 4]"
    # a malicious "prediction" is evaluated in the sandbox only, and does not match
    evil = Predictor(engine=ScriptedEngine(lambda t, j: "__import__('os').getpid()\n"),
                     sandbox=real_sandbox).predict_output(CODE, "f([1])")
    assert not evil.verified


def test_real_sandbox_input_prediction(real_sandbox):
    pred = Predictor(engine=ScriptedEngine(lambda t, j: "'ab', 2) == "), sandbox=real_sandbox)
    p = pred.predict_inputs(CODE2, "f", "'abab'")[0]
    assert p.verified and p.actual == "'abab'"
    hang = Predictor(engine=ScriptedEngine(lambda t, j: "[1]) == "), sandbox=real_sandbox,
                     timeout=1.0)
    # Slow lines: the deadline, not the step cap, ends this run however fast the tracer is.
    looping = ("def f(x):\n    import time\n    while x:\n"
               "        time.sleep(0.01)\n    return x")
    p = hang.predict_inputs(looping, "f", "[]")[0]
    assert not p.verified and p.run_status == "error" and "timeout" in p.actual


def test_tiny_model_end_to_end(real_sandbox, tmp_path):
    from tracecot.model.loading import load_model
    from support.tiny import build_tiny_checkpoint
    lm = load_model(str(build_tiny_checkpoint(tmp_path / "tiny")), device="cpu", dtype="float32")
    pred = Predictor(lm=lm, sandbox=real_sandbox)
    p = pred.predict_output(CODE, "f([1, 3, 2])", max_new_tokens=8)
    assert p.actual == "[3, 2, 1]" and p.tokens <= 8 and p.first_token_s > 0
    assert p.verified == (p.prediction is not None and p.prediction.replace(" ", "") == "[3,2,1]")


def test_cot_examples_are_true_according_to_the_verifier():
    from tracecot.tracer.verification import verify
    from tracecot.model import prompts as P
    for text, args in ((P.EXAMPLE_FORWARD, P.EXAMPLE_ARGS), (P.EXAMPLE_BACKWARD, P.EXAMPLE_ARGS)):
        verdicts = verify.verify_text(P.EXAMPLE_CODE, "f", args, text).sentences
        assert verdicts and not [v for v in verdicts if v.verdict == "wrong"], verdicts


def test_prediction_json_round_trip_and_sandbox_failure():
    class Broken:
        def run_many(self, reqs):
            raise RuntimeError("sandbox down")
    p = Predictor(engine=ScriptedEngine(lambda t, j: "[3, 2, 1]\n"), sandbox=Broken()) \
        .predict_output(CODE, "f([1, 3, 2])")
    assert not p.verified and "sandbox down" in p.error and p.prediction == "[3, 2, 1]"
    p.verdicts = [SentenceVerdict("s", "ok")]
    assert Prediction.from_json(json.loads(json.dumps(p.to_json()))) == p


def test_prompt_shows_the_function_and_what_it_uses_not_the_rest_of_the_file():
    from tracecot.model.prompts import focus_source, output_prompt
    module = ("import math\nK = 3\n\ndef helper(x):\n    return x * K\n\n"
              "def other():\n    return 'SHOOT'\n\n"
              "class A:\n    def m(self):\n        return helper(2) + math.floor(1.5)\n\n"
              "def same(n):\n    return A().m() + n\n")
    shown = focus_source(module, "same")
    assert "SHOOT" not in shown and "def other" not in shown
    for kept in ("import math", "K = 3", "def helper", "class A", "def same"):
        assert kept in shown
    assert focus_source(module, "A.m").startswith("import math")
    assert "SHOOT" not in str(output_prompt(module, "same", "5").messages)
    # A one-function file is shown exactly as written (CruxEval prompts stay CruxEval's).
    crux = "xs = [1, 2]\ndef f(a):\n    return a\n"
    assert focus_source(crux, "f") == crux
    assert focus_source("def f(:\n", "f") == "def f(:\n"
