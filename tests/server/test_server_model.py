"""The model behind `model.enabled`: a missing model degrades to a clear message; a (tiny,
random) model answers predictOutput and the hover shows its checked prediction."""

import asyncio
import time

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from support import lsp as H

pytestmark = pytest.mark.asyncio(loop_scope="module")

SRC = "def f(x):\n    y = x * 2\n    return y\n\n\nassert f(3) == 6\n"
CONFIG = ClientServerConfig(server_command=H.SERVER_COMMAND)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("modelws")
    (root / "m.py").write_text(SRC)
    return root


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def missing(lsp_client: LanguageClient, workspace):
    await H.start_session(lsp_client, workspace, model={
        "path": str(workspace / "no-such-model"), "adapter": "", "enabled": True})
    yield
    await lsp_client.shutdown_session()


async def _until(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_missing_model_is_reported_and_the_rest_works(missing: LanguageClient, workspace):
    assert await _until(lambda: any("model not available" in (s.get("message") or "")
                                    for s in missing.statuses), 120), missing.statuses
    assert any(s["state"] == "modelLoading" for s in missing.statuses)
    uri = H.open_doc(missing, workspace / "m.py")
    got = await H.command(missing, "tracecot.server.predictOutput",
                          {"uri": uri, "function": "f", "args": "3"})
    assert got["error"].startswith("model not available")
    md = await H.hover(missing, uri, 0, 4)
    assert "`f(3)` → `6`" in md and "✓ verified" in md and "model not available" in md


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from support.tiny import build_tiny_checkpoint
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt")


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def tiny(lsp_client: LanguageClient, workspace, tiny_model):
    await H.start_session(lsp_client, workspace,
                          model={"path": str(tiny_model), "adapter": "", "enabled": True})
    yield
    await lsp_client.shutdown_session()


@pytest.mark.slow
async def test_tiny_model_predicts_and_is_checked(tiny: LanguageClient, workspace):
    assert await _until(lambda: any(s["state"] == "ready" and not s.get("message")
                                    for s in tiny.statuses[1:]), 180), tiny.statuses
    uri = H.open_doc(tiny, workspace / "m.py")
    got = await H.command(tiny, "tracecot.server.predictOutput",
                          {"uri": uri, "function": "f", "args": "3"}, timeout=180)
    assert set(got) >= {"prediction", "verified", "actual", "reasoning"}, got
    assert got["actual"] == "6" and isinstance(got["verified"], bool)
    assert got["function"] == "f" and got["args"] == "3"
    md = await H.hover(tiny, uri, 0, 4)
    assert "model" in md
    assert await _until(lambda: False, 0.1) is False
    for _ in range(100):
        md = await H.hover(tiny, uri, 0, 4)
        if "model predicted" in md:
            break
        await asyncio.sleep(0.5)
    assert "model predicted" in md and ("✓" in md.rsplit("model predicted", 1)[1]
                                        or "✗" in md.rsplit("model predicted", 1)[1])
    assert "· base ckpt (no adapter)" in md          # the hover says which model answered


def test_the_prediction_line_names_the_model_and_links_its_card(tmp_path):
    from tracecot.server import present
    card = tmp_path / "adapter" / "README.md"
    label = present.model_label({"name": "smollm2", "adapter": str(card.parent),
                                 "card": str(card)})
    assert label == f"[fine-tuned smollm2]({card.as_uri()})"
    line = present.prediction_line("done", "6", True, "6", model=label)
    assert line == f"model predicted `6` ✓ · [fine-tuned smollm2]({card.as_uri()})"
    label = present.model_label({"name": "smollm2", "adapter": str(card.parent), "card": None})
    assert label == "fine-tuned smollm2"
    label = present.model_label({"name": "smollm2", "adapter": None, "card": None})
    line = present.prediction_line("done", "5", False, "6", model=label)
    assert line == "model predicted `5` ✗ (actual `6`) · base smollm2 (no adapter)"



async def test_a_prediction_is_not_shown_under_another_model():
    # the hover's prediction cache is keyed by the model: after switching adapters, the
    # answer the old model gave is not shown with the new model's name
    from collections import OrderedDict
    from types import SimpleNamespace
    from tracecot.server.document import Example
    from tracecot.server.hover import prediction_text

    asked = []

    class Model:
        enabled, state, message = True, "ready", "model ready"
        info = {"name": "m", "path": "/ckpt", "adapter": "/a", "card": None}

        async def predict_output(self, code, function, args, mode):
            asked.append(self.info["adapter"])
            return {"prediction": "6" if self.info["adapter"] == "/a" else "7",
                    "verified": self.info["adapter"] == "/a", "actual": "6"}

    st = SimpleNamespace(model=Model(), predictions=OrderedDict())
    doc = SimpleNamespace(digest="d1", runnable="def f(x):\n    return 2 * x\n")
    run = SimpleNamespace(example=Example("f", "3"))
    assert "predicting" in prediction_text(st, "u", doc, run)
    await asyncio.sleep(0.05)
    assert prediction_text(st, "u", doc, run) == "model predicted `6` ✓ · fine-tuned m"
    st.model.info = {"name": "m", "path": "/ckpt", "adapter": "/b", "card": None}
    assert "predicting" in prediction_text(st, "u", doc, run)
    await asyncio.sleep(0.05)
    assert prediction_text(st, "u", doc, run) == \
        "model predicted `7` ✗ (actual `6`) · fine-tuned m"
    assert asked == ["/a", "/b"]

# ---------------------------------------------------------------------- the real base model

REAL_SRC = ('def same(x):\n    return x\n\n\n'
            'def shout(s):\n    out = s.upper() + "!"\n    return out\n\n\n'
            'assert same(5) == 5\n'
            'assert shout("hi") == "HI!"\n')


@pytest.fixture(scope="module")
def real_workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("realmodel")
    (root / "r.py").write_text(REAL_SRC)
    return root


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def real(lsp_client: LanguageClient, real_workspace):
    await H.start_session(lsp_client, real_workspace,
                          model={"path": "", "adapter": "", "enabled": True})
    yield
    await lsp_client.shutdown_session()


def _prediction(md: str) -> tuple[str, str, str | None]:
    """(predicted value, mark, actual) from a hover's `model predicted `X` ✓|✗ (actual `Y`)`."""
    import re
    m = re.search(r"model predicted `(.*?)` ([✓✗])(?: \(actual `(.*?)`\))?", md)
    assert m, md
    return m.group(1), m.group(2), m.group(3)


@pytest.mark.slow
async def test_real_model_through_the_server(real: LanguageClient, real_workspace):
    """The shipped SmolLM2 base model loads in the worker process while the server goes on
    answering; then hovers show its prediction, marked ✓/✗ against the real result."""
    import ast
    uri = H.open_doc(real, real_workspace / "r.py")
    assert await _until(lambda: any(s["state"] == "modelLoading" for s in real.statuses), 60)
    start = next(i for i, s in enumerate(real.statuses) if s["state"] == "modelLoading")

    def ready():
        return any(s["state"] == "ready" and not s.get("message")
                   for s in real.statuses[start:])
    # The model is loading in its worker: hovers and commands are answered meanwhile.
    md = await H.hover(real, uri, 0, 5, timeout=60)
    loaded_before_the_answer = ready()
    assert md.startswith("**tracecot** · `same(5)` → `5`") and "✓ verified" in md
    if not loaded_before_the_answer:
        assert "*model: loading…*" in md, md
    got = await H.command(real, "tracecot.server.explainRun",
                          {"uri": uri, "function": "shout", "args": "'ab'"}, timeout=60)
    assert got["title"] == "shout('ab') → 'AB!'"
    print(f"\nanswered while the model loaded: hover {not loaded_before_the_answer}, "
          f"explainRun {not ready()}")
    assert await _until(ready, 600), real.statuses
    assert not any("model not available" in (s.get("message") or "") for s in real.statuses)
    for line, call in ((0, "same(5)"), (4, "shout('ab')")):    # the explained run is selected
        md = None
        for _ in range(240):          # the prediction runs in the worker; hovers poll it
            md = await H.hover(real, uri, line, 5, timeout=60)
            if "model predicted" in md:
                break
            assert "model: predicting…" in md, md
            await asyncio.sleep(0.5)
        assert f"`{call}` →" in md
        predicted, mark, actual = _prediction(md)
        real_value = ast.literal_eval(md.split("→ `", 1)[1].split("`", 1)[0])
        try:
            right = ast.literal_eval(predicted) == real_value
        except (ValueError, SyntaxError):
            right = False
        assert mark == ("✓" if right else "✗"), md
        if mark == "✗":
            assert actual is not None and ast.literal_eval(actual) == real_value
        print(f"\n{call}: model predicted {predicted} {mark}")
    # predictOutput: the model's chain of thought, checked sentence by sentence
    got = await H.command(real, "tracecot.server.predictOutput",
                          {"uri": uri, "function": "shout", "args": "'ok'"}, timeout=300)
    assert got["actual"] == "'OK!'" and isinstance(got["verified"], bool)
    try:
        right = ast.literal_eval(got["prediction"]) == "OK!"
    except (ValueError, SyntaxError):
        right = False
    assert got["verified"] == right, got
    assert all(r["verdict"] in ("ok", "wrong", "unchecked") for r in got["reasoning"])
    print(f"predictOutput shout('ok'): {got['prediction']!r} verified={got['verified']}, "
          f"{len(got['reasoning'])} reasoning sentences")
    # explainRun with the model ready: the verified narrative plus the model's reasoning,
    # each sentence marked
    got = await H.command(real, "tracecot.server.explainRun",
                          {"uri": uri, "function": "shout", "args": "'yo'"}, timeout=300)
    assert got["title"] == "shout('yo') → 'YO!'" and got["verified"] is True
    assert isinstance(got.get("reasoning"), list), got.keys()
    assert all(set(r) >= {"text", "verdict"} and r["verdict"] in ("ok", "wrong", "unchecked")
               for r in got["reasoning"])
    print("explainRun reasoning verdicts:", [r["verdict"] for r in got["reasoning"]])
