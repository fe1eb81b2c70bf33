"""Narratives rendered as text: Markdown (editor panel, hover; ✓ / ✗ marks from a
verification) and plain text (CruxEval chain-of-thought style).

    to_markdown(narrative, verification)     # verification optional: no marks without it
    to_plain(narrative)
"""

from __future__ import annotations

from .narrative import Claim, Narrative, short, tick

__all__ = ["to_markdown", "to_plain"]


def _verdict_map(narrative: Narrative, verdicts) -> dict[int, object] | None:
    """claim id -> verdict, from a Verification or a list of verdicts (in claim order)."""
    if verdicts is None:
        return None
    vlist = list(getattr(verdicts, "verdicts", verdicts))
    claims = narrative.claims
    mine = {id(c) for c in claims}
    if all(id(getattr(v, "claim", None)) in mine for v in vlist):
        return {id(v.claim): v for v in vlist}
    return {id(c): v for c, v in zip(claims, vlist, strict=False)}


def _mark(claims: list[Claim], by_claim: dict[int, object]) -> str:
    """" ✓" when every claim checked ok, else " ✗ (…)" saying what is really true."""
    vs = [by_claim.get(id(c)) for c in claims]
    if all(getattr(v, "verdict", None) == "ok" for v in vs):
        return " ✓"
    bits = []
    for c, v in zip(claims, vs, strict=False):
        verdict = getattr(v, "verdict", None)
        if verdict == "ok":
            continue
        if verdict == "wrong":
            actual = getattr(v, "actual", None)
            who = f"{c.variable} " if c.variable and c.kind in ("binds", "mutates", "value") \
                else ""
            bits.append(f"really {who}{tick(short(actual))}" if actual is not None else
                        getattr(v, "note", "") or "wrong")
        else:
            note = getattr(v, "note", "") if v is not None else ""
            bits.append("unverifiable" + (f": {note}" if note else "") if v is not None
                        else "not checked")
    return " ✗ (" + "; ".join(dict.fromkeys(bits)) + ")"


def to_markdown(narrative: Narrative, verdicts=None) -> str:
    """Markdown: a header line, one bullet per step (nested by depth), the conclusion.

    `verdicts` is a `Verification` (or its list of claim verdicts): steps get ✓ when all
    their claims check, ✗ with the true values when one does not. Without verdicts nothing
    is marked; a narrative is called verified only when every one of its claims is ok.
    """
    by_claim = _verdict_map(narrative, verdicts)
    claims = narrative.claims
    what = "Backward explanation of" if narrative.direction == "backward" else "Run of"
    head = f"**{what} {tick(narrative.trace.call)}**"
    if by_claim is not None:
        n_ok = sum(getattr(by_claim.get(id(c)), "verdict", None) == "ok" for c in claims)
        ok = bool(claims) and n_ok == len(claims) and \
            getattr(verdicts, "verified", True) is not False
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
