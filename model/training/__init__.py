"""`tracecot train`: fine-tune the local model on `tracecot data build` output.

    tracecot train --data runs/data --out runs/train [--budget-minutes M] [--resume]
                   [--full] [--rank R] [--modes direct,cot]

config (TrainConfig, the one set of knobs), packing (records -> prompt/target tokens ->
rows sharing the prompt prefix, block-diagonal attention), loop (loss on targets only, LM
head on target positions only, budgets, validation, Accelerator), checkpoint (resume and
export), curve (loss PNG), cli (argument parsing).
"""

from __future__ import annotations

from .config import TrainConfig

__all__ = ["TrainConfig", "train", "main"]


def train(cfg: TrainConfig) -> dict:
    from .loop import train as _train
    return _train(cfg)


def main(argv: list[str] | None = None) -> int:
    from .cli import main as _main
    return _main(argv)
