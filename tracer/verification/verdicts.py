"""The two verdict types, defined once: what the verifier says about one claim of a narrative
(`ClaimVerdict`) and what the text checker says about one sentence of free-form reasoning
(`SentenceVerdict`). The model, its worker, the server and the LSP payloads use them as they
are, through `to_json()` / `from_json()` where they cross a process or protocol boundary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..narration.narrative import Claim
from ..values import render

if TYPE_CHECKING:
    from .text_check import ClaimResult
    from .text_claims import TextClaim

__all__ = ["ClaimVerdict", "SentenceVerdict"]


@dataclass
class ClaimVerdict:
    claim: Claim
    verdict: str                       # "ok" | "wrong" | "unverifiable"
    actual: dict[str, Any] | None = None   # the true value (encoded), for "wrong"
    note: str = ""
    step: int | None = None            # step number in the narrative (None: conclusion)

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def __str__(self) -> str:
        where = f"step {self.step}" if self.step is not None else "conclusion"
        out = f"{where}, {self.claim.describe()}: {self.verdict}"
        if self.verdict == "wrong":
            out += f"; really {render(self.actual) if self.actual is not None else 'nothing'}"
        if self.note:
            out += f" ({self.note})"
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ClaimVerdict:
        return cls(**{**d, "claim": Claim(**d["claim"])})


@dataclass
class SentenceVerdict:
    text: str
    verdict: str                  # "ok" | "wrong" | "unchecked"
    claim: TextClaim | None = None    # the deciding claim (the first wrong one, else the first)
    actual: str | None = None     # true value(s), rendered, when wrong
    note: str = ""
    claims: list[ClaimResult] = field(default_factory=list)

    def marked(self) -> str:
        """"✓ text", "✗ text (really …)" with the true value, or "· text (unchecked)"."""
        if self.verdict == "ok":
            return f"✓ {self.text}"
        if self.verdict == "wrong":
            why = f"really {self.actual}" if self.actual is not None else self.note or "wrong"
            return f"✗ {self.text} ({why})"
        return f"· {self.text} (unchecked)"

    def to_json(self) -> dict[str, Any]:
        """{text, verdict, actual, note}: what a reader is shown. The claim objects stay in the
        process that checked (their values are arbitrary Python values, not JSON)."""
        return {"text": self.text, "verdict": self.verdict, "actual": self.actual,
                "note": self.note}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SentenceVerdict:
        return cls(text=d["text"], verdict=d["verdict"], actual=d.get("actual"),
                   note=d.get("note", ""))
