"""The build's report: sizes per source / direction / mode / split, drop and decontamination
counts, token-length histograms, construct and method coverage, and throughput.

Token counts use the model's own tokenizer and chat template when the converted default
checkpoint is in the local cache (loading it never converts or downloads anything), else a
proxy (one token per word or punctuation mark), and the report says which.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tracecot.model import prompts as P

BINS = (64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 4096)
_PIECES = re.compile(r"\w+|[^\w\s]|\n")


class ProxyTokenizer:
    """Stands in for the real tokenizer: counts words and punctuation marks. No chat
    template, so prompts.render uses its plain fallback layout."""
    chat_template = None
    name = "proxy (one token per word or punctuation mark)"

    def count(self, text: str) -> int:
        return len(_PIECES.findall(text))


class RealTokenizer:
    def __init__(self, tok, name: str):
        self.tok, self.name = tok, name
        self.chat_template = getattr(tok, "chat_template", None)

    def apply_chat_template(self, *a, **kw):
        return self.tok.apply_chat_template(*a, **kw)

    def count(self, text: str) -> int:
        return len(self.tok(text, add_special_tokens=False)["input_ids"])


def load_tokenizer(spec: str = "auto"):
    """"proxy"; "auto": the default model's tokenizer if already converted locally, else the
    proxy; or a checkpoint directory."""
    if spec == "proxy":
        return ProxyTokenizer()
    from pathlib import Path
    if spec == "auto":
        from tracecot.model.loading import DEFAULT_NAME, cache_root
        path = cache_root() / DEFAULT_NAME
        if not (path / "tokenizer.json").is_file():
            return ProxyTokenizer()
    else:
        path = Path(spec)
    try:
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(str(path))
    except Exception as e:  # noqa: BLE001 - any failure: fall back, and say so in the report
        if spec != "auto":
            raise SystemExit(f"error: cannot load the tokenizer at {path}: {e}") from None
        return ProxyTokenizer()
    return RealTokenizer(tok, f"{path.name} (chat template {'yes' if tok.chat_template else 'no'})")


def spec_for(record: dict) -> P.PromptSpec:
    if record["kind"] == "output":
        return P.output_prompt(record["code"], record["function"], record["args"],
                               record["mode"])
    return P.input_prompt(record["code"], record["function"], record["output"], record["mode"])


def target_of(record: dict) -> str:
    return P.completion(record["kind"], record["mode"], record["function"], record["args"],
                        record["output"], record["reasoning"])


def token_lengths(tokenizer, record: dict) -> tuple[int, int, int]:
    """(prompt tokens, target tokens, the eval's max_new_tokens for this prompt kind)."""
    spec = spec_for(record)
    prompt = P.render(tokenizer, spec)
    return tokenizer.count(prompt), tokenizer.count(target_of(record)), spec.max_new_tokens


def _bin(n: int) -> str:
    for b in BINS:
        if n <= b:
            return f"<={b}"
    return f">{BINS[-1]}"


@dataclass
class Report:
    examples: Counter = field(default_factory=Counter)        # "source kind mode split"
    drops: Counter = field(default_factory=Counter)
    sentences: Counter = field(default_factory=Counter)
    programs: Counter = field(default_factory=Counter)        # "source: what happened"
    decontamination: Counter = field(default_factory=Counter)  # "benchmark how"
    constructs: dict = field(default_factory=lambda: defaultdict(Counter))
    methods: dict = field(default_factory=lambda: defaultdict(Counter))
    total_tokens: dict = field(default_factory=lambda: defaultdict(Counter))
    target_tokens: dict = field(default_factory=lambda: defaultdict(Counter))
    token_sums: Counter = field(default_factory=Counter)
    runs: Counter = field(default_factory=Counter)
    worker_seconds: float = 0.0

    def add_example(self, rec: dict, split: str, prompt_tokens: int, target_tokens: int):
        key = f"{rec['mode']}"
        self.examples[f"{rec['source']} {rec['kind']} {rec['mode']} {split}"] += 1
        self.total_tokens[key][_bin(prompt_tokens + target_tokens)] += 1
        self.target_tokens[key][_bin(target_tokens)] += 1
        self.token_sums[f"{key} total"] += prompt_tokens + target_tokens
        self.token_sums[f"{key} target"] += target_tokens
        self.token_sums[f"{key} n"] += 1

    def add_program(self, source: str, constructs: set[str], methods: Counter) -> None:
        self.constructs[source].update(constructs)
        self.constructs[source]["(programs)"] += 1
        self.methods[source].update(methods)

    def summary_table(self) -> dict:
        by_source: dict = defaultdict(Counter)
        for key, n in self.examples.items():
            source, kind, mode, split = key.split()
            by_source[source][f"{kind}/{mode}"] += n
            by_source[source][split] += n
            by_source["all"][f"{kind}/{mode}"] += n
            by_source["all"][split] += n
        return {k: dict(sorted(v.items())) for k, v in sorted(by_source.items())}

    def to_json(self, extra: dict) -> dict:
        means = {}
        for mode in ("direct", "cot"):
            n = self.token_sums[f"{mode} n"]
            if n:
                means[mode] = {"mean_total": round(self.token_sums[f"{mode} total"] / n, 1),
                               "mean_target": round(self.token_sums[f"{mode} target"] / n, 1)}
        order = [f"<={b}" for b in BINS] + [f">{BINS[-1]}"]
        def hist(d):
            return {m: {b: c[b] for b in order if c[b]} for m, c in d.items()}

        return {
            **extra,
            "examples": self.summary_table(),
            "examples_detail": dict(sorted(self.examples.items())),
            "programs": dict(sorted(self.programs.items())),
            "decontamination": dict(sorted(self.decontamination.items())),
            "runs": dict(self.runs),
            "drops": dict(self.drops.most_common()),
            "narrative_sentences": dict(sorted(self.sentences.items())),
            "tokens": {"histogram_total": hist(self.total_tokens),
                       "histogram_target": hist(self.target_tokens), "means": means},
            "coverage": {s: {"constructs": dict(c.most_common()),
                             "methods_distinct": len(self.methods[s]),
                             "methods_top": dict(self.methods[s].most_common(60))}
                         for s, c in sorted(self.constructs.items())},
        }


def print_summary(stats: dict, out=None) -> None:
    import sys
    w = (out or sys.stdout).write
    w(f"\nwrote {stats['out']}  (tokenizer: {stats['tokenizer']})\n")
    for source, row in stats["examples"].items():
        w(f"  {source:10s} " + "  ".join(f"{k} {v}" for k, v in row.items()) + "\n")
    w("programs: " + ", ".join(f"{k} {v}" for k, v in stats["programs"].items()) + "\n")
    dec = stats["decontamination"]
    w("decontamination: " + (", ".join(f"{k} {v}" for k, v in dec.items()) or "nothing dropped")
      + "  [" + "; ".join(f"{k}: {v}" for k, v in stats["benchmarks"].items()) + "]\n")
    drops = stats["drops"]
    w(f"dropped ({sum(drops.values())}): " +
      ", ".join(f"{k} {v}" for k, v in list(drops.items())[:12]) + "\n")
    for mode, m in stats["tokens"]["means"].items():
        w(f"tokens {mode}: mean total {m['mean_total']}, mean target {m['mean_target']}; "
          + " ".join(f"{b}:{c}" for b, c in stats["tokens"]["histogram_total"][mode].items())
          + "\n")
    for source, cov in stats["coverage"].items():
        cons = cov["constructs"]
        n = cons.get("(programs)", 0)
        w(f"coverage {source} ({n} programs, {cov['methods_distinct']} distinct methods/builtins): "
          + ", ".join(f"{k} {v}" for k, v in cons.items() if k != "(programs)") + "\n")
    t = stats["throughput"]
    w(f"throughput: {t['examples']} verified examples in {t['wall_s']} s with {t['workers']} "
      f"workers = {t['examples_per_s']}/s, {t['examples_per_s_per_core']}/s per core\n")
