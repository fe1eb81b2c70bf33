"""The one training configuration: `tracecot train` flags map 1:1 onto these fields, and the
run writes it to OUT/config.json so that a run can be reproduced (and resumed) exactly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# LoRA on every attention and MLP projection of a Llama-style block (SmolLM2).
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class TrainConfig:
    data: str = "runs/data"                 # `tracecot data build` output (train-/valid- shards)
    out: str = "runs/train"
    model: str | None = None                # base checkpoint (default: embedded SmolLM2)
    init_adapter: str | None = None         # start from this adapter ("default": the shipped one)
    full: bool = False                      # full fine-tuning instead of LoRA
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0
    targets: tuple[str, ...] = LORA_TARGETS
    modes: tuple[str, ...] = ("direct", "cot")   # ("direct",): the answers-only ablation
    lr: float | None = None                 # None: 2e-4 for LoRA, 2e-5 for full
    weight_decay: float = 0.0
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1               # cosine decay to this share of lr at the budget end
    row_tokens: int = 2048                  # tokens per packed row (one row per micro-step)
    accum: int = 1                          # rows per optimizer step
    max_example_tokens: int = 1536
    share_prefix: bool = True
    budget_minutes: float | None = None     # stop after this much training time (all sittings)
    budget_tokens: int | None = None        # or after this many trained row tokens
    epochs: float = 1.0                     # at most this many passes over the train rows
    max_steps: int | None = None            # stop after this many optimizer steps (tests)
    checkpoint_minutes: float = 10.0
    valid_examples: int = 128               # validation subset (fixed), from the valid split
    valid_minutes: float | None = None      # None: validate at each checkpoint
    log_every: int = 5
    threads: int | None = None              # None: the cores this process may use
    seed: int = 0
    dtype: str = "float32"                  # float32 is the fast path on CPUs without bf16
    resume: bool = False
    save_dtype: str = "float16"             # the exported adapter (fits the repository)
    extra: dict = field(default_factory=dict)

    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (2e-5 if self.full else 2e-4)

    def to_json(self) -> dict:
        d = asdict(self)
        d["targets"], d["modes"] = list(self.targets), list(self.modes)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "TrainConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k in ("targets", "modes"):
            if k in known:
                known[k] = tuple(known[k])
        return cls(**known)
