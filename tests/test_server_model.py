"""The model behind `model.enabled`: a missing model degrades to a clear message; a (tiny,
random) model answers predictOutput and the hover shows its checked prediction."""

import asyncio
import time

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tracecot.server import testing as H

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
    H.install_handlers(lsp_client)
    await lsp_client.initialize_session(H.init_params(
        workspace, model={"path": str(workspace / "no-such-model"), "adapter": "", "enabled": True}))
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
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tracecot.model.tiny import build_tiny_checkpoint
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt")


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def tiny(lsp_client: LanguageClient, workspace, tiny_model):
    H.install_handlers(lsp_client)
    await lsp_client.initialize_session(H.init_params(
        workspace, model={"path": str(tiny_model), "adapter": "", "enabled": True}))
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
