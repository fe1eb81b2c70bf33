"""Checkpoints (to resume) and the exported adapter (to ship).

OUT/checkpoint/ holds the trainable weights (LoRA adapter in training precision, or the full
model), optimizer.pt, state.json (step, data position, schedule progress, history), rng.pt
and config.json. It is written into a temporary folder and renamed, so a run killed while
saving keeps the previous checkpoint.

The export (OUT/adapter/) is a PEFT adapter folder in `save_dtype` (float16: r=16 on all
projections of SmolLM2-135M is 9.8 MB), plus training_state.json so that a new machine can
continue counting from a shipped adapter.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from .config import TrainConfig

NAME = "checkpoint"


def latest(out: Path) -> Path | None:
    path = Path(out) / NAME
    return path if (path / "state.json").is_file() else None


def state_file(adapter_dir) -> dict | None:
    path = Path(adapter_dir) / "training_state.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def save(out: Path, lm, opt, st, cfg: TrainConfig) -> Path:
    import torch
    out = Path(out)
    tmp = out / (NAME + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    lm.save_pretrained(str(tmp / "weights"), safe_serialization=True)
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    torch.save({"python": random.getstate(), "torch": torch.get_rng_state()}, tmp / "rng.pt")
    (tmp / "config.json").write_text(json.dumps(cfg.to_json(), indent=1))
    (tmp / "state.json").write_text(json.dumps(st.to_json()))
    final = out / NAME
    old = out / (NAME + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def restore_weights(path: Path, lm, full: bool):
    """Load the checkpoint's trainable weights into the freshly built model."""
    from safetensors.torch import load_file
    weights = Path(path) / "weights"
    if full:
        from transformers import AutoModelForCausalLM
        dtype = next(lm.parameters()).dtype
        return AutoModelForCausalLM.from_pretrained(str(weights), local_files_only=True,
                                                    dtype=dtype, attn_implementation="sdpa")
    from peft import set_peft_model_state_dict
    set_peft_model_state_dict(lm, load_file(str(weights / "adapter_model.safetensors")))
    return lm


def restore_state(path: Path, opt):
    import torch

    from .loop import TrainState
    path = Path(path)
    opt.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
    rng = torch.load(path / "rng.pt", weights_only=False)
    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    return TrainState(**json.loads((path / "state.json").read_text()))


def export(dest: Path, lm, st, cfg: TrainConfig, base_path: str, tok) -> Path:
    """Write the shippable result: an adapter in cfg.save_dtype (LoRA) or the full model."""
    import torch
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    dtype = getattr(torch, cfg.save_dtype)
    if cfg.full:
        lm.to(dtype).save_pretrained(str(dest), safe_serialization=True)
        lm.to(torch.float32)
        tok.save_pretrained(str(dest))
    else:
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file
        state = {k: v.detach().to(dtype).contiguous()
                 for k, v in get_peft_model_state_dict(lm).items()}
        save_file(state, str(dest / "adapter_model.safetensors"), metadata={"format": "pt"})
        conf = lm.peft_config["default"]
        conf.save_pretrained(str(dest))
    info = {"step": st.step, "tokens": st.tokens, "target_tokens": st.target_tokens,
            "examples": st.examples, "train_seconds": round(st.train_seconds, 1),
            "sittings": st.sittings + 1, "base": Path(base_path).name,
            "valid_loss": st.valid[-1][2] if st.valid else None, "config": cfg.to_json()}
    (dest / "training_state.json").write_text(json.dumps(info, indent=1))
    return dest
