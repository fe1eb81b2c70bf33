"""Sharded JSONL output: `train-00000.jsonl`, ..., `valid-00000.jsonl`, one record a line.

The split is a function of the program (its split key: the normalised-AST hash of a
generated program, the module of a harvested function), so a program never has examples on
both sides. Records are written in candidate order, which the seed fixes: the same seed gives
byte-identical shards whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TextIO

SPLITS = ("train", "valid")


def split_of(key: str, valid_permille: int) -> str:
    bucket = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 1000
    return "valid" if bucket < valid_permille else "train"


class ShardWriter:
    """Appends records to numbered shards of at most `shard_size` lines per split."""

    def __init__(self, out: Path, shard_size: int = 20_000):
        self.out, self.shard_size = Path(out), shard_size
        self.out.mkdir(parents=True, exist_ok=True)
        self.counts = {s: 0 for s in SPLITS}
        self.files: dict[str, TextIO] = {}
        self.paths: list[Path] = []

    def write(self, split: str, record: dict) -> None:
        n = self.counts[split]
        if n % self.shard_size == 0:
            if split in self.files:
                self.files[split].close()
            path = self.out / f"{split}-{n // self.shard_size:05d}.jsonl"
            self.files[split] = open(path, "w", encoding="utf-8")
            self.paths.append(path)
        self.files[split].write(json.dumps(record, ensure_ascii=False) + "\n")
        self.counts[split] = n + 1

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()
        self.files = {}


def existing_outputs(out: Path) -> list[Path]:
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted([p for s in SPLITS for p in out.glob(f"{s}-*.jsonl")] +
                  [p for p in (out / "stats.json",) if p.exists()])


def read_records(out: Path, split: str | None = None):
    """Every record of the shards in `out` (one split, or all), in shard order."""
    for s in ([split] if split else SPLITS):
        for path in sorted(Path(out).glob(f"{s}-*.jsonl")):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    yield json.loads(line)
