"""`tracecot eval`: CruxEval (output / input prediction) and HumanEval, scored in our sandbox.

    tracecot eval cruxeval --task output|input [--cot] [--model PATH] [--adapter PATH]
                  [--limit N] [--samples k] [--batch-size B] [--out DIR] [--resume]
    tracecot eval humaneval [--limit N] [--samples k] ...

Each finished task is appended to DIR/results.jsonl at once, so an interrupted run loses at
most one chunk and `--resume` continues it. At the end DIR/report.json (config, model,
timings, metrics, per-task results) and DIR/chart.png are written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tracecot.tracer import datasets

from .metrics import mean_pass_at_k, verified_pass_at_k
from .progress import Progress

_KEYS = ("benchmark", "task", "mode", "model", "adapter", "samples", "temperature",
         "max_new_tokens", "seed")     # a resumed run must match these


@dataclass
class EvalConfig:
    benchmark: str = "cruxeval"            # cruxeval | humaneval
    task: str = "output"                   # output | input (cruxeval)
    mode: str = "direct"                   # direct | cot
    model: str | None = None
    adapter: str | None = None
    limit: int | None = None
    samples: int = 1
    temperature: float | None = None       # None: greedy for 1 sample, 0.8 for more
    batch_size: int = 16
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    data: str | None = None
    max_new_tokens: int | None = None
    seed: int = 0
    device: str | None = None
    dtype: str | None = None
    timeout: float = 2.0

    def out_dir(self) -> Path:
        if self.out:
            return Path(self.out)
        name = self.benchmark + (f"-{self.task}" if self.benchmark == "cruxeval" else "")
        name += f"-{self.mode}" + (f"-k{self.samples}" if self.samples > 1 else "")
        return Path("runs") / "eval" / name


def load_cruxeval(path: str | None = None, limit: int | None = None) -> list[dict]:
    try:
        return datasets.cruxeval_rows(path, limit)
    except FileNotFoundError as e:
        raise SystemExit(f"error: {e}") from None


def load_humaneval(limit: int | None = None) -> list[dict]:
    try:
        return datasets.humaneval_rows(limit)
    except FileNotFoundError as e:
        raise SystemExit(f"error: {e}") from None


def _prepare_out(cfg: EvalConfig, stamp: dict) -> tuple[Path, dict[str, dict]]:
    """Create the output dir; on --resume return the finished records, keyed by task id."""
    out = cfg.out_dir()
    results = out / "results.jsonl"
    done: dict[str, dict] = {}
    if results.exists() and results.stat().st_size:
        if cfg.resume:
            config = out / "config.json"
            old = json.loads(config.read_text()) if config.exists() else {}
            diff = [k for k in _KEYS if k in old and old.get(k) != stamp.get(k)]
            if diff:
                raise SystemExit(f"error: cannot resume {out}: settings differ ({', '.join(diff)})")
            with open(results) as fh:
                for line in fh:
                    try:
                        rec = json.loads(line)
                        done[rec["id"]] = rec
                    except (ValueError, KeyError):
                        continue    # a line cut by a crash: that task runs again
        elif not cfg.overwrite:
            raise SystemExit(f"error: {results} exists; pass --resume to continue it or "
                             "--overwrite to start again")
        else:
            results.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(stamp, indent=1))
    return out, done


def _sample_record(p) -> dict:
    return {"prediction": p.prediction, "verified": p.verified, "actual": p.actual,
            "run_status": p.run_status, "error": p.error, "tokens": p.tokens,
            "prompt_tokens": p.prompt_tokens,
            "finish": p.finish, "latency_s": round(p.latency_s, 4),
            "wrong_sentences": p.wrong_sentences if p.verdicts else None,
            "checked_sentences": sum(v.verdict != "unchecked" for v in p.verdicts) or None,
            "raw": p.raw[-3000:]}


def _metrics(records: list[dict], samples: int) -> dict:
    counts = [(r["n"], r["passed"]) for r in records]
    m: dict = {"tasks": len(records)}
    if not records:
        return m
    if samples == 1:
        m["pass@1"] = sum(c for _, c in counts) / len(counts)
    else:
        for k in sorted({1, 5, 10, samples}):
            if k <= samples:
                m[f"pass@{k}"] = mean_pass_at_k(counts, k)
        m[f"verified_pass@{samples}"] = verified_pass_at_k(
            [[s["verified"] for s in r["samples"]] for r in records])
    found = [s["prediction"] is not None for r in records for s in r.get("samples", [])]
    if found:
        m["answer_found"] = sum(found) / len(found)
    checked = [(s["wrong_sentences"], s["checked_sentences"]) for r in records
               for s in r.get("samples", []) if s.get("checked_sentences")]
    if checked:
        m["cot_sentences_checked"] = sum(c for _, c in checked)
        m["cot_sentence_accuracy"] = 1 - sum(w for w, _ in checked) / sum(c for _, c in checked)
    return m


def run_eval(cfg: EvalConfig, predictor=None, progress: bool = True) -> dict:
    """Run one evaluation end to end and return the report (also written to disk)."""
    t_start = time.perf_counter()
    if cfg.benchmark == "cruxeval":
        tasks = load_cruxeval(cfg.data, cfg.limit)
    elif cfg.benchmark == "humaneval":
        tasks = load_humaneval(cfg.limit)
    else:
        raise SystemExit(f"error: unknown benchmark {cfg.benchmark!r}")
    if predictor is None:
        from .loading import ModelLoadError, load_model
        from .predict import Predictor
        try:
            lm = load_model(cfg.model, cfg.adapter, cfg.device, cfg.dtype)
        except ModelLoadError as e:
            raise SystemExit(f"error: {e}") from None
        predictor = Predictor(lm=lm, batch_size=cfg.batch_size, timeout=cfg.timeout)
    predictor.batch_size = cfg.batch_size
    describe = getattr(getattr(predictor.engine, "lm", None), "describe", None)
    model_info = describe() if describe is not None else \
        {"name": type(predictor.engine).__name__}
    stamp = asdict(cfg) | {"model": model_info.get("path"), "adapter": model_info.get("adapter")}
    out, done = _prepare_out(cfg, stamp)
    todo = [t for t in tasks if t["id"] not in done]
    kind = cfg.task if cfg.benchmark == "cruxeval" else "gen"
    bar = Progress(len(tasks), f"{cfg.benchmark}-{kind} {cfg.mode}", enabled=progress,
                   initial=len(tasks) - len(todo))
    gen_tokens, prompt_tokens, gen_s = 0, 0, 0.0
    chunk = max(cfg.batch_size, 1) * 4
    with open(out / "results.jsonl", "a") as fh:
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            t0 = time.perf_counter()
            recs = _run_chunk(cfg, predictor, part)
            gen_s += time.perf_counter() - t0
            for rec in recs:
                gen_tokens += sum(s["tokens"] for s in rec["samples"])
                prompt_tokens += sum(s.get("prompt_tokens", 0) for s in rec["samples"])
                fh.write(json.dumps(rec) + "\n")
                done[rec["id"]] = rec
            fh.flush()
            passed = sum(1 for r in done.values() if r["passed"])
            rate = gen_tokens / max(gen_s, 1e-9)
            bar.update(len(part), f"pass {passed}/{len(done)}  {rate:.0f} tok/s")
    bar.close()
    wall = time.perf_counter() - t_start
    records = [done[t["id"]] for t in tasks if t["id"] in done]
    metrics = _metrics(records, cfg.samples)
    report = {"benchmark": cfg.benchmark, "task": cfg.task if cfg.benchmark == "cruxeval" else None,
              "mode": cfg.mode, "config": stamp, "model": model_info, "metrics": metrics,
              "timings": {"wall_s": round(wall, 2), "run_s_this_session": round(gen_s, 2),
                          "tasks_this_session": len(todo),
                          "tasks_per_min": round(60 * len(todo) / gen_s, 2) if gen_s else None,
                          "generated_tokens": gen_tokens,
                          "tokens_per_s": round(gen_tokens / gen_s, 2) if gen_s else None,
                          "prompt_tokens": prompt_tokens,
                          "prompt_tokens_per_s":
                              round(prompt_tokens / gen_s, 1) if gen_s else None},
              "results": records}
    (out / "report.json").write_text(json.dumps(report, indent=1))
    _chart(out, report)
    return report


def _run_chunk(cfg: EvalConfig, predictor, part: list[dict]) -> list[dict]:
    kw: dict[str, Any] = dict(samples=cfg.samples, temperature=cfg.temperature,
                              max_new_tokens=cfg.max_new_tokens, seed=cfg.seed)
    if cfg.benchmark == "humaneval":
        from .humaneval import run_humaneval_chunk
        return run_humaneval_chunk(predictor, part, **kw)
    from .predict import InputTask, OutputTask
    if cfg.task == "output":
        preds = predictor.predict_output_batch(
            [OutputTask(t["code"], "f", t["input"]) for t in part], cfg.mode, **kw)
    elif cfg.task == "input":
        preds = predictor.predict_input_batch(
            [InputTask(t["code"], "f", t["output"]) for t in part], cfg.mode, **kw)
    else:
        raise SystemExit(f"error: unknown --task {cfg.task!r}")
    return [{"id": t["id"], "n": len(ps), "passed": sum(p.verified for p in ps),
             "samples": [_sample_record(p) for p in ps]} for t, ps in zip(part, preds, strict=True)]


def _chart(out: Path, report: dict) -> None:
    from .chart import bar_chart
    m = report["metrics"]
    bars = [(k.replace("verified_", "verified "), v) for k, v in m.items()
            if k.startswith(("pass@", "verified_pass@"))]
    if "answer_found" in m:
        bars.append(("answered", m["answer_found"]))
    title = f"{report['benchmark']} {report['task'] or ''} {report['mode']}".replace("  ", " ")
    sub = f"{report['model'].get('name')} - {m['tasks']} tasks"
    try:
        bar_chart(out / "chart.png", title, bars, sub)
    except OSError as e:
        print(f"warning: chart not written: {e}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tracecot eval", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="benchmark", required=True)
    for name in ("cruxeval", "humaneval"):
        p = sub.add_parser(name)
        if name == "cruxeval":
            p.add_argument("--task", choices=["output", "input"], default="output")
            p.add_argument("--cot", action="store_true", help="chain-of-thought prompts")
            p.add_argument("--data", help="CruxEval JSONL (default: $TRACECOT_CRUXEVAL, "
                                          "else the copy shipped with tracecot)")
        p.add_argument("--model", help="checkpoint dir or .gguf (default: embedded SmolLM2)")
        p.add_argument("--adapter", help="PEFT/LoRA adapter directory")
        p.add_argument("--limit", type=int, help="first N tasks only")
        p.add_argument("--samples", type=int, default=1, help="k samples per task (pass@k)")
        p.add_argument("--temperature", type=float, help="sampling temperature (k > 1: 0.8)")
        p.add_argument("--batch-size", type=int, default=16)
        p.add_argument("--max-new-tokens", type=int)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--device", help="auto | cpu | cuda")
        p.add_argument("--dtype", help="auto | float32 | bfloat16 | float16")
        p.add_argument("--timeout", type=float, help="sandbox seconds per run")
        p.add_argument("--out", help="output directory (default runs/eval/<name>)")
        p.add_argument("--resume", action="store_true", help="continue an interrupted run")
        p.add_argument("--overwrite", action="store_true", help="discard earlier results")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        argv = argv[1:]
    a = build_parser().parse_args(argv)
    if a.samples < 1 or a.batch_size < 1:
        raise SystemExit("error: --samples and --batch-size must be at least 1")
    cfg = EvalConfig(benchmark=a.benchmark, task=getattr(a, "task", "output"),
                     mode="cot" if getattr(a, "cot", False) else "direct", model=a.model,
                     adapter=a.adapter, limit=a.limit, samples=a.samples,
                     temperature=a.temperature, batch_size=a.batch_size, out=a.out,
                     resume=a.resume, overwrite=a.overwrite, data=getattr(a, "data", None),
                     max_new_tokens=a.max_new_tokens, seed=a.seed, device=a.device,
                     dtype=a.dtype,
                     timeout=a.timeout or (10.0 if a.benchmark == "humaneval" else 2.0))
    report = run_eval(cfg, progress=not a.quiet)
    t = report["timings"]
    metrics = "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in report["metrics"].items())
    label = " ".join(x for x in (cfg.benchmark, report["task"], cfg.mode) if x)
    print(f"{label}: {metrics}")
    print(f"wall {t['wall_s']:.1f}s  {t['tasks_per_min']} tasks/min  generated "
          f"{t['tokens_per_s']} tok/s  prompts {t['prompt_tokens_per_s']} tok/s  "
          f"-> {cfg.out_dir() / 'report.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
