"""The loss-curve PNG: train loss (smoothed over steps) and validation loss, against tokens."""

from __future__ import annotations

from pathlib import Path


def smooth(history: list, window: int = 20) -> list[tuple[float, float]]:
    """Running mean of the per-step train loss over `window` steps, as (tokens, loss)."""
    out, acc = [], []
    for _, tokens, loss in history:
        acc.append(loss)
        if len(acc) > window:
            acc.pop(0)
        out.append((tokens, sum(acc) / len(acc)))
    return out


def loss_curve(path: str | Path, history: list, valid: list, subtitle: str = "") -> Path:
    from ..chart import line_chart
    return line_chart(path, "tracecot train: loss per target token",
                      [("train (mean of 20 steps)", smooth(history)),
                       ("valid", [(t, v) for _, t, v in valid])],
                      xlabel="tokens", subtitle=subtitle)
