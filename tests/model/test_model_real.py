"""The real embedded model (SmolLM2-135M-Instruct from the shipped GGUF).

The first run converts the GGUF into the user cache (~30 s); later runs load from it (~5 s).
"""

import pytest


from tracecot.model.loading import DEFAULT_NAME, load_model


@pytest.fixture(scope="module")
def base():
    return load_model()


def test_base_model_loads_from_cache(base):
    assert base.name == DEFAULT_NAME and base.model.config.num_hidden_layers == 30
    again = load_model()
    assert again.convert_s is None                  # the second load never converts


def test_base_model_predicts_identity_function(base):
    from tracecot.model import prompts as P
    from tracecot.model.generate import Engine, GenConfig
    spec = P.output_prompt("def f(x):\n    return x", "f", "5")
    g = Engine(base).generate([P.render(base.tokenizer, spec)],
                              GenConfig(max_new_tokens=spec.max_new_tokens, stop=spec.stop))[0][0]
    assert g.text.strip() == "5"


def test_base_model_verified_prediction(base):
    from tracecot.model.predict import Predictor
    p = Predictor(lm=base).predict_output("def f(x):\n    return x", "f(5)")
    assert p.prediction == "5" and p.verified and p.actual == "5"
    wrong = Predictor(lm=base).predict_output("def f(x):\n    return x * 2", "f(21)")
    assert wrong.actual == "42" and wrong.verified == (wrong.prediction == "42")
