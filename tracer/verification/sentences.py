"""Free-form reasoning split into sentences and clauses (for `verify_text`).

A sentence ends at . ! ? outside string literals and brackets (one per line at least; list
markers and Markdown are dropped); a clause ends at , ; : or a connective ("and", "so",
"then", "→"), except inside a value ("x is 1, 2 and 3"), a tuple assignment or a condition.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences", "split_clauses", "scan_depth", "MERGE", "VERB_RE"]


def scan_depth(text: str) -> list[int]:
    """Nesting depth per character: >0 inside brackets or string literals."""
    depth = [0] * len(text)
    level = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"" and (i == 0 or not text[i - 1].isalnum()):
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j < n and text[j] == ch:
                for k in range(i, j + 1):
                    depth[k] = level + 1
                i = j + 1
                continue
        if ch in "([{":
            level += 1
            depth[i] = level
        elif ch in ")]}":
            depth[i] = level
            level = max(0, level - 1)
        else:
            depth[i] = level
        i += 1
    return depth


MERGE = "\u2063"    # joins "x becomes a + b" and ", which is 5" into one clause


def _strip_markup(line: str) -> str:
    """Drop Markdown backticks and bold markers outside string literals."""
    depth = scan_depth(line)
    out = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if depth[i] == 0 and ch == "`":
            i += 1
            continue
        if depth[i] == 0 and line.startswith("**", i):
            before = line[i - 1] if i else " "
            after = line[i + 2] if i + 2 < n else " "
            if (before.isspace() and not after.isspace()) or \
                    (not before.isspace() and (after.isspace() or after in ".,;:!?)")):
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


_LIST_MARK = re.compile(r"^\s*(?:(?:step\s*)?\d+\s*[.):]\s+|[-*•]\s+|step\s+\d+\s*[:.-]\s*)",
                        re.I)


def split_sentences(text: str) -> list[str]:
    """Sentences of a reasoning text: one per line at least, split at . ! ? outside literals."""
    out = []
    for raw in text.replace("\r", "").split("\n"):
        line = _strip_markup(raw).strip()
        if not line or line.startswith(("[ANSWER]", "[/ANSWER]", "```")):
            continue
        line = _LIST_MARK.sub("", line, count=1).strip()
        depth = scan_depth(line)
        start = 0
        i = 0
        while i < len(line):
            ch = line[i]
            if ch in ".!?" and depth[i] == 0 and (i + 1 == len(line) or line[i + 1] == " "):
                prev = line[start:i].split(" ")[-1].lower()
                if ch == "." and (prev in ("e.g", "i.e", "etc", "vs", "approx")
                                  or line[max(0, i - 2):i] == ".."):
                    i += 1
                    continue
                piece = line[start:i + 1].strip()
                if piece.strip(".!? "):
                    out.append(piece)
                start = i + 1
            i += 1
        piece = line[start:].strip()
        if piece.strip(".!? "):
            out.append(piece)
    return out


_SPLIT_WORDS = re.compile(r"(?:,|;|:)\s+|\s+(?:and|but|so|then|while|because|since|whereas|"
                          r"hence|thus|therefore)\s+|\s+(?:→|->|=>)\s+", re.I)
_TUPLE_TARGET = re.compile(r"\s*[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*\s*=(?!=)")
_LIT_START = re.compile(r"""\s*(?:['"\[\(\{\d]|-\d)""")
_MERGE = re.compile(r"^(?:which|that|i\.e\.|ie|giving|resulting in|to get|this gives|"
                    r"so it|it)\s+(?:is|equals|gives|becomes|evaluates to|is equal to)?\s*",
                    re.I)


def _has_verb(text: str) -> bool:
    depth = scan_depth(text)
    return any(not depth[m.start()] for m in VERB_RE.finditer(text))


def split_clauses(sentence: str) -> list[str]:
    s = sentence.rstrip(".!? ")
    depth = scan_depth(s)
    parts, start = [], 0
    for m in _SPLIT_WORDS.finditer(s):
        if depth[m.start()] or (m.end() < len(s) and depth[m.end() - 1]):
            continue
        sep = m.group(0)
        if sep.strip() in (",", "and") and _LIT_START.match(s, m.end()):
            continue          # an enumeration of values: "x is 1, 2 and 3"
        if sep.strip() == "," and _TUPLE_TARGET.match(s, m.end()) and \
                re.search(r"(?:^|[\s(])[A-Za-z_]\w*$", s[start:m.start()]):
            continue          # a tuple assignment: "a, b = 1, 2"
        if sep.strip() == ":" and s[:m.start()].rstrip().split(" ")[-1].lower() in (
                "lambda",):
            continue
        if re.search(r"(?:\b(?:is|are|was|were|be|becomes|equals|returns)|=)\s*$",
                     s[start:m.start()], re.I):
            continue          # "x is therefore 5": the value is still to come
        if sep.strip().lower() == "and" and not _has_verb(s[start:m.start()]):
            continue          # "a and b is true": one condition, not two clauses
        parts.append(s[start:m.start()])
        start = m.end()
    parts.append(s[start:])
    out: list[str] = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        merge = _MERGE.match(p)
        if merge and out and merge.end() > 0 and p[merge.end():].strip() and \
                _LIT_START.match(p[merge.end():]) is not None:
            out[-1] = out[-1] + f" {MERGE} " + p[merge.end():].strip()
            continue
        out.append(p)
    return out


_VERBS = sorted([
    "is now", "is set to", "is set as", "is updated to", "is changed to", "is assigned",
    "is assigned to", "is reassigned to", "becomes", "become", "changes to", "now equals",
    "equals", "is equal to", "will be", "must be", "should be", "would be", "stays",
    "remains", "is still", "gets", "is initialized to", "is initialized as", "is initially",
    "was", "was set to", "was initially", "has the value", "holds", "now holds",
    "takes the value", "evaluates to", "is incremented to", "is decremented to",
    "increases to", "decreases to", "is increased to", "is decreased to", "turns into",
    "ends as", "ends up as", "ends up being", "is", "now is", "updates to", "is updated as",
    "will become", "would become", "gets updated to", "is reset to", "are", "starts at",
    "starts as", "starts out as", "begins at", "begins as", "is initialised to",
    "is initialized with", "is now set to"], key=len,
    reverse=True)
VERB_RE = re.compile(r"(?<![\w=!<>+\-*/%&|^:@])(?:" + "|".join(
    re.escape(v).replace(r"\ ", r"\s+") for v in _VERBS) + r")(?!\w)|(?<![=!<>+\-*/%&|^:@])=(?!=)")
