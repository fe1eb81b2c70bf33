"""`tracecot data build`: generated and harvested programs -> verified, decontaminated,
sharded training examples.

    tracecot data build --programs 2000 --seed 0 --out runs/data            # + the stdlib
    tracecot data build --programs 0 --from ~/myproject --out runs/mydata   # your own code

Candidates are made in this process (generation, harvesting, de-duplication and
decontamination only parse code); they are run, narrated and verified by `--workers`
processes, each with its own sandbox, and come back in order, so the output does not depend
on the number of workers. Token lengths are measured here: an example whose answer would not
fit in the evaluation's generation budget for its prompt kind (max_new_tokens) is dropped.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..progress import Progress
from .decontaminate import Decontaminator, benchmark_functions
from .examples import Candidate, Limits, Outcome, process
from .fingerprint import constructs, methods, program_hash
from .generate import generate_program
from .inputs import args_source
from .shards import ShardWriter, existing_outputs, split_of
from .stats import Report, load_tokenizer, print_summary, token_lengths

if TYPE_CHECKING:
    from tracecot.tracer import Sandbox


@dataclass
class BuildConfig:
    out: str = "runs/data"
    programs: int = 2000            # generated programs (unique, decontaminated) to run
    seed: int = 0
    inputs_per_program: int = 3     # argument lists tried per generated program
    runs_per_program: int = 1       # runs kept per generated program
    harvest: bool = True            # harvest functions from a source tree too
    from_path: str | None = None    # that tree (default: the standard library)
    harvest_limit: int | None = None
    runs_per_function: int = 3
    typed_inputs: int = 4
    workers: int = 0                # 0: one per core
    valid_permille: int = 20
    shard_size: int = 20_000
    tokenizer: str = "auto"
    max_total_tokens: int = 2048
    decontaminate: bool = True
    ngram: int = 10
    ngram_threshold: float = 0.5
    overwrite: bool = False
    progress: bool = True

    @property
    def harvest_source(self) -> str:
        return "project" if self.from_path else "stdlib"


# ------------------------------------------------------------------------------ workers

_SANDBOX: Sandbox | None = None
_LIMITS = Limits()


def _init_worker() -> Sandbox:
    global _SANDBOX
    import atexit
    from tracecot.tracer import Sandbox
    _SANDBOX = sandbox = Sandbox()
    atexit.register(sandbox.close)
    return sandbox


def _work(c: Candidate) -> tuple[Candidate, Outcome]:
    return c, process(c, _SANDBOX, _LIMITS)


# ------------------------------------------------------------------------------ candidates

class Screen:
    """De-duplication (normalised-AST hash) and decontamination, counted per source."""

    def __init__(self, dec: Decontaminator | None, report: Report):
        self.dec, self.report = dec, report
        self.seen: set[str] = set()

    def admit(self, source: str, code: str) -> str | None:
        """The program's hash if it is new and clean, else None."""
        h = program_hash(code)
        if self.dec is not None and h not in self.seen:
            hit = self.dec.check(code)
            if hit is not None:       # every copy is counted, renamed ones included
                self.report.programs[f"{source}: contaminated"] += 1
                self.report.decontamination[f"{source} {hit.benchmark} {hit.how}"] += 1
                return None
        if h in self.seen:
            self.report.programs[f"{source}: duplicate"] += 1
            return None
        self.seen.add(h)
        return h


def generated_candidates(cfg: BuildConfig, screen: Screen):
    """`cfg.programs` new, clean generated programs, made lazily (while others run)."""
    made, index = 0, 0
    while made < cfg.programs and index < 4 * cfg.programs + 100:
        p = generate_program(cfg.seed, index)
        index += 1
        screen.report.programs["generated: made"] += 1
        if p is None:
            screen.report.programs["generated: did not compile"] += 1
            continue
        h = screen.admit("generated", p.code)
        if h is None:
            continue
        rng = random.Random(f"tracecot-inputs:{cfg.seed}:{p.index}")
        args = list(dict.fromkeys(args_source(p.params, rng, p.alphabet)
                                  for _ in range(cfg.inputs_per_program)))
        made += 1
        yield Candidate("generated", p.code, p.function, args, split_key=h,
                        origin=f"seed {cfg.seed} #{p.index}", want=cfg.runs_per_program)


def harvested_candidates(cfg: BuildConfig, screen: Screen) -> list[Candidate]:
    from .harvest import harvest
    counts: Counter = Counter()
    cands = harvest(cfg.from_path, source=cfg.harvest_source, seed=cfg.seed,
                    typed=cfg.typed_inputs, runs_per_function=cfg.runs_per_function,
                    limit=cfg.harvest_limit, counts=counts)
    for k, v in counts.items():
        screen.report.programs[f"{cfg.harvest_source}: {k}"] += v
    return [c for c in cands if screen.admit(c.source, c.code) is not None]


# ------------------------------------------------------------------------------ build

def build(cfg: BuildConfig, log=sys.stderr) -> dict:
    out = Path(cfg.out)
    old = existing_outputs(out)
    if old and not cfg.overwrite:
        raise SystemExit(f"error: {out} already holds a build ({old[0].name}, ...); "
                         "use --overwrite or another --out")
    for p in old:
        p.unlink()
    t0 = time.perf_counter()
    report = Report()
    benchmarks: dict[str, str] = {}
    dec = None
    if cfg.decontaminate:
        refs, benchmarks = benchmark_functions()
        dec = Decontaminator(refs, cfg.ngram, cfg.ngram_threshold, benchmarks)
        for name, status in benchmarks.items():
            if status.startswith("NOT CHECKED"):
                print(f"warning: {name} {status}", file=log)
    screen = Screen(dec, report)
    tokenizer = load_tokenizer(cfg.tokenizer)
    workers = cfg.workers or os.cpu_count() or 1
    writer = ShardWriter(out, cfg.shard_size)
    bar = Progress(cfg.programs, "data", enabled=cfg.progress, stream=log)

    def candidates():
        yield from generated_candidates(cfg, screen)
        if cfg.harvest:       # parsed while the generated programs run
            print(f"harvesting {cfg.from_path or 'the standard library'} ...", file=log)
            found = harvested_candidates(cfg, screen)
            bar.total += len(found)
            print(f"{len(found)} harvested programs to run", file=log)
            yield from found

    t_run = time.perf_counter()
    try:
        for c, outcome in _outcomes(candidates(), workers):
            _collect(cfg, c, outcome, tokenizer, report, writer)
            bar.update(1, f"{sum(report.examples.values())} examples")
    finally:
        writer.close()
        bar.close()
    wall = time.perf_counter() - t_run
    n = sum(report.examples.values())
    stats = report.to_json({
        "out": str(out), "config": asdict(cfg), "tokenizer": tokenizer.name,
        "benchmarks": benchmarks or {"all": "decontamination off"},
        "files": [p.name for p in writer.paths],
        "throughput": {"examples": n, "wall_s": round(wall, 1), "workers": workers,
                       "examples_per_s": round(n / wall, 2) if wall else None,
                       "examples_per_s_per_core": round(n / wall / workers, 2) if wall else None,
                       "worker_busy_s": round(report.worker_seconds, 1),
                       "setup_s": round(t_run - t0, 1), "cpu_cores": os.cpu_count(),
                       "note": "wall_s includes harvesting, which overlaps the runs"},
    })
    import json
    (out / "stats.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return stats


def _outcomes(cands, workers: int):
    if workers <= 1:
        sandbox = _init_worker()
        try:
            for c in cands:
                yield _work(c)
        finally:
            sandbox.close()
        return
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(_work, cands, chunksize=2)


def _collect(cfg: BuildConfig, c: Candidate, outcome: Outcome, tokenizer, report: Report,
             writer: ShardWriter) -> None:
    report.drops.update(outcome.drops)
    report.sentences.update(outcome.sentences)
    report.runs["tried"] += outcome.runs
    report.runs["kept"] += outcome.kept_runs
    report.worker_seconds += outcome.seconds
    split = split_of(c.split_key, cfg.valid_permille)
    kept = 0
    for ex in outcome.examples:
        rec = ex.to_json()
        prompt_n, target_n, budget = token_lengths(tokenizer, rec)
        if target_n > budget:
            report.drops[f"{ex.mode} {ex.kind}: answer over the eval's {budget} new tokens"] += 1
            continue
        if prompt_n + target_n > cfg.max_total_tokens:
            report.drops[f"over {cfg.max_total_tokens} tokens in all"] += 1
            continue
        writer.write(split, rec)
        report.add_example(rec, split, prompt_n, target_n)
        kept += 1
    if kept:
        report.add_program(c.source, constructs(c.code), methods(c.code))


# ------------------------------------------------------------------------------ CLI

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracecot data", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    b = sub.add_parser("build", help="build verified training examples (sharded JSONL)")
    d = BuildConfig()
    b.add_argument("--out", default=d.out, help=f"output folder (default {d.out})")
    b.add_argument("--programs", type=int, default=d.programs,
                   help=f"generated programs to run (default {d.programs}; 0: none)")
    b.add_argument("--seed", type=int, default=d.seed, help="seed: same seed, same shards")
    b.add_argument("--inputs-per-program", type=int, default=d.inputs_per_program)
    b.add_argument("--runs-per-program", type=int, default=d.runs_per_program,
                   help="runs kept per generated program (each gives up to 4 examples)")
    b.add_argument("--from", dest="from_path", default=None, metavar="PATH",
                   help="harvest functions from this project (default: the standard library)")
    b.add_argument("--no-harvest", dest="harvest", action="store_false",
                   help="generated programs only")
    b.add_argument("--harvest-limit", type=int, default=None, help="at most N functions")
    b.add_argument("--runs-per-function", type=int, default=d.runs_per_function)
    b.add_argument("--typed-inputs", type=int, default=d.typed_inputs,
                   help="generated argument lists per harvested function")
    b.add_argument("--workers", type=int, default=d.workers, help="processes (default: cores)")
    b.add_argument("--valid-permille", type=int, default=d.valid_permille,
                   help="programs per thousand in the valid split (default 20)")
    b.add_argument("--shard-size", type=int, default=d.shard_size)
    b.add_argument("--tokenizer", default=d.tokenizer,
                   help="auto (the local model's if converted, else proxy), proxy, or a "
                        "checkpoint folder")
    b.add_argument("--max-total-tokens", type=int, default=d.max_total_tokens)
    b.add_argument("--no-decontaminate", dest="decontaminate", action="store_false")
    b.add_argument("--ngram", type=int, default=d.ngram)
    b.add_argument("--ngram-threshold", type=float, default=d.ngram_threshold)
    b.add_argument("--overwrite", action="store_true", help="replace an earlier build in --out")
    b.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def main(argv: list[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    cfg = BuildConfig(**{k: v for k, v in vars(ns).items() if k != "command"})
    if cfg.from_path and not Path(cfg.from_path).exists():
        print(f"error: --from {cfg.from_path}: no such file or folder", file=sys.stderr)
        return 2
    if cfg.programs < 0 or cfg.workers < 0 or not 0 <= cfg.valid_permille <= 1000:
        print("error: --programs, --workers >= 0 and --valid-permille in 0..1000",
              file=sys.stderr)
        return 2
    stats = build(cfg)
    print_summary(stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
