"""Which dtype runs the model fastest on this machine: float32 against bfloat16, side by side.

    .venv/bin/python benchmarks/model_dtype.py [--batch 16] [--context 600] [--steps 20]

Loads the embedded checkpoint once per dtype and times, in the same run, a batched prefill
(`--batch` prompts of `--context` tokens), one-token decoding steps on that cache (the
evaluation's shape) and a single-prompt prefill (the editor's shape). Prints tokens/s per
dtype and the float32/bfloat16 ratio. `pick_dtype` chooses bfloat16 on a CPU only when the
CPU has bfloat16 arithmetic in hardware (AVX512-BF16/AMX); this script is the evidence.
"""

from __future__ import annotations

import argparse
import time


def _time(fn, repeats: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


def measure(dtype, batch: int, context: int, steps: int) -> dict[str, float]:
    import torch
    from transformers import AutoModelForCausalLM

    from tracecot.model.loading import configure_threads, resolve_model_path
    configure_threads()
    path, _ = resolve_model_path()
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype).eval()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 40000, (batch, context), generator=gen)
    one = torch.randint(0, 40000, (1, context), generator=gen)
    nxt = torch.randint(0, 40000, (batch, 1), generator=gen)
    with torch.inference_mode():
        model(input_ids=one[:, :16])                       # warm up kernels
        out = {}
        cache = None

        def prefill():
            nonlocal cache
            cache = model(input_ids=ids, use_cache=True, logits_to_keep=1).past_key_values

        out["prefill_batch"] = batch * context / _time(prefill)

        def step():
            model(input_ids=nxt, past_key_values=cache, use_cache=True, logits_to_keep=1)

        out["decode_batch"] = batch / _time(step, steps)
        out["prefill_single"] = context / _time(lambda: model(input_ids=one, logits_to_keep=1))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--context", type=int, default=600)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args(argv)
    import torch

    from tracecot.model.loading import native_cpu_bf16, pick_device, pick_dtype
    device = pick_device()
    if device != "cpu":
        print(f"device {device}: this benchmark is for CPUs")
        return 2
    rows = {name: measure(getattr(torch, name), a.batch, a.context, a.steps)
            for name in ("float32", "bfloat16")}
    print(f"native bfloat16: {native_cpu_bf16()}; pick_dtype chooses {pick_dtype(device)}; "
          f"threads {torch.get_num_threads()}")
    print(f"{'tokens/s':<28}{'float32':>10}{'bfloat16':>10}{'f32/bf16':>10}")
    labels = {"prefill_batch": f"prefill {a.batch} x {a.context}",
              "decode_batch": f"decode step, batch {a.batch}",
              "prefill_single": f"prefill 1 x {a.context}"}
    for key, label in labels.items():
        f, b = rows["float32"][key], rows["bfloat16"][key]
        print(f"{label:<28}{f:>10.0f}{b:>10.0f}{f / b:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
