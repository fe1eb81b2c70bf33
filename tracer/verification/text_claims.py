"""Checkable claims extracted from one clause of free-form reasoning (for `verify_text`).

"x = 5", "x becomes [1, 2]", "len(nums) must be 3", "3 % 2 == 0 is False", "the condition
x > 2 is true", "the function returns 'ab'", "So the output is 12", "the loop runs 3 times",
"3 is appended to res", "prints 'hi'", "raises ValueError". Values are Python literals
(`ast.literal_eval`); hypothetical and negated clauses claim nothing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import pairwise

from .sentences import MERGE, VERB_RE, scan_depth

__all__ = ["TextClaim", "extract_claims", "PAST_TENSE"]


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


_NUM_WORDS = {"zero": 0, "no": 0, "one": 1, "once": 1, "two": 2, "twice": 2, "three": 3,
              "thrice": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "eleven": 11, "twelve": 12}
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
PAST_TENSE = re.compile(r"\b(?:was|were|had|initially|originally|at first|at the start|before|"
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
    for phrase, empty in _EMPTY.items():
        if low.startswith(phrase) and not low[len(phrase):len(phrase) + 1].isalnum():
            return (type(empty)() if not isinstance(empty, str) else ""), s[len(phrase):]
    depth = scan_depth(s)
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
    depth = scan_depth(text)
    eqs = [m.end() for m in re.finditer(r"(?<![=!<>+\-*/%&|^:@])=(?!=)", text)
           if not depth[m.start()]]
    if not eqs:
        return text
    bounds = [0] + eqs
    for a, b in pairwise(bounds):
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
        first = rest.split(None, 1)[0]     # rest is stripped and not empty
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
_EXCERPT_RE = re.compile(r"\s*(?:…|\.\.\.)\s*[\d,]+ more characters")
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
                if _EXCERPT_RE.match(rest):     # the start of a longer text: not what it printed
                    return []
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
    depth = scan_depth(c)
    for m in VERB_RE.finditer(c):
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
        was = past or verb.startswith("was") or bool(PAST_TENSE.search(clause))
        if truth:
            return [TextClaim("truth", src, val, clause, was)]
        return [TextClaim("value", src, val, clause, was)]
    return []
