"""Narratives rendered as text: Markdown (editor panel, hover; ✓ / ✗ marks from a
verification) and plain text (CruxEval chain-of-thought style).

    to_markdown(narrative, verification)     # verification optional: no marks without it
    to_plain(narrative)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .narrative import Claim, Narrative, short, tick

if TYPE_CHECKING:           # types only: verification imports narration, not the reverse
    from ..verification.verdicts import ClaimVerdict
    from ..verification.verify import Verification

__all__ = ["to_markdown", "to_plain"]


def _verdict_map(verification: Verification | None) -> dict[int, ClaimVerdict] | None:
    """claim id -> its verdict (each ClaimVerdict names its claim)."""
    if verification is None:
        return None
    return {id(v.claim): v for v in verification.verdicts}


def _mark(claims: list[Claim], by_claim: dict[int, ClaimVerdict]) -> str:
    """" ✓" when every claim checked ok, else " ✗ (…)" saying what is really true."""
    vs = [by_claim.get(id(c)) for c in claims]
    if all(v is not None and v.verdict == "ok" for v in vs):
        return " ✓"
    bits = []
    for c, v in zip(claims, vs, strict=True):
        if v is None:
            bits.append("not checked")
        elif v.verdict == "ok":
            continue
        elif v.verdict == "wrong":
            who = f"{c.variable} " if c.variable and c.kind in ("binds", "mutates", "value") \
                else ""
            bits.append(f"really {who}{tick(short(v.actual))}" if v.actual is not None else
                        v.note or "wrong")
        else:
            bits.append("unverifiable" + (f": {v.note}" if v.note else ""))
    return " ✗ (" + "; ".join(dict.fromkeys(bits)) + ")"


def to_markdown(narrative: Narrative, verification: Verification | None = None) -> str:
    """Markdown: a header line, one bullet per step (nested by depth), the conclusion.

    With a `verification`, steps get ✓ when all
    their claims check, ✗ with the true values when one does not. Without verdicts nothing
    is marked; a narrative is called verified only when every one of its claims is ok.
    """
    by_claim = _verdict_map(verification)
    claims = narrative.claims
    what = "Backward explanation of" if narrative.direction == "backward" else "Run of"
    head = f"**{what} {tick(narrative.trace.call)}**"
    if by_claim is not None:
        n_ok = sum(by_claim[id(c)].ok for c in claims if id(c) in by_claim)
        ok = bool(claims) and n_ok == len(claims) and verification is not None \
            and verification.verified
        head += (f" — ✓ verified: {n_ok}/{len(claims)} claims checked against a fresh run"
                 if ok else f" — ✗ NOT verified: {n_ok}/{len(claims)} claims hold in a "
                 "fresh run")
    out = [head, ""]
    for step in narrative.steps:
        mark = _mark(step.claims, by_claim) if by_claim is not None and step.claims else ""
        out.append(f"{'  ' * step.depth}- **{step.index}.** {step.text}{mark}")
    out.append("")
    concl = narrative.conclusion
    if by_claim is not None and narrative.conclusion_claims:
        concl += _mark(narrative.conclusion_claims, by_claim)
    out.append(concl)
    return "\n".join(out) + "\n"


def to_plain(narrative: Narrative) -> str:
    """Plain text, CruxEval chain-of-thought style: numbered steps, then the conclusion."""
    lines = [narrative.intro] if narrative.intro else []
    for step in narrative.steps:
        lines.append(f"{'   ' * step.depth}{step.index}. {step.plain or step.text}")
    lines.append(narrative.plain_conclusion or narrative.conclusion)
    return "\n".join(lines)
