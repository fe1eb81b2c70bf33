"""Check free-form reasoning (what a language model writes) against a real run, sentence by
sentence.

    result = verify_text(code, "f([1, 1, 3])", text)
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
are "unchecked", never "wrong".
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field

from .narrate import Analysis, LoopRun, analyse, event_value, fn_name
from .schema import OUTPUT, RAISE, RETURN, RunRequest, Trace
from .values import RESULT_LIMITS, encode, encoded_equal, is_complete, render

__all__ = ["verify_text", "TextVerification", "SentenceVerdict", "TextClaim", "split_sentences",
           "extract_claims"]


# ------------------------------------------------------------------------------ results

@dataclass
class TextClaim:
    kind: str            # value | truth | returns | loop_count | appends | prints | raises
    subject: str         # variable, expression, function, list name, exception type
    value: object = None  # the claimed Python value (truth: bool)
    text: str = ""       # the clause it came from
    past: bool = False   # said in the past tense: may match anywhere in the run

    def __str__(self) -> str:
        if self.kind in ("value", "truth"):
            v = ("true" if self.value else "false") if self.kind == "truth" else repr(self.value)
            return f"{self.subject} is {v}"
        if self.kind == "returns":
            return f"{self.subject} returns {self.value!r}"
        if self.kind == "loop_count":
            return f"a loop runs {self.value} times"
        if self.kind == "appends":
            return f"{self.value!r} is appended to {self.subject}"
        if self.kind == "prints":
            return f"prints {self.value!r}"
        return f"raises {self.subject}"


@dataclass
class ClaimResult:
    claim: TextClaim
    verdict: str                  # ok | wrong | unchecked
    actual: str | None = None
    note: str = ""


@dataclass
class SentenceVerdict:
    text: str
    verdict: str                  # "ok" | "wrong" | "unchecked"
    claim: TextClaim | None = None    # the deciding claim (the first wrong one, else the first)
    actual: str | None = None     # true value(s), rendered, when wrong
    note: str = ""
    claims: list[ClaimResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.verdict

    @property
    def sentence(self) -> str:
        return self.text


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


# ------------------------------------------------------------------------------ splitting

def _scan(text: str) -> list[int]:
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
    depth = _scan(line)
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
        depth = _scan(line)
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
    depth = _scan(text)
    return any(not depth[m.start()] for m in _VERB_RE.finditer(text))


def split_clauses(sentence: str) -> list[str]:
    s = sentence.rstrip(".!? ")
    depth = _scan(s)
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
        m = _MERGE.match(p)
        if m and out and m.end() > 0 and p[m.end():].strip() and \
                _LIT_START.match(p[m.end():]) is not None:
            out[-1] = out[-1] + f" {MERGE} " + p[m.end():].strip()
            continue
        out.append(p)
    return out


# ------------------------------------------------------------------------------ claims

_NUM_WORDS = {"zero": 0, "no": 0, "one": 1, "once": 1, "two": 2, "twice": 2, "three": 3,
              "thrice": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "eleven": 11, "twelve": 12}
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
_VERB_RE = re.compile(r"(?<![\w=!<>+\-*/%&|^:@])(?:" + "|".join(
    re.escape(v).replace(r"\ ", r"\s+") for v in _VERBS) + r")(?!\w)|(?<![=!<>+\-*/%&|^:@])=(?!=)")
_BAD_BEFORE = {"of", "in", "to", "from", "at", "by", "for", "on", "into", "than", "as",
               "length", "size", "sum", "number", "count", "index", "element", "elements",
               "item", "items", "character", "characters", "letter", "letters", "digit",
               "digits", "key", "keys", "values", "type", "position", "part", "half", "copy",
               "version", "each", "every", "all", "some", "any", "no", "not", "if", "when",
               "whether", "unless", "until", "assuming", "suppose", "supposing", "where",
               "whose", "max", "min", "maximum", "minimum", "first", "last", "second", "third",
               "next", "previous", "new", "old", "original", "initial", "final", "sorted",
               "reversed", "many", "much", "one", "two", "both", "either", "neither", "that",
               "this", "these", "those", "its", "their", "his", "her"}
_OK_BEFORE_OF = {"value"}
_HYPOTHETICAL = re.compile(r"^(?:if|when|whenever|whether|unless|until|assuming|suppose|"
                           r"supposing|once|for example|e\.g\.|like|say|let)\b", re.I)
_LEAD = re.compile(r"^(?:(?:so|then|now|next|thus|hence|therefore|finally|and|also|after that|"
                   r"at this point|at the end|in the end|here|again|afterwards|first|second|"
                   r"third|lastly|overall|consequently|as a result|this means|which means|"
                   r"we get|we have|we see|we find|that)\b[\s,]*)+", re.I)
_BAD_AFTER = {"or", "times", "more", "less", "fewer", "plus", "minus", "than", "to", "through",
              "characters", "character", "chars", "char", "elements", "element", "items",
              "item", "letters", "letter", "digits", "digit", "words", "word", "long",
              "percent", "if", "else", "for", "and", "x", "spaces", "space", "lines", "line",
              "entries", "entry", "keys", "key", "values", "bits", "bytes", "places",
              "positions", "steps", "iterations", "of", "away", "apart", "higher", "lower",
              "greater", "smaller", "bigger", "larger", "th", "st", "nd", "rd", "but",
              "instead", "rather", "not", "is", "was", "are", "equals", "becomes", "in"}
_PAST = re.compile(r"\b(?:was|were|had|initially|originally|at first|at the start|before|"
                   r"previously|earlier|used to)\b", re.I)
_EMPTY = {"an empty list": [], "empty list": [], "an empty string": "", "empty string": "",
          "an empty dict": {}, "an empty dictionary": {}, "empty dict": {},
          "empty dictionary": {}, "an empty set": set(), "empty set": set(),
          "an empty tuple": (), "empty tuple": ()}


class _NoValue(Exception):
    pass


def _literal_prefix(text: str) -> tuple[object, str]:
    """(value, rest) for the Python literal at the start of `text`; _NoValue if none."""
    s = text.lstrip()
    if not s:
        raise _NoValue
    low = s.lower()
    for phrase, val in _EMPTY.items():
        if low.startswith(phrase) and not low[len(phrase):len(phrase) + 1].isalnum():
            return (type(val)() if not isinstance(val, str) else ""), s[len(phrase):]
    depth = _scan(s)
    if s[0] in "([{'\"":
        end = 1
        while end < len(s) and depth[end] > 0:
            end += 1
        if s[0] in "'\"":
            end = 1
            while end < len(s) and depth[end] > 0:
                end += 1
        cand = s[:end]
    else:
        m = re.match(r"[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?j?|\.\d+)|True\b|False\b|None\b|"
                     r"set\(\)|-?inf\b|nan\b", s)
        if not m:
            raise _NoValue
        cand = m.group(0)
        if cand.endswith(".") and not s[len(cand):len(cand) + 1].isdigit():
            cand = cand[:-1]
    # A literal directly followed by more of an expression is not the value.
    rest = s[len(cand):]
    while True:
        try:
            val = ast.literal_eval(cand)
            break
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            if cand in ("inf", "-inf", "nan"):
                val = float(cand)
                break
            raise _NoValue from None
    if rest[:1] in ("[", "(", ".") and not (rest[:1] == "." and (len(rest) == 1 or
                                                               rest[1] == " ")):
        raise _NoValue
    return val, rest


def _last_of_chain(text: str) -> str:
    """"a + b = 4 + 6 = 10" -> "10" (every link must be an expression)."""
    depth = _scan(text)
    eqs = [m.end() for m in re.finditer(r"(?<![=!<>+\-*/%&|^:@])=(?!=)", text)
           if not depth[m.start()]]
    if not eqs:
        return text
    bounds = [0] + eqs
    for a, b in zip(bounds, eqs):
        try:
            ast.parse(text[a:b - 1].strip(), mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            raise _NoValue from None
    return text[eqs[-1]:]


def _value_after(post: str) -> tuple[object, bool]:
    """The claimed value in the text after the verb: (value, is_truth_word)."""
    if MERGE in post:
        post = post.rsplit(MERGE, 1)[1]
    post = _last_of_chain(post).strip()
    word = re.match(r"(true|false)\b", post)
    if word:
        rest = post[word.end():].strip()
        if rest and rest.split()[0].lower() in _BAD_AFTER:
            raise _NoValue
        return word.group(1) == "true", True
    if post.lower().startswith("empty") and not post[5:6].isalnum():
        return False, True
    val, rest = _literal_prefix(post)
    rest = rest.strip()
    if rest:
        first = re.match(r"[^\s]+", rest).group(0)
        head = first.lower().strip(",;:")
        if rest[0] in "+-*/%<>=!&|^@," or head in _BAD_AFTER or rest.startswith("**"):
            raise _NoValue
    return val, False


def _subject(pre: str) -> tuple[str, ast.expr] | None:
    """The variable or expression right before the verb (longest suffix that parses)."""
    pre = pre.rstrip()
    if not pre:
        return None
    starts = [0] + [m.end() for m in re.finditer(r"[\s(,]", pre)]
    for st in starts:
        cand = pre[st:].strip()
        if not cand or cand[0] in ")]},":
            continue
        try:
            node = ast.parse(cand, mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        if isinstance(node, ast.Constant) or (isinstance(node, (ast.List, ast.Tuple, ast.Set,
                                                                ast.Dict))
                                              and not any(isinstance(n, ast.Name)
                                                          for n in ast.walk(node))):
            return None
        if isinstance(node, (ast.Tuple,)) and not cand.startswith("("):
            return None       # "a, b" is two subjects, not a tuple
        before = pre[:st].strip().lower().replace("'s", "")
        words = re.findall(r"[a-z_]+", before)
        if words and words[-1] in _BAD_BEFORE and not (
                len(words) >= 2 and words[-1] == "of" and words[-2] in _OK_BEFORE_OF):
            return None
        if before.endswith(("[", "(", ".", "'", '"')):
            return None
        return cand, node
    return None


_RETURN_RE = re.compile(
    r"^(?:(?P<who>[A-Za-z_][\w.]*(?:\([^()]*\))?|the function|the lambda|it|this)\s+)?"
    r"(?:(?:then|finally|now|eventually|also)\s+)*"
    r"(?:returns|returned|outputs|(?:will|would|should|must|does|to)\s+return)\b"
    r"(?:\s+the\s+value)?\s*:?\s*(?P<rest>.*)$", re.I)
_OUTPUT_RE = re.compile(
    r"^(?:the\s+)?(?P<adj>final\s+|function's\s+|function\s+)?(?P<noun>output|result|"
    r"return value|returned value|answer)"
    r"(?P<of>\s+of\s+(?:the\s+function|the\s+call|\w+\(.*?\)))?\s+"
    r"(?:is|will be|would be|should be|must be|becomes|equals|=)\s+"
    r"(?:(?:therefore|thus|then|now|finally|simply|just)\s+)?(?P<rest>.*)$", re.I)
_ASSERT_RE = re.compile(r"^assert\s+(?P<call>[\w.]+\(.*\))\s*==\s*(?P<rest>.*)$")
_LOOP_RE = re.compile(
    r"\b(?:loop|it)\b.*?\b(?:runs?|iterates?|executes?|repeats?|goes|is executed|"
    r"will run|will iterate|runs through)\b(?:\s+\w+){0,4}?\s+(?P<n>\d+|" +
    "|".join(_NUM_WORDS) + r")\s*(?P<unit>times?|iterations?|)\b", re.I)
_ITER_RE = re.compile(r"\b(?:loop\b.*?\b(?:has|with|for|makes|does|of)\s+(?P<n>\d+|" +
                      "|".join(_NUM_WORDS) + r")\s+iterations?)\b", re.I)
_APPEND_RE = [re.compile(r"^(?P<item>.+?)\s+is\s+appended\s+to\s+(?:the\s+list\s+)?"
                         r"(?P<list>[A-Za-z_]\w*)\b", re.I),
              re.compile(r"\bappends?\s+(?P<item>.+?)\s+to\s+(?:the\s+list\s+)?"
                         r"(?P<list>[A-Za-z_]\w*)\b", re.I),
              re.compile(r"^(?P<list>[A-Za-z_]\w*)\.append\((?P<item>.*)\)$")]
_PRINT_RE = [re.compile(r"\bprints?\s+(?:out\s+)?(?P<item>['\"].*)$", re.I),
             re.compile(r"^(?P<item>['\"].*?['\"])\s+is\s+printed\b", re.I)]
_RAISE_RE = [re.compile(r"\b(?:raises?|throws?|raising)\s+(?:an?\s+)?(?P<exc>[A-Z]\w*)", re.I),
             re.compile(r"\b(?:an?\s+)?(?P<exc>[A-Z]\w*(?:Error|Exception|Exit|Interrupt|"
                        r"Iteration))\s+(?:is|was|will be)\s+(?:raised|thrown)", re.I)]


def _strip_lead(clause: str) -> str:
    c = clause.strip()
    c = re.sub(r"^(?:line\s+\d+|in\s+iteration\s+\d+|iteration\s+\d+)\s*", "", c, flags=re.I)
    return _LEAD.sub("", c).strip()


def extract_claims(clause: str, past: bool = False, known=None) -> list[TextClaim]:
    """The checkable claims of one clause (usually zero or one).

    `known(name)`: whether a name is a variable of the run; a claim about another name is
    skipped in favour of a later verb of the clause ("f is called with x = 1" claims x).
    """
    c = _strip_lead(clause)
    if not c or _HYPOTHETICAL.match(c):
        return []
    if re.search(r"\b(?:not|never|no longer|isn't|wasn't|doesn't|don't|won't|cannot|can't|"
                 r"might|may|could)\b", c, re.I) and not re.match(r"^assert\b", c):
        neg = True
    else:
        neg = False
    m = _ASSERT_RE.match(c)
    if m:
        try:
            val, rest = _literal_prefix(m.group("rest"))
            if not rest.strip():
                return [TextClaim("returns", "", val, clause)]
        except _NoValue:
            return []
    if neg:
        return []
    for rx in _RAISE_RE:
        m = rx.search(c)
        if m and (m.group("exc").endswith(("Error", "Exception", "Exit", "Interrupt",
                                           "Iteration")) or m.group("exc") in (
                                               "KeyError",)):
            return [TextClaim("raises", m.group("exc"), None, clause, past)]
    m = _LOOP_RE.search(c) or _ITER_RE.search(c)
    if m and (m.groupdict().get("unit") or m.group("n").lower() in ("once", "twice", "thrice")
              or _ITER_RE.search(c)):
        n = m.group("n").lower()
        return [TextClaim("loop_count", "loop", int(n) if n.isdigit() else _NUM_WORDS[n],
                          clause, past)]
    for rx in _APPEND_RE:
        m = rx.search(c)
        if m:
            item = m.group("item").strip()
            try:
                val, rest = _literal_prefix(item)
                if rest.strip():
                    raise _NoValue
                return [TextClaim("appends", m.group("list"), val, clause, past)]
            except _NoValue:
                if item.isidentifier():
                    return [TextClaim("appends", m.group("list"), ("name", item), clause,
                                      past)]
                return []
    for rx in _PRINT_RE:
        m = rx.search(c)
        if m:
            try:
                val, rest = _literal_prefix(m.group("item"))
                return [TextClaim("prints", "", val, clause, past)]
            except _NoValue:
                return []
    m = _OUTPUT_RE.match(c)
    if m and not (known is not None and known(m.group("noun")) and not m.group("adj")
                  and not m.group("of")):
        return _returns_claim("", m.group("rest"), clause)
    m = _RETURN_RE.match(c)
    if m:
        who = (m.group("who") or "").strip().split("(")[0]
        if who.lower() in ("the lambda", "it", "this"):
            return []
        return _returns_claim("" if who.lower() in ("", "the function") else who,
                              m.group("rest"), clause)
    return _value_claims(c, clause, past, known)


def _returns_claim(who: str, rest: str, clause: str) -> list[TextClaim]:
    rest = rest.strip()
    if MERGE in rest:
        rest = rest.rsplit(MERGE, 1)[1].strip()
    try:
        rest = _last_of_chain(rest)
    except _NoValue:
        return []
    try:
        val, tail = _literal_prefix(rest)
        tail = tail.strip()
        if tail and (tail[0] in "+-*/%<>=!&|^@," or tail.split()[0].lower() in _BAD_AFTER):
            return []
        return [TextClaim("returns", who, val, clause)]
    except _NoValue:
        pass
    expr = re.split(r"\s+(?:at|on|in|from|after|because|since|when)\s+", rest)[0].strip()
    try:
        node = ast.parse(expr, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    if any(isinstance(n, ast.Name) for n in ast.walk(node)):
        return [TextClaim("returns", who, ("expr", expr), clause)]
    return []


def _value_claims(c: str, clause: str, past: bool, known=None) -> list[TextClaim]:
    depth = _scan(c)
    for m in _VERB_RE.finditer(c):
        if depth[m.start()]:
            continue
        pre, post = c[:m.start()], c[m.end():]
        verb = m.group(0).strip().lower()
        if post.strip().lower().startswith(("not ", "never ", "no longer")):
            return []
        subj = _subject(pre)
        if subj is not None and known is not None and subj[0].isidentifier() and \
                not known(subj[0]) and subj[0] not in ("result", "output", "answer"):
            subj = None
        if subj is None:
            if verb in ("is", "are", "=", "was"):
                continue
            return []
        try:
            val, truth = _value_after(post)
        except _NoValue:
            if verb in ("is", "are", "was"):
                continue
            return []
        src, node = subj
        was = past or verb.startswith("was") or bool(_PAST.search(clause))
        if truth:
            return [TextClaim("truth", src, val, clause, was)]
        return [TextClaim("value", src, val, clause, was)]
    return []


# ------------------------------------------------------------------------------ the run

class _Undecodable(Exception):
    pass


def decode(v: dict):
    """An encoded value back to a Python object (plain data only)."""
    t = v.get("t")
    if not is_complete(v) or "cls" in v and t != "object":
        raise _Undecodable
    if t == "none":
        return None
    if t == "bool":
        return bool(v["v"])
    if t == "int":
        if "v" not in v:
            raise _Undecodable
        return int(v["v"])
    if t == "float":
        return float(v["v"])
    if t == "str":
        return v["v"]
    if t == "complex":
        return complex(v["v"])
    if t in ("bytes", "bytearray"):
        b = ast.literal_eval(v["v"])
        return bytearray(b) if t == "bytearray" else b
    if t in ("list", "tuple", "set", "frozenset"):
        items = [decode(x) for x in v["items"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[t](items)
    if t == "dict":
        return {decode(k): decode(x) for k, x in v["items"]}
    raise _Undecodable


@dataclass
class _Seg:
    start: int
    end: int
    value: dict
    frame: int


class _World:
    """What the run did, indexed for checking text claims."""

    def __init__(self, trace: Trace, request: RunRequest):
        self.t = trace
        self.a: Analysis = analyse(trace, request)
        ev = trace.events
        n = len(ev)
        frame_end: dict[int, int] = {}
        for i, e in enumerate(ev):
            frame_end[e.frame] = i + 1
        root = self.a.root.frame if self.a.root is not None else 0
        frame_end[root] = n + 1
        self.segs: dict[str, list[_Seg]] = {}
        self.shaky: set[str] = set()     # names whose intermediate values may be unrecorded
        one_line = {lp.line for lp in trace.loops if lp.body_start == lp.line}
        for f in self.a.frames:
            for name in self.a.variables(f):
                idx, vals = self.a.timeline(f, name)
                for k, (i, v) in enumerate(zip(idx, vals)):
                    end = idx[k + 1] if k + 1 < len(idx) else frame_end.get(f, n + 1)
                    self.segs.setdefault(name, []).append(_Seg(i, end, v, f))
                    line = ev[i].line
                    text = trace.lines.get(line, "")
                    if line in one_line or ";" in text or not is_complete(v):
                        self.shaky.add(name)
        for lst in self.segs.values():
            lst.sort(key=lambda s: s.start)
        self.fn_returns: dict[str, list[tuple[int, dict]]] = {}
        self.outputs: list[tuple[int, str]] = []
        self.raises: list[tuple[int, str]] = []
        for i, e in enumerate(ev):
            if e.kind == RETURN:
                f = self.a.frame_of(e.frame)
                if f is not None:
                    for key in {fn_name(f), f.function, f.function.split(".")[-1]}:
                        self.fn_returns.setdefault(key, []).append((i, event_value(e)))
            elif e.kind == OUTPUT:
                self.outputs.append((i, e.text or ""))
            elif e.kind == RAISE:
                self.raises.append((i, e.name or ""))
        self.loop_counts: list[tuple[int, int]] = []
        self.loops_complete = True
        for call in self.a.calls:
            self._walk(self.a.structure(call))
        self.top_names = {fn_name(self.a.frame_of(root)), trace.function,
                          trace.function.split(".")[-1], "f"} if self.a.root else {"f"}
        self.change_points: dict[str, list[int]] = {k: [s.start for s in v]
                                                    for k, v in self.segs.items()}
        # Calls nested deeper than the recorder's limit left no trace: what they did is
        # unknown, so nothing about the run is called wrong merely for not being seen.
        self.partial = trace.truncated or any(
            f.depth >= request.max_depth for f in trace.frames)

    def _walk(self, nodes) -> None:
        for nd in nodes:
            if isinstance(nd, LoopRun):
                if nd.complete:
                    self.loop_counts.append((nd.first_event, nd.count))
                else:
                    self.loops_complete = False
                for body in nd.iterations:
                    self._walk(body)

    def value_at(self, name: str, pos: int) -> dict | None:
        best = None
        for s in self.segs.get(name, ()):
            if s.start > pos:
                break
            if pos < s.end and (best is None or s.start >= best.start):
                best = s
        return best.value if best else None


# ------------------------------------------------------------------------------ checking

_MAX_SIZE = 100_000


class _Unsafe(Exception):
    pass


_SAFE_FUNCS = {"len": len, "sum": sum, "min": min, "max": max, "sorted": sorted, "abs": abs,
               "str": str, "int": int, "float": float, "bool": bool, "list": list,
               "tuple": tuple, "set": set, "dict": dict, "round": round, "ord": ord,
               "chr": chr, "any": any, "all": all, "repr": repr,
               "reversed": lambda x: list(reversed(x)),
               "enumerate": lambda x: list(enumerate(x)),
               "zip": lambda *x: list(zip(*x))}
_SAFE_METHODS = {"count", "index", "find", "rfind", "upper", "lower", "strip", "lstrip",
                 "rstrip", "split", "rsplit", "join", "startswith", "endswith", "isdigit",
                 "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric",
                 "isdecimal", "title", "capitalize", "swapcase", "get", "keys", "values",
                 "items", "casefold", "partition", "rpartition", "removeprefix", "removesuffix",
                 "zfill", "istitle"}
_PLAIN = (str, list, tuple, dict, set, frozenset, int, float, bool, bytes, type(None))


def _guard(x):
    if isinstance(x, (str, list, tuple, dict, set, frozenset, bytes)) and len(x) > _MAX_SIZE:
        raise _Unsafe
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 4096:
        raise _Unsafe
    return x


def safe_eval(node: ast.AST, env: dict):
    """Evaluate a small expression over plain data: no attribute access but a few methods of
    built-in types, a few built-in functions, bounded sizes. Raises on anything else."""
    ev = lambda n: safe_eval(n, env)  # noqa: E731
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise _Unsafe
        return env[node.id]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [ev(x) for x in node.elts]
        return _guard({ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items))
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _Unsafe
        return {ev(k): ev(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp):
        x = ev(node.operand)
        ops = {ast.USub: lambda a: -a, ast.UAdd: lambda a: +a, ast.Not: lambda a: not a,
               ast.Invert: lambda a: ~a}
        return ops[type(node.op)](x)
    if isinstance(node, ast.BinOp):
        a, b = ev(node.left), ev(node.right)
        op = type(node.op)
        if op is ast.Pow and (not isinstance(b, (int, float)) or abs(b) > 64 or
                              isinstance(a, (int, float)) and abs(a) > 10 ** 6):
            raise _Unsafe
        if op is ast.Mult and isinstance(a, (str, list, tuple, bytes)) or \
                op is ast.Mult and isinstance(b, (str, list, tuple, bytes)):
            seq, k = (a, b) if isinstance(a, (str, list, tuple, bytes)) else (b, a)
            if not isinstance(k, int) or len(seq) * max(k, 0) > _MAX_SIZE:
                raise _Unsafe
        if op is ast.LShift and (not isinstance(b, int) or b > 4096):
            raise _Unsafe
        ops = {ast.Add: lambda x, y: x + y, ast.Sub: lambda x, y: x - y,
               ast.Mult: lambda x, y: x * y, ast.Div: lambda x, y: x / y,
               ast.FloorDiv: lambda x, y: x // y, ast.Mod: lambda x, y: x % y,
               ast.Pow: lambda x, y: x ** y, ast.LShift: lambda x, y: x << y,
               ast.RShift: lambda x, y: x >> y, ast.BitAnd: lambda x, y: x & y,
               ast.BitOr: lambda x, y: x | y, ast.BitXor: lambda x, y: x ^ y}
        if op not in ops or (op is ast.Mod and isinstance(a, str)):
            raise _Unsafe
        return _guard(ops[op](a, b))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            r = True
            for v in node.values:
                r = ev(v)
                if not r:
                    return r
            return r
        r = False
        for v in node.values:
            r = ev(v)
            if r:
                return r
        return r
    if isinstance(node, ast.Compare):
        left = ev(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = ev(right_node)
            ops = {ast.Eq: lambda x, y: x == y, ast.NotEq: lambda x, y: x != y,
                   ast.Lt: lambda x, y: x < y, ast.LtE: lambda x, y: x <= y,
                   ast.Gt: lambda x, y: x > y, ast.GtE: lambda x, y: x >= y,
                   ast.In: lambda x, y: x in y, ast.NotIn: lambda x, y: x not in y,
                   ast.Is: lambda x, y: x is y if y is None or x is None else _no(),
                   ast.IsNot: lambda x, y: x is not y if y is None or x is None else _no()}
            if not ops[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return ev(node.body) if ev(node.test) else ev(node.orelse)
    if isinstance(node, ast.Subscript):
        obj = ev(node.value)
        if isinstance(node.slice, ast.Slice):
            s = node.slice
            sl = slice(ev(s.lower) if s.lower else None, ev(s.upper) if s.upper else None,
                       ev(s.step) if s.step else None)
            return obj[sl]
        return obj[ev(node.slice)]
    if isinstance(node, ast.Call) and not node.keywords:
        args = [ev(a) for a in node.args]
        if isinstance(node.func, ast.Name) and node.func.id in _SAFE_FUNCS \
                and node.func.id not in env:
            if node.func.id in ("str", "repr") and args and not isinstance(args[0], _PLAIN):
                raise _Unsafe
            return _guard(_SAFE_FUNCS[node.func.id](*args))
        if isinstance(node.func, ast.Attribute) and node.func.attr in _SAFE_METHODS:
            obj = ev(node.func.value)
            if type(obj) not in (str, list, tuple, dict, bytes):
                raise _Unsafe
            res = getattr(obj, node.func.attr)(*args)
            if node.func.attr in ("keys", "values", "items"):
                res = list(res)
            return _guard(res)
    raise _Unsafe


def _no():
    raise _Unsafe


def _encode(x) -> dict:
    return encode(x, RESULT_LIMITS)


def _equal(py, enc: dict | None) -> tuple[bool | None, str]:
    """(equal?, note): True, False, or None when the trace's value cannot settle it."""
    if enc is None:
        return None, ""
    if encoded_equal(_encode(py), enc):
        return True, ""
    if not is_complete(enc):
        return None, ""
    try:
        real = decode(enc)
    except (_Undecodable, ValueError, SyntaxError):
        return (None, "") if enc.get("t") == "object" else (False, "")
    try:
        same = real == py
        if isinstance(same, bool) and same:
            return True, f"equal under ==, not the same type ({render(enc)} vs {py!r})"
    except Exception:  # noqa: BLE001 - comparing plain data; be safe anyway
        return None, ""
    return False, ""


class _Checker:
    def __init__(self, world: _World, mode: str):
        self.w = world
        self.cursor = 0
        self.mode = mode        # "forward" | "backward"

    def check(self, c: TextClaim) -> ClaimResult:
        try:
            return getattr(self, "_" + c.kind)(c)
        except (_Unsafe, _Undecodable, RecursionError, MemoryError):
            return ClaimResult(c, "unchecked", None, "could not evaluate")

    def _anywhere(self, c: TextClaim) -> bool:
        return self.mode == "backward" or c.past

    # -- variables
    def _value(self, c: TextClaim) -> ClaimResult:
        if c.subject.isidentifier():
            return self._var(c, lambda enc: _equal(c.value, enc))
        return self._expr(c, lambda got: _py_equal(got, c.value))

    def _truth(self, c: TextClaim) -> ClaimResult:
        if c.subject.isidentifier():
            def test(enc):
                try:
                    return bool(decode(enc)) == c.value, ""
                except (_Undecodable, ValueError, SyntaxError):
                    return None, ""
            return self._var(c, test, truth=True)
        return self._expr(c, lambda got: (bool(got) == c.value, ""), truth=True)

    def _var(self, c: TextClaim, test, truth: bool = False) -> ClaimResult:
        w = self.w
        segs = w.segs.get(c.subject)
        if not segs:
            if c.subject in ("result", "output", "answer") and c.kind == "value":
                return self._returns(TextClaim("returns", "", c.value, c.text))
            return ClaimResult(c, "unchecked", None, f"{c.subject} is not a traced variable")
        unsure = False
        for s in segs:
            if s.end <= self.cursor:
                continue
            ok, note = test(s.value)
            if ok:
                self.cursor = max(self.cursor, s.start)
                return ClaimResult(c, "ok", None, note)
            if ok is None:
                unsure = True
        if True:
            for s in segs:
                if s.end > self.cursor:
                    break
                ok, note = test(s.value)
                if ok:
                    if self._anywhere(c):
                        return ClaimResult(c, "ok", None, note)
                    return ClaimResult(c, "wrong", self._values_from(c.subject, truth),
                                       f"{c.subject} had that value only earlier in the run")
                if ok is None:
                    unsure = True
        if unsure or c.subject in w.shaky or w.partial:
            return ClaimResult(c, "unchecked", None, "the trace cannot settle this value")
        return ClaimResult(c, "wrong", self._values_from(c.subject, truth),
                           f"{c.subject} never has that value")

    def _values_from(self, name: str, truth: bool = False) -> str:
        segs = [s for s in self.w.segs.get(name, ()) if s.end > self.cursor] or \
            self.w.segs.get(name, [])[-1:]
        out: list[str] = []
        for s in segs:
            r = render(s.value)
            if truth:
                try:
                    r = f"{r} ({'true' if decode(s.value) else 'false'})"
                except (_Undecodable, ValueError, SyntaxError):
                    pass
            if r not in out:
                out.append(r)
        shown = out[:5] + (["…"] if len(out) > 5 else [])
        return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)

    def _env_at(self, names: list[str], pos: int) -> dict:
        env = {}
        for n in names:
            v = self.w.value_at(n, pos)
            if v is None:
                raise _Unsafe
            env[n] = decode(v)
        return env

    def _expr(self, c: TextClaim, test, truth: bool = False) -> ClaimResult:
        node = ast.parse(c.subject, mode="eval").body
        names = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                        and not (n.id in _SAFE_FUNCS and n.id not in self.w.segs)})
        if any(n not in self.w.segs for n in names):
            return ClaimResult(c, "unchecked", None, "names the trace does not know")
        if not names:                 # arithmetic on constants: true or false anywhere
            got = safe_eval(node, {})
            ok, note = test(got)
            if ok is None:
                return ClaimResult(c, "unchecked")
            return ClaimResult(c, "ok" if ok else "wrong", None if ok else repr(got), note)
        points = sorted({p for n in names for p in self.w.change_points[n]})
        later = [self.cursor] + [p for p in points if p > self.cursor]
        earlier = [p for p in points if p < self.cursor]
        results = []
        failed = False
        for group, moves in ((later[:400], True), (earlier[-400:], False)):
            for p in group:
                try:
                    got = safe_eval(node, self._env_at(names, p))
                except (ArithmeticError, LookupError, TypeError, ValueError):
                    continue          # no value at this point (e.g. the key is not there yet)
                except (_Unsafe, _Undecodable, AttributeError, RecursionError, MemoryError):
                    failed = True
                    continue
                ok, note = test(got)
                if ok:
                    if moves:
                        self.cursor = max(self.cursor, p)
                        return ClaimResult(c, "ok", None, note)
                    if self._anywhere(c):
                        return ClaimResult(c, "ok", None, note)
                if ok is None:
                    failed = True
                elif moves and got not in [r for r in results if type(r) is type(got)]:
                    results.append(got)
        if failed or any(n in self.w.shaky for n in names) or self.w.partial or \
                not results:
            return ClaimResult(c, "unchecked", None, "the trace cannot settle this value")
        shown = [repr(r) for r in results[:5]]
        return ClaimResult(c, "wrong", shown[0] if len(shown) == 1 else
                           "one of " + ", ".join(shown), f"{c.subject} never has that value")

    # -- results
    def _returns(self, c: TextClaim) -> ClaimResult:
        w, t = self.w, self.w.t
        who = c.subject
        if who and who not in w.top_names:
            rets = w.fn_returns.get(who)
            if not rets:
                return ClaimResult(c, "unchecked", None, f"{who} is not a traced function")
            if isinstance(c.value, tuple) and len(c.value) == 2 and c.value[0] == "expr":
                return ClaimResult(c, "unchecked")
            unsure = False
            for i, v in rets:
                ok, note = _equal(c.value, v)
                if ok and (i >= self.cursor or self._anywhere(c)):
                    self.cursor = max(self.cursor, i)
                    return ClaimResult(c, "ok", None, note)
                unsure = unsure or ok is None
            if unsure or w.partial:
                return ClaimResult(c, "unchecked")
            vals = []
            for _, v in rets:
                if render(v) not in vals:
                    vals.append(render(v))
            return ClaimResult(c, "wrong", vals[0] if len(vals) == 1 else
                               "one of " + ", ".join(vals[:5]), f"{who} never returns that")
        if t.status != "returned":
            what = f"raises {t.exception.type}" if t.exception else "fails"
            return ClaimResult(c, "wrong", what, "the function does not return")
        if isinstance(c.value, tuple) and len(c.value) == 2 and c.value[0] == "expr":
            root = w.a.root
            end = root.end if root is not None and root.end is not None else len(t.events)
            node = ast.parse(c.value[1], mode="eval").body
            names = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                            and not (n.id in _SAFE_FUNCS and n.id not in w.segs)})
            try:
                env = {}
                for n in names:
                    v = w.a.value_at(root.frame, n, end)
                    if v is None:
                        raise _Unsafe
                    env[n] = decode(v[1])
                got = safe_eval(node, env)
            except (_Unsafe, _Undecodable, ArithmeticError, LookupError, TypeError, ValueError,
                    AttributeError, RecursionError, MemoryError):
                return ClaimResult(c, "unchecked", None, "could not evaluate the expression")
            ok, note = _py_equal(got, None, enc=t.result)
            if ok is None:
                return ClaimResult(c, "unchecked")
            return ClaimResult(c, "ok" if ok else "wrong", None if ok else render(t.result),
                               note)
        ok, note = _equal(c.value, t.result)
        if ok is None:
            return ClaimResult(c, "unchecked", None, "the result was cut short in the trace")
        if not ok and who:            # "f returns x" may be said of a recursive call of f
            for i, v in w.fn_returns.get(who, ()):
                if (i >= self.cursor or self._anywhere(c)) and _equal(c.value, v)[0]:
                    self.cursor = max(self.cursor, i)
                    return ClaimResult(c, "ok", None, "a nested call of the function")
        return ClaimResult(c, "ok" if ok else "wrong", None if ok else render(t.result), note)

    def _loop_count(self, c: TextClaim) -> ClaimResult:
        counts = [n for _, n in self.w.loop_counts]
        if c.value in counts:
            return ClaimResult(c, "ok")
        if not counts or not self.w.loops_complete or self.w.partial or \
                any(lp.body_start == lp.line for lp in self.w.t.loops):
            return ClaimResult(c, "unchecked", None, "no loop count to compare with")
        shown = sorted(set(counts))
        return ClaimResult(c, "wrong", ", ".join(map(str, shown[:6])),
                           "no loop runs that many times")

    def _appends(self, c: TextClaim) -> ClaimResult:
        w = self.w
        segs = w.segs.get(c.subject)
        if not segs:
            return ClaimResult(c, "unchecked", None, f"{c.subject} is not a traced variable")
        appended: list[tuple[int, dict]] = []
        prev: dict[int, dict] = {}
        for s in segs:
            old = prev.get(s.frame)
            prev[s.frame] = s.value
            v = s.value
            if old is None or v.get("t") != "list" or old.get("t") != "list":
                continue
            if len(v["items"]) >= 1 and v["items"][:-1] == old["items"]:
                appended.append((s.start, v["items"][-1]))
        name_item = isinstance(c.value, tuple) and len(c.value) == 2 and c.value[0] == "name"
        for pos, item in appended:
            if pos < self.cursor and not self._anywhere(c):
                continue
            if name_item:
                v = w.value_at(c.value[1], pos)
                ok = v is not None and encoded_equal(v, item)
            else:
                ok = _equal(c.value, item)[0]
            if ok:
                self.cursor = max(self.cursor, pos)
                return ClaimResult(c, "ok")
        if name_item or not appended or c.subject in w.shaky or w.partial:
            return ClaimResult(c, "unchecked", None, "no matching append found")
        items = [render(i) for _, i in appended]
        return ClaimResult(c, "wrong", ", ".join(items[:6]),
                           f"appended to {c.subject}: {', '.join(items[:6])}")

    def _prints(self, c: TextClaim) -> ClaimResult:
        want = c.value if isinstance(c.value, str) else str(c.value)
        outs = self.w.outputs
        for i, text in outs:
            if text.rstrip("\n") == want or want in text.split("\n"):
                return ClaimResult(c, "ok")
        if self.w.partial:
            return ClaimResult(c, "unchecked")
        got = ", ".join(repr(t.rstrip(chr(10))) for _, t in outs[:5]) or "nothing is printed"
        return ClaimResult(c, "wrong", got, "never printed")

    def _raises(self, c: TextClaim) -> ClaimResult:
        names = {n for _, n in self.w.raises}
        if self.w.t.exception is not None:
            names.add(self.w.t.exception.type)
        if c.subject in names:
            return ClaimResult(c, "ok")
        if self.w.partial:
            return ClaimResult(c, "unchecked")
        return ClaimResult(c, "wrong", ", ".join(sorted(names)) or "nothing is raised",
                           f"{c.subject} is never raised")


def _py_equal(got, want, enc: dict | None = None) -> tuple[bool | None, str]:
    """Compare a value computed from the text with the claimed one (or with an encoding)."""
    if enc is not None:
        return _equal(got, enc)
    try:
        if encoded_equal(_encode(got), _encode(want)):
            return True, ""
        if got == want:
            return True, f"equal under ==, not the same type ({got!r} vs {want!r})"
        if isinstance(got, float) and isinstance(want, float) and math.isnan(got) \
                and math.isnan(want):
            return True, ""
    except Exception:  # noqa: BLE001
        return None, ""
    return False, ""


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


def verify_text(code: str, call: str, text: str, *more: str, sandbox=None,
                trace: Trace | None = None, mode: str = "auto") -> TextVerification:
    """Check reasoning `text` about `call` (e.g. "f([1, 1, 3], 'a')") on `code`.

    Also accepts (code, function, args, text), as the model package calls it. `trace`: a
    trace of that call already made (no run then). `mode`: "forward" (claims follow the
    run's order), "backward" (order-free, for input-prediction reasoning) or "auto".
    """
    if more:
        function, args, text = call, text, more[0]
    else:
        function, args = parse_call(call)
    if trace is None:
        if sandbox is None:
            from .sandbox import default_sandbox
            sandbox = default_sandbox()
        trace = sandbox.run(RunRequest(function=function, args=args, source=code))
    request = RunRequest(function=function, args=args, source=code)
    sentences = split_sentences(text)
    if trace.status == "returned":
        result = render(trace.result)
    elif trace.status == "raised" and trace.exception is not None:
        result = f"raises {trace.exception.type}: {trace.exception.message}"
    else:
        result = f"error: {trace.error.message if trace.error else 'the run failed'}"
    out = TextVerification(function, args, trace.status, result)
    if trace.status == "error":
        out.error = result
        out.sentences = [SentenceVerdict(s, "unchecked", note="the run failed")
                         for s in sentences]
        return out
    if mode == "auto":
        mode = "backward" if any(_BACKWARD_HINT.search(s) for s in sentences[:3]) else \
            "forward"
    world = _World(trace, request)
    checker = _Checker(world, mode)
    known = world.segs.__contains__
    for s in sentences:
        past = bool(_PAST.search(s))
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
