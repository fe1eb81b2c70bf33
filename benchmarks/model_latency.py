"""Model latency: load time (first GGUF conversion and cached), per-prediction latency.

    .venv/bin/python benchmarks/model_latency.py [--skip-convert] [--repeats 3]

Prints a table. "first conversion" converts the embedded GGUF into a fresh temporary cache
(it never touches your real cache); "cached load" starts a new Python process and loads the
converted checkpoint, imports included, as a CLI invocation would. Prediction latency is
measured for single requests (batch of one), direct and CoT, greedy; when the tracer's
sandbox is available the full predict call (generation + sandbox verification) is timed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

FUNCS = [
    ("def f(x):\n    return x * 2 + 1", "20"),
    ("def f(s):\n    return s.upper() + '!'", "'hey'"),
    ("def f(nums):\n    out = []\n    for n in nums:\n        if n % 2:\n"
     "            out.append(n)\n    return out", "[1, 2, 3, 4, 5]"),
]


def _cached_load_subprocess(cache: str | None) -> tuple[float, float]:
    code = ("import time; t=time.perf_counter(); from tracecot.model.loading import load_model; "
            "lm=load_model(); print(time.perf_counter()-t, lm.load_s)")
    env = dict(os.environ)
    if cache:
        env["TRACECOT_CACHE"] = cache
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return time.perf_counter() - t0, float(out[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-convert", action="store_true", help="do not time a fresh conversion")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    from tracecot.model.loading import load_model
    rows: list[tuple[str, str]] = []
    tmp = None
    if not a.skip_convert:
        tmp = tempfile.mkdtemp(prefix="tracecot-bench-cache-")
        os.environ["TRACECOT_CACHE"] = tmp
        t0 = time.perf_counter()
        lm = load_model()
        rows.append(("first load (GGUF conversion + load)",
                     f"{time.perf_counter() - t0:.1f} s (conversion {lm.convert_s:.1f} s)"))
        del lm
    wall, inner = _cached_load_subprocess(tmp)
    rows.append(("cached load, new process (imports included)", f"{wall:.1f} s"))
    rows.append(("cached load, load_model() itself", f"{inner:.1f} s"))
    lm = load_model()
    rows.append(("device / dtype / threads",
                 f"{lm.device} / {lm.dtype} / {__import__('torch').get_num_threads()}"))

    from tracecot.model import prompts as P
    from tracecot.model.generate import Engine
    from tracecot.model.predict import Predictor
    eng = Engine(lm)
    pred = Predictor(engine=eng, sandbox=False)   # generation only here; the sandbox is below
    for mode in ("direct", "cot"):
        first, total, toks = [], [], []
        hint = pred._hint("output", mode)       # the shared prompt head, KV-cached after call 1
        for _ in range(a.repeats):
            for code, args in FUNCS:
                spec = P.output_prompt(code, "f", args, mode)
                cfg = pred._gen_config(spec, 1, None, None, 0)
                g = eng.generate([P.render(lm.tokenizer, spec)], cfg, prefix_hint=hint)[0][0]
                first.append(g.first_token_s)
                total.append(g.total_s)
                toks.append(g.tokens)
        rows.append((f"{mode}: first token, first call (prefix not cached)",
                     f"{first[0] * 1000:.0f} ms"))
        rows.append((f"{mode}: first token (median)", f"{statistics.median(first) * 1000:.0f} ms"))
        rows.append((f"{mode}: total generation (median)",
                     f"{statistics.median(total):.2f} s for {statistics.median(toks):.0f} tokens "
                     f"({sum(toks) / sum(total):.1f} tok/s)"))
    import importlib.util
    if importlib.util.find_spec("tracecot.tracer.running.sandbox") is not None:
        pred = Predictor(engine=eng)
        for mode in ("direct", "cot"):
            lat, ok = [], 0
            for code, args in FUNCS:
                t0 = time.perf_counter()
                p = pred.predict_output(code, args, mode)
                lat.append(time.perf_counter() - t0)
                ok += p.verified
            rows.append((f"{mode}: predict_output incl. verification (median)",
                         f"{statistics.median(lat):.2f} s, {ok}/{len(FUNCS)} verified"))
    else:
        rows.append(("predict_output incl. verification", "skipped: tracer sandbox missing"))
    width = max(len(r[0]) for r in rows)
    print(f"model: {lm.name} ({lm.path})")
    for k, v in rows:
        print(f"  {k.ljust(width)}  {v}")
    if tmp:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
