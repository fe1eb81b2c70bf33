"""pass@k and friends. Pure functions, no numpy needed."""

from __future__ import annotations

from typing import Iterable


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of P(at least one of k samples passes) from n samples with c passing.

    1 - C(n-c, k) / C(n, k), computed as a running product so that large n never overflows
    (Chen et al. 2021, the Codex paper's estimator).
    """
    if n <= 0 or k <= 0:
        raise ValueError("n and k must be positive")
    if not 0 <= c <= n:
        raise ValueError("c must be between 0 and n")
    if k > n:
        raise ValueError(f"k={k} is larger than the number of samples n={n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """Average pass@k over tasks given (n, c) per task."""
    vals = [pass_at_k(n, c, k) for n, c in counts]
    return sum(vals) / len(vals) if vals else 0.0


def verified_pass_at_k(verified: Iterable[Iterable[bool]]) -> float:
    """Share of tasks where at least one of the k samples is proven correct by execution.

    Unlike pass@k (an estimate of picking k samples blindly), this is what a user gets when
    the sandbox picks: any verified sample is returned as the answer.
    """
    rows = [any(r) for r in verified]
    return sum(rows) / len(rows) if rows else 0.0
