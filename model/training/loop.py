"""The training loop: LoRA (or full) fine-tuning on packed rows, loss on targets only.

The LM head is applied only where the loss is: hidden states come from the decoder
(`model.model`), the target positions are gathered, then `lm_head` runs on those alone; the
prompt positions (80-95 % of the tokens) never get logits. The loop runs unchanged under
`accelerate launch` (Accelerator places model and optimizer; rows are split over
processes); on one CPU it is a no-op wrapper.

Sittings add up: a checkpoint (adapter or weights, optimizer, schedule, data position, RNG)
is written every `checkpoint_minutes` and at the end, and `--resume` continues from it; a
budget counts the training time of all sittings.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .packing import IGNORE, Row, collate, pack, read_records, tokenize


@dataclass
class TrainState:
    """Everything besides tensors that a resumed run needs to continue exactly."""
    step: int = 0                    # optimizer steps
    row: int = 0                     # next row index in the (seeded) row order
    epoch: int = 0
    tokens: int = 0                  # row tokens processed
    target_tokens: int = 0
    examples: int = 0
    train_seconds: float = 0.0       # over all sittings
    sittings: int = 0
    history: list = field(default_factory=list)   # [step, tokens, train loss]
    valid: list = field(default_factory=list)     # [step, tokens, valid loss]

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _target_loss_module(lm, full: bool):
    import torch

    class _TargetLoss(torch.nn.Module):
        """Summed cross-entropy over target positions and their count; no full logits."""

        def __init__(self, lm):
            super().__init__()
            self.lm = lm

        def forward(self, input_ids, labels, position_ids, attention_mask):
            causal = self.lm if full else self.lm.get_base_model()
            out = causal.model(input_ids=input_ids, attention_mask=attention_mask,
                               position_ids=position_ids, use_cache=False)
            where = labels != IGNORE
            hidden = out.last_hidden_state[where]
            logits = causal.lm_head(hidden).float()
            loss = torch.nn.functional.cross_entropy(logits, labels[where], reduction="sum")
            return loss, where.sum()

    return _TargetLoss(lm)


def build_model(cfg: TrainConfig):
    """(tokenizer, trainable model) on the CPU in cfg.dtype; LoRA unless cfg.full."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ..loading import resolve_model_path, shipped_adapter
    hf_logging.disable_progress_bar()
    path, _ = resolve_model_path(cfg.model)
    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    # Any: a PreTrainedModel here, a PeftModel (not one of its subclasses) once LoRA wraps it.
    lm: Any = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True,
                                              dtype=getattr(torch, cfg.dtype),
                                              attn_implementation="sdpa")
    lm.config.use_cache = False
    if cfg.full:
        return tok, lm, str(path)
    from peft import LoraConfig, PeftModel, get_peft_model
    init: str | Path | None = cfg.init_adapter
    if init == "default":
        init = shipped_adapter()
    if init:
        lm = PeftModel.from_pretrained(lm, str(init), is_trainable=True, local_files_only=True)
        for p in lm.parameters():            # an fp16 shipped adapter trains in cfg.dtype
            if p.requires_grad:
                p.data = p.data.to(getattr(torch, cfg.dtype))
    else:
        lm = get_peft_model(lm, LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha,
                                           lora_dropout=cfg.dropout, bias="none",
                                           target_modules=list(cfg.targets),
                                           task_type="CAUSAL_LM"))
    return tok, lm, str(path)


def _lr_factor(cfg: TrainConfig, st: TrainState, total_rows: int) -> float:
    """Linear warmup, then cosine to min_lr_ratio over the run's progress (budget share)."""
    if st.step < cfg.warmup_steps:
        return (st.step + 1) / cfg.warmup_steps
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * _progress(
        cfg, st, total_rows)))


def _progress(cfg: TrainConfig, st: TrainState, total_rows: int) -> float:
    shares = []
    if cfg.budget_tokens:
        shares.append(st.tokens / cfg.budget_tokens)
    if cfg.budget_minutes:
        shares.append(st.train_seconds / (60 * cfg.budget_minutes))
    if not shares:      # max_steps only stops a run (a sitting), it does not set the schedule
        shares.append((st.epoch * total_rows + st.row) / max(1, cfg.epochs * total_rows))
    return min(1.0, max(shares))


def _done(cfg: TrainConfig, st: TrainState, total_rows: int) -> bool:
    return (bool(cfg.budget_tokens and st.tokens >= cfg.budget_tokens)
            or bool(cfg.budget_minutes and st.train_seconds >= 60 * cfg.budget_minutes)
            or bool(cfg.max_steps and st.step >= cfg.max_steps)
            or st.epoch * total_rows + st.row >= cfg.epochs * total_rows)


def _log(out: Path, record: dict, text: str, main: bool) -> None:
    if not main:
        return
    print(text, flush=True)
    with open(out / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def train(cfg: TrainConfig) -> dict:
    """Run (or resume) training; returns the summary also written to OUT/summary.json."""
    import torch
    from accelerate import Accelerator

    from . import checkpoint as ckpt
    out = Path(cfg.out)
    if cfg.threads:
        os.environ["TRACECOT_THREADS"] = str(cfg.threads)
    from ..loading import configure_threads
    threads = configure_threads()
    acc = Accelerator(cpu=not torch.cuda.is_available())
    main = acc.is_main_process
    saved = ckpt.latest(out)
    if cfg.resume and saved is not None:
        cfg = TrainConfig.from_json({**json.loads((saved / "config.json").read_text()),
                                     "resume": True, "out": cfg.out,
                                     "budget_minutes": cfg.budget_minutes,
                                     "budget_tokens": cfg.budget_tokens,
                                     "max_steps": cfg.max_steps})
    elif saved is not None and not cfg.resume:
        raise SystemExit(f"error: {out} holds a checkpoint; pass --resume to continue it "
                         f"or choose another --out")
    elif cfg.resume and cfg.init_adapter is None and not cfg.full:
        cfg.init_adapter = "default"       # a new machine: continue from the shipped adapter
    out.mkdir(parents=True, exist_ok=True)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    t_load = time.perf_counter()
    tok, lm, base_path = build_model(cfg if saved is None else _no_init(cfg))
    st = TrainState()
    if saved is not None:
        lm = ckpt.restore_weights(saved, lm, cfg.full)
    elif cfg.init_adapter and (prior := ckpt.state_file(cfg.init_adapter)) is not None:
        st.tokens, st.step = prior.get("tokens", 0), prior.get("step", 0)
    train_ex = tokenize(read_records(cfg.data, "train"), tok, cfg.modes, cfg.max_example_tokens)
    valid_ex = tokenize(read_records(cfg.data, "valid"), tok, cfg.modes, cfg.max_example_tokens)
    random.Random(cfg.seed).shuffle(valid_ex)
    valid_rows = pack(valid_ex[:cfg.valid_examples], cfg.row_tokens, cfg.seed, cfg.share_prefix)
    rows = pack(train_ex, cfg.row_tokens, cfg.seed, cfg.share_prefix)
    rows = rows[acc.process_index::acc.num_processes]
    module = _target_loss_module(lm, cfg.full)
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate(), weight_decay=cfg.weight_decay)
    if saved is not None:
        st = ckpt.restore_state(saved, opt)
        st.sittings += 1
    module, opt = acc.prepare(module, opt)
    trainable = sum(p.numel() for p in params)
    if main:
        (out / "config.json").write_text(json.dumps(cfg.to_json(), indent=1))
    what = "full" if cfg.full else f"LoRA r={cfg.rank}"
    _log(out, {"event": "start", "sitting": st.sittings, "threads": threads,
               "device": str(acc.device), "processes": acc.num_processes,
               "train_examples": len(train_ex), "rows": len(rows), "trainable": trainable,
               "load_s": round(time.perf_counter() - t_load, 1), "resumed_step": st.step},
         f"train: {len(train_ex)} examples in {len(rows)} rows of <= {cfg.row_tokens} tokens "
         f"({sum(len(r.input_ids) for r in rows):,} tokens/epoch), {trainable:,} trainable "
         f"parameters ({what}), {threads} threads, {acc.device}"
         + (f"; resumed at step {st.step}" if saved else ""), main)
    if not rows:
        raise SystemExit("error: no training rows (empty data or every example too long)")
    if saved is None and not st.valid:
        st.valid.append([st.step, st.tokens, validate(module, valid_rows, tok, acc)])
        _log(out, {"event": "valid", "step": st.step, "loss": st.valid[-1][2]},
             f"valid loss {st.valid[-1][2]:.4f} at step {st.step}", main)
    last_ckpt = last_valid = time.perf_counter()
    window_tokens, window_s, window_loss, window_n = 0, 0.0, 0.0, 0
    module.train()
    while not _done(cfg, st, len(rows)):
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = cfg.learning_rate() * _lr_factor(cfg, st, len(rows))
        loss_sum, count_sum = 0.0, 0
        for _ in range(cfg.accum):
            row = rows[st.row]
            batch = {k: v.to(acc.device) for k, v in collate([row], tok.pad_token_id).items()}
            loss, count = module(**batch)
            acc.backward(loss / max(1, int(count)) / cfg.accum)
            loss_sum += float(loss.detach())
            count_sum += int(count)
            st.tokens += len(row.input_ids) * acc.num_processes
            st.target_tokens += row.target_tokens
            st.examples += row.examples
            window_tokens += len(row.input_ids)
            st.row += 1
            if st.row >= len(rows):
                st.row, st.epoch = 0, st.epoch + 1
        opt.step()
        opt.zero_grad(set_to_none=True)
        st.step += 1
        dt = time.perf_counter() - t0
        st.train_seconds += dt
        window_s += dt
        window_loss += loss_sum
        window_n += count_sum
        st.history.append([st.step, st.tokens, loss_sum / max(1, count_sum)])
        if st.step % cfg.log_every == 0 or st.step == 1:
            _log(out, {"event": "train", "step": st.step, "loss": window_loss / max(1, window_n),
                       "lr": opt.param_groups[0]["lr"], "tokens": st.tokens,
                       "tokens_per_s": window_tokens / max(window_s, 1e-9),
                       "examples": st.examples, "train_s": round(st.train_seconds, 1)},
                 f"step {st.step} loss {window_loss / max(1, window_n):.4f} "
                 f"lr {opt.param_groups[0]['lr']:.2e} {window_tokens / max(window_s, 1e-9):.0f} "
                 f"tokens/s ({st.tokens:,} tokens, {st.examples:,} examples, "
                 f"{st.train_seconds / 60:.1f} min)", main)
            window_tokens, window_s, window_loss, window_n = 0, 0.0, 0.0, 0
        now = time.perf_counter()
        if (cfg.valid_minutes and now - last_valid >= 60 * cfg.valid_minutes):
            st.valid.append([st.step, st.tokens, validate(module, valid_rows, tok, acc)])
            _log(out, {"event": "valid", "step": st.step, "loss": st.valid[-1][2]},
                 f"valid loss {st.valid[-1][2]:.4f} at step {st.step}", main)
            last_valid = time.perf_counter()
        if now - last_ckpt >= 60 * cfg.checkpoint_minutes:
            if not cfg.valid_minutes:
                st.valid.append([st.step, st.tokens, validate(module, valid_rows, tok, acc)])
                _log(out, {"event": "valid", "step": st.step, "loss": st.valid[-1][2]},
                     f"valid loss {st.valid[-1][2]:.4f} at step {st.step}", main)
            if main:
                ckpt.save(out, acc.unwrap_model(module).lm, opt, st, cfg)
            last_ckpt = time.perf_counter()
    st.valid.append([st.step, st.tokens, validate(module, valid_rows, tok, acc)])
    _log(out, {"event": "valid", "step": st.step, "loss": st.valid[-1][2]},
         f"valid loss {st.valid[-1][2]:.4f} at step {st.step} (final)", main)
    summary = {}
    if main:
        lm_final = acc.unwrap_model(module).lm
        ckpt.save(out, lm_final, opt, st, cfg)
        export = ckpt.export(out / ("model" if cfg.full else "adapter"), lm_final, st, cfg,
                             base_path, tok)
        from .curve import loss_curve
        loss_curve(out / "loss.png", st.history, st.valid,
                   f"{'full' if cfg.full else f'LoRA r={cfg.rank}'} {', '.join(cfg.modes)}")
        summary = {"steps": st.step, "tokens": st.tokens, "target_tokens": st.target_tokens,
                   "examples": st.examples, "epochs": st.epoch + st.row / len(rows),
                   "train_minutes": round(st.train_seconds / 60, 2), "sittings": st.sittings + 1,
                   "tokens_per_s": round(st.tokens / max(st.train_seconds, 1e-9), 1),
                   "valid_loss_start": st.valid[0][2], "valid_loss_end": st.valid[-1][2],
                   "threads": threads, "device": str(acc.device), "export": str(export),
                   "train_examples": len(train_ex), "config": cfg.to_json()}
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        print(f"train: done, {st.step} steps, {st.tokens:,} tokens in "
              f"{st.train_seconds / 60:.1f} min; valid loss {st.valid[0][2]:.4f} -> "
              f"{st.valid[-1][2]:.4f}; {export}", file=sys.stderr)
    return summary


def _no_init(cfg: TrainConfig) -> TrainConfig:
    """A resumed run restores the checkpoint's weights: build the fresh LoRA shape only."""
    from dataclasses import replace
    return replace(cfg, init_adapter=None)


def validate(module, rows: list[Row], tok, acc) -> float:
    """Mean cross-entropy per target token over the fixed validation rows."""
    import torch
    if not rows:
        return float("nan")
    was_training = module.training
    module.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for row in rows:
            batch = {k: v.to(acc.device) for k, v in collate([row], tok.pad_token_id).items()}
            loss, n = module(**batch)
            total += float(loss)
            count += int(n)
    if was_training:
        module.train()
    return total / max(1, count)
