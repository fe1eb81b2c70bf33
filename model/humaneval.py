"""HumanEval generation pass@k: the package's prompts and tests, run in our sandbox.

The completion is appended to the prompt, the problem's `check` is called from a small
wrapper function, and the tracer runs that wrapper in its forked sandbox: a completion
that hangs, crashes or allocates without bound fails the task, never this process.
"""

from __future__ import annotations

from . import prompts as P

CHECK_FN = "tracecot_check"
TIMEOUT = 10.0


def strip_stop(text: str, stops: tuple[str, ...]) -> str:
    """Drop the stop string that ended the completion (e.g. a following `def`)."""
    for s in stops:
        if text.endswith(s):
            return text[: -len(s)]
    return text


def program(problem: dict, completion: str) -> str:
    """Prompt (its trailing newline cut, see prompts.humaneval_prompt) + completion + tests."""
    return (f"{problem['prompt'].rstrip()}{completion}\n\n{problem['test']}\n\n"
            f"def {CHECK_FN}():\n    check({problem['entry_point']})\n")


def run_humaneval_chunk(predictor, part: list[dict], samples: int = 1,
                        temperature: float | None = None, max_new_tokens: int | None = None,
                        seed: int | None = 0) -> list[dict]:
    from tracecot.tracer.schema import RunRequest
    specs = [P.humaneval_prompt(t["prompt"]) for t in part]
    cfg = predictor._gen_config(specs[0], samples, temperature, max_new_tokens, seed)
    gens = predictor._generate(specs, cfg, samples, None)
    reqs = []
    for t, glist in zip(part, gens, strict=True):
        for g in glist:
            reqs.append(RunRequest(function=CHECK_FN, args="", timeout=predictor.timeout,
                                   source=program(t, strip_stop(g.text, cfg.stop)),
                                   max_events=2_000))
    traces = predictor.sandbox.run_many(reqs)
    out, at = [], 0
    for t, glist in zip(part, gens, strict=True):
        samples_out = []
        for g in glist:
            tr = traces[at]
            at += 1
            ok = tr.status == "returned"
            why = None
            if tr.status == "raised" and tr.exception:
                why = f"{tr.exception.type}: {tr.exception.message}"[:300]
            elif tr.status == "error" and tr.error:
                why = f"{tr.error.kind}: {tr.error.message}"[:300]
            samples_out.append({"prediction": strip_stop(g.text, cfg.stop)[-3000:],
                                "verified": ok, "actual": why, "run_status": tr.status,
                                "error": None, "tokens": g.tokens, "finish": g.finish,
                                "prompt_tokens": g.prompt_tokens,
                                "latency_s": round(g.total_s, 4), "wrong_sentences": None,
                                "checked_sentences": None, "raw": ""})
        out.append({"id": t["id"], "n": len(glist),
                    "passed": sum(s["verified"] for s in samples_out), "samples": samples_out})
    return out
