"""Check free-form reasoning (what a language model writes) against a real run, sentence by
sentence.

    result = verify_text(code, "f", "[1, 1, 3]", text)
    for s in result:                      # SentenceVerdict(text, verdict, claim, actual)
        print(s.verdict, s.text)          # "ok" | "wrong" | "unchecked"

Each sentence is split into clauses; a clause may hold one checkable claim: a variable or
expression and a value ("x = 5", "x becomes [1, 2]", "x is now 3", "len(nums) must be 3",
"3 % 2 == 0 is False", "the condition x > 2 is true"), what a function returns ("the function
returns 'ab'", "So the output is 12", "helper returns 0"), how often a loop runs ("the loop
runs 3 times"), an append ("3 is appended to res"), a print or a raise. Values are parsed with
`ast.literal_eval` and compared through the canonical encoder (type-strict); a value equal only
under `==` (1 vs 1.0) is accepted with a note.

Claims are checked in order: a variable claim holds when the variable has that value at some
point at or after the previous matched claim (a value it still holds counts). Sentences in the
past tense ("x was 3") and text in backward mode may match anywhere. A clause is only marked
wrong when the trace says so for certain: unknown names, values the trace cut short, values set
inside one-line loops (whose intermediate values are not recorded), and anything not parsed
are "unchecked", never "wrong". `result.marked()`: each sentence with ✓, ✗ (and the true
value) or · (unchecked).

Modules: text_sentences.py (sentences, clauses), text_claims.py (claims of a clause),
text_check.py (the run indexed, claims checked in order), safe_eval.py (decoding, safe
evaluation, comparison). This module is the entry point and re-exports the public names.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .safe_eval import safe_eval
from ..schema import RunRequest, Trace, outcome_text
from .text_check import Checker, ClaimResult, World
from .text_claims import PAST_TENSE, TextClaim, extract_claims
from .sentences import split_clauses, split_sentences
from .verdicts import SentenceVerdict

__all__ = ["verify_text", "TextVerification", "SentenceVerdict", "TextClaim", "ClaimResult",
           "split_sentences", "split_clauses", "extract_claims", "parse_call", "safe_eval"]


# ------------------------------------------------------------------------------ results

@dataclass
class TextVerification:
    function: str
    args: str
    status: str                   # the run: returned | raised | error
    result: str | None            # rendered result, or the exception / error
    sentences: list[SentenceVerdict] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not any(s.verdict == "wrong" for s in self.sentences)

    @property
    def wrong(self) -> list[SentenceVerdict]:
        return [s for s in self.sentences if s.verdict == "wrong"]

    @property
    def checked(self) -> int:
        return sum(s.verdict != "unchecked" for s in self.sentences)

    def __iter__(self):
        return iter(self.sentences)

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, i):
        return self.sentences[i]

    def marked(self) -> str:
        """The reasoning with a mark on each sentence, one a line (see SentenceVerdict)."""
        return "\n".join(s.marked() for s in self.sentences)


# ------------------------------------------------------------------------------ entry point

def parse_call(call: str) -> tuple[str, str]:
    """"f([1, 2], 'a')" -> ("f", "[1, 2], 'a'")."""
    text = call.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"cannot parse the call {call!r}: {e.msg}") from None
    if not isinstance(node, ast.Call):
        raise ValueError(f"not a call: {call!r}")
    func = ast.get_source_segment(text, node.func) or ""
    rest = text[len(func):].strip()
    if not (rest.startswith("(") and rest.endswith(")")):
        raise ValueError(f"not a simple call: {call!r}")
    return func, rest[1:-1].strip()


_BACKWARD_HINT = re.compile(r"\b(?:backwards?|reason(?:ing)? back|work(?:ing)? back|"
                            r"must have been|must be|needs? to be|has to be)\b", re.I)


def verify_text(code: str, function: str, args: str, text: str, *, sandbox=None,
                trace: Trace | None = None, mode: str = "auto") -> TextVerification:
    """Check reasoning `text` about the call `function(args)` on `code` (for a call written
    out, `verify_text(code, *parse_call("f([1, 1, 3])"), text)`).

    `trace`: a trace of that call already made (no run then). `mode`: "forward" (claims follow
    the run's order), "backward" (order-free, for input-prediction reasoning) or "auto".
    """
    if trace is None:
        if sandbox is None:
            from ..running.sandbox import default_sandbox
            sandbox = default_sandbox()
        trace = sandbox.run(RunRequest(function=function, args=args, source=code))
    request = RunRequest(function=function, args=args, source=code)
    sentences = split_sentences(text)
    result = outcome_text(trace)
    out = TextVerification(function, args, trace.status, result)
    if trace.status == "error":
        out.error = result
        out.sentences = [SentenceVerdict(s, "unchecked", note="the run failed")
                         for s in sentences]
        return out
    if mode == "auto":
        mode = "backward" if any(_BACKWARD_HINT.search(s) for s in sentences[:3]) else \
            "forward"
    world = World(trace, request)
    checker = Checker(world, mode)
    known = world.segs.__contains__
    for s in sentences:
        past = bool(PAST_TENSE.search(s))
        results: list[ClaimResult] = []
        for clause in split_clauses(s):
            for claim in extract_claims(clause, past, known):
                results.append(checker.check(claim))
        wrong = [r for r in results if r.verdict == "wrong"]
        okay = [r for r in results if r.verdict == "ok"]
        if wrong:
            r = wrong[0]
            out.sentences.append(SentenceVerdict(s, "wrong", r.claim, r.actual, r.note,
                                                 results))
        elif okay:
            notes = "; ".join(r.note for r in okay if r.note)
            out.sentences.append(SentenceVerdict(s, "ok", okay[0].claim, None, notes, results))
        else:
            out.sentences.append(SentenceVerdict(s, "unchecked",
                                                 results[0].claim if results else None,
                                                 None, results[0].note if results else "",
                                                 results))
    return out
