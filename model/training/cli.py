"""Arguments of `tracecot train` -> TrainConfig -> train()."""

from __future__ import annotations

import argparse
import sys

from .config import TrainConfig


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(prog="tracecot train",
                                description="Fine-tune the local model (LoRA by default) on "
                                            "verified data from `tracecot data build`.")
    p.add_argument("--data", default=d.data, help="data folder (train-/valid-*.jsonl)")
    p.add_argument("--out", default=d.out, help="run folder: checkpoint, adapter, log, loss.png")
    p.add_argument("--model", default=None, help="base checkpoint (default: embedded SmolLM2)")
    p.add_argument("--init-adapter", default=None,
                   help="start from this adapter ('default': the shipped one)")
    p.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    p.add_argument("--rank", type=int, default=d.rank, help="LoRA rank (default 16)")
    p.add_argument("--alpha", type=int, default=None, help="LoRA alpha (default 2 x rank)")
    p.add_argument("--modes", default=",".join(d.modes),
                   help="example modes to train on: direct,cot (default) or direct")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    p.add_argument("--row-tokens", type=int, default=d.row_tokens, help="tokens per packed row")
    p.add_argument("--accum", type=int, default=d.accum, help="rows per optimizer step")
    p.add_argument("--budget-minutes", type=float, default=None,
                   help="training time budget over all sittings")
    p.add_argument("--budget-tokens", type=int, default=None, help="token budget")
    p.add_argument("--epochs", type=float, default=d.epochs)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--checkpoint-minutes", type=float, default=d.checkpoint_minutes)
    p.add_argument("--valid-examples", type=int, default=d.valid_examples)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--dtype", default=d.dtype, help="training precision (default float32)")
    p.add_argument("--no-share-prefix", action="store_true",
                   help="pack without sharing the prompt prefix within a row")
    p.add_argument("--resume", action="store_true",
                   help="continue OUT/checkpoint; without one, start from the shipped adapter")
    return p


def config_from_args(a: argparse.Namespace) -> TrainConfig:
    modes = tuple(m.strip() for m in a.modes.split(",") if m.strip())
    bad = [m for m in modes if m not in ("direct", "cot")]
    if bad or not modes:
        raise SystemExit(f"error: --modes takes direct and/or cot, got {a.modes!r}")
    return TrainConfig(data=a.data, out=a.out, model=a.model, init_adapter=a.init_adapter,
                       full=a.full, rank=a.rank, alpha=a.alpha or 2 * a.rank, modes=modes,
                       lr=a.lr, warmup_steps=a.warmup_steps, row_tokens=a.row_tokens,
                       accum=a.accum, budget_minutes=a.budget_minutes,
                       budget_tokens=a.budget_tokens, epochs=a.epochs, max_steps=a.max_steps,
                       checkpoint_minutes=a.checkpoint_minutes,
                       valid_examples=a.valid_examples, threads=a.threads, seed=a.seed,
                       dtype=a.dtype, share_prefix=not a.no_share_prefix, resume=a.resume)


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    cfg = config_from_args(a)
    from ..loading import ModelLoadError
    from .loop import train
    try:
        train(cfg)
    except FileNotFoundError as e:
        print(f"tracecot train: {e}", file=sys.stderr)
        return 2
    except ModelLoadError as e:
        print(f"tracecot train: {e}", file=sys.stderr)
        return 2
    return 0
