"""tracecot.model: a small local language model that predicts what code does, verified.

    from tracecot.model import predict_output, predict_inputs
    p = predict_output("def f(x):\\n    return x * 2", "f(21)")
    p.prediction, p.verified, p.actual      # "42", True, "42"

Submodules: loading (models, cache, adapters), prompts, extract (answer parsing),
generate (batched decoding), predict, worker (the model process), worker_client (its async
client), evaluate (`tracecot eval`), metrics, chart. Importing this package is cheap: torch and
transformers load only when a model is used.
"""

from __future__ import annotations

__all__ = ["ModelLoadError", "load_model", "Predictor", "Prediction", "SentenceVerdict",
           "predict_output", "predict_inputs", "ModelWorker", "pass_at_k"]

_LAZY = {
    "ModelLoadError": "loading", "load_model": "loading", "Predictor": "predict",
    "Prediction": "predict", "SentenceVerdict": "predict", "predict_output": "predict",
    "predict_inputs": "predict", "ModelWorker": "worker_client", "pass_at_k": "metrics",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
