"""The real embedded model (SmolLM2-135M-Instruct from the shipped GGUF), as the base and with
the shipped fine-tuned adapter that load_model() applies by default.

The first run converts the GGUF into the user cache (~30 s); later runs load from it (~5 s).
"""

import pytest


from tracecot.model.loading import DEFAULT_NAME, SHIPPED_ADAPTER, load_model, shipped_adapter


@pytest.fixture(scope="module", params=["base", "shipped"])
def lm(request):
    """Both models each test runs on: `--adapter none`, and the default (shipped adapter)."""
    return load_model(adapter="none" if request.param == "base" else None)


def test_the_shipped_adapter_is_the_default_small_and_has_its_model_card(monkeypatch):
    monkeypatch.delenv("TRACECOT_ADAPTER", raising=False)
    monkeypatch.delenv("TRACECOT_MODEL", raising=False)
    assert shipped_adapter() == SHIPPED_ADAPTER, "model/adapters/default is not shipped"
    weights = SHIPPED_ADAPTER / "adapter_model.safetensors"
    assert weights.stat().st_size <= 10 * 1024 * 1024
    card = (SHIPPED_ADAPTER / "README.md").read_text()
    for must in ("CruxEval-O", "CruxEval-I", "tracecot train", "tracecot data build"):
        assert must in card, must
    lm = load_model()
    assert lm.adapter == str(SHIPPED_ADAPTER) and lm.describe()["card"].endswith("README.md")


def test_model_loads_from_cache(lm):
    assert lm.name == DEFAULT_NAME and lm.model.config.num_hidden_layers == 30
    again = load_model()
    assert again.convert_s is None                  # the second load never converts


def test_model_predicts_identity_function(lm):
    from tracecot.model import prompts as P
    from tracecot.model.generate import Engine, GenConfig
    spec = P.output_prompt("def f(x):\n    return x", "f", "5")
    g = Engine(lm).generate([P.render(lm.tokenizer, spec)],
                              GenConfig(max_new_tokens=spec.max_new_tokens, stop=spec.stop))[0][0]
    assert g.text.strip() == "5"


def test_model_verified_prediction(lm):
    from tracecot.model.predict import Predictor
    p = Predictor(lm=lm).predict_output("def f(x):\n    return x", "f(5)")
    assert p.actual == "5" and p.verified == (p.prediction == "5")
    if lm.adapter:                                # the base model answers 10 here; ours, 5
        assert p.prediction == "5" and p.verified
    wrong = Predictor(lm=lm).predict_output("def f(x):\n    return x * 2", "f(21)")
    assert wrong.actual == "42" and wrong.verified == (wrong.prediction == "42")
