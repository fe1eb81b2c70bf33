"""From data records to packed training rows.

A record of `tracecot data build` becomes the exact text the evaluation feeds the model (the
rendered prompt, prefill included) followed by its target (`prompts.completion` + end of
turn). Prompt and target are tokenized separately, as at inference, where the prompt is
tokenized alone and the model continues it.

Packing: every example of one prompt kind (output/input x direct/cot) starts with the same
few hundred tokens (system message, worked example, rules): ~80 % of a direct example. A row
holds that shared prefix once, then several examples' remaining tokens; each example attends
to the prefix and to itself only (a block-diagonal causal mask) and its position ids continue
from the end of the prefix, so each example is computed exactly as if it were alone.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from .. import prompts as P

IGNORE = -100
PAD_SEGMENT = -1          # padding: attends only to itself, no loss


@dataclass
class Example:
    """One tokenized example: `ids` = prompt + target; the loss is on ids[n_prompt:]."""
    group: str                # "output/direct", ...: examples of one group share a prefix
    ids: list[int]
    n_prompt: int
    id: str = ""


@dataclass
class Row:
    """A packed row: a shared prefix (segment 0) then examples (segments 1, 2, ...)."""
    input_ids: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)       # next-token targets, IGNORE elsewhere
    segments: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    examples: int = 0

    @property
    def target_tokens(self) -> int:
        return sum(t != IGNORE for t in self.labels)


def read_records(data_dir: str | Path, split: str) -> list[dict]:
    """All records of `split` ("train" / "valid") in shard order."""
    files = sorted(Path(data_dir).glob(f"{split}-*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no {split}-*.jsonl shards in {data_dir} "
                                f"(build them with `tracecot data build --out {data_dir}`)")
    out = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def example_texts(record: dict, tokenizer) -> tuple[str, str, int]:
    """(prompt text with prefill, target text, the evaluation's new-token budget for it),
    exactly as evaluation renders them."""
    kind, mode = record["kind"], record["mode"]
    code, fn, args, output = record["code"], record["function"], record["args"], record["output"]
    spec = (P.output_prompt(code, fn, args, mode) if kind == "output"
            else P.input_prompt(code, fn, output, mode))
    target = P.completion(kind, mode, fn, args, output, record.get("reasoning") or "")
    return P.render(tokenizer, spec), target + (tokenizer.eos_token or ""), spec.max_new_tokens


def tokenize(records: list[dict], tokenizer, modes: tuple[str, ...] = ("direct", "cot"),
             max_tokens: int = 2048) -> list[Example]:
    """Tokenize records of the given modes. Dropped: examples over `max_tokens`, and targets
    the evaluation could not finish within its generation budget (the data builder may have
    measured lengths with a proxy tokenizer)."""
    out = []
    for r in records:
        if r["mode"] not in modes:
            continue
        prompt, target, budget = example_texts(r, tokenizer)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        if t and len(p) + len(t) <= max_tokens and len(t) <= budget + 1:   # + end of turn
            out.append(Example(f"{r['kind']}/{r['mode']}", p + t, len(p), r.get("id", "")))
    return out


def shared_prefixes(examples: list[Example]) -> dict[str, int]:
    """Per group, the length of the token prefix that all its examples' prompts share,
    always shorter than each prompt (the position before the first target token must be the
    example's own: a shared position has no label)."""
    best: dict[str, list[int]] = {}
    for ex in examples:
        ref = best.get(ex.group)
        if ref is None:
            best[ex.group] = ex.ids[:ex.n_prompt - 1]
            continue
        n = 0
        limit = min(len(ref), ex.n_prompt - 1)
        while n < limit and ref[n] == ex.ids[n]:
            n += 1
        del ref[n:]
    return {g: len(ids) for g, ids in best.items()}


def pack(examples: list[Example], row_tokens: int, seed: int = 0,
         share_prefix: bool = True) -> list[Row]:
    """Pack examples (shuffled with `seed`) into rows of at most `row_tokens` tokens; each row
    holds one group. Returns the rows shuffled (same seed, same rows)."""
    rng = random.Random(seed)
    prefix = shared_prefixes(examples) if share_prefix else {}
    by_group: dict[str, list[Example]] = {}
    for ex in examples:
        by_group.setdefault(ex.group, []).append(ex)
    rows: list[Row] = []
    for group in sorted(by_group):
        items = by_group[group]
        rng.shuffle(items)
        n_pre = prefix.get(group, 0)
        row = None
        for ex in items:
            rest = len(ex.ids) - n_pre
            if row is None or len(row.input_ids) + rest > row_tokens:
                row = _new_row(ex.ids[:n_pre])
                rows.append(row)
            _add(row, ex, n_pre)
    rng.shuffle(rows)
    return rows


def _new_row(prefix_ids: list[int]) -> Row:
    n = len(prefix_ids)
    return Row(list(prefix_ids), [IGNORE] * n, [0] * n, list(range(n)))


def _add(row: Row, ex: Example, n_pre: int) -> None:
    """Append ex's tokens after the shared prefix; labels[i] is the token that follows i."""
    seg = row.examples + 1
    row.examples += 1
    rest = ex.ids[n_pre:]
    start = len(row.input_ids)
    row.input_ids += rest
    row.segments += [seg] * len(rest)
    row.positions += list(range(n_pre, n_pre + len(rest)))
    # position i (absolute j = n_pre + k) predicts ids[j + 1]; loss only when that is target
    labels = []
    for k in range(len(rest)):
        j = n_pre + k
        labels.append(ex.ids[j + 1] if j + 1 < len(ex.ids) and j + 1 >= ex.n_prompt else IGNORE)
    row.labels += labels
    assert len(row.labels) == start + len(rest)


def collate(rows: list[Row], pad_id: int):
    """Tensors for a batch of rows: input_ids, labels, position_ids and a boolean 4-D mask
    (batch, 1, T, T), True where a query may attend to a key."""
    import torch
    T = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), T), IGNORE, dtype=torch.long)
    pos = torch.zeros((len(rows), T), dtype=torch.long)
    seg = torch.full((len(rows), T), PAD_SEGMENT, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        labels[i, :n] = torch.tensor(r.labels)
        pos[i, :n] = torch.tensor(r.positions)
        seg[i, :n] = torch.tensor(r.segments)
    return {"input_ids": ids, "labels": labels, "position_ids": pos,
            "attention_mask": segment_mask(seg)}


def segment_mask(seg):
    """Causal, and a key is visible when it is the shared prefix or the query's own segment;
    padding sees only itself (no empty softmax rows)."""
    import torch
    T = seg.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    q, k = seg[:, :, None], seg[:, None, :]
    same = (q == k) | ((k == 0) & (q != PAD_SEGMENT))
    eye = torch.eye(T, dtype=torch.bool)
    mask = (causal & same) | (eye & (q == PAD_SEGMENT))
    return mask[:, None, :, :]
