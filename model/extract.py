"""Pull the predicted value (or call arguments) out of free model text. Pure functions.

Small models wrap answers in every way: `[ANSWER]` tags (closed or not), `assert f(...) == v`
lines, code fences, "The output is v.", trailing chatter after a valid value. Candidates are
checked with `ast.parse` only (parsing never runs anything); nothing here evaluates code.
"""

from __future__ import annotations

import ast
import re

__all__ = ["answer_block", "fenced_block", "is_expression", "is_arguments", "split_assert",
           "longest_expression", "is_literal", "extract_output", "extract_input"]

_MAX = 4000     # longer candidates are not answers to CruxEval-like tasks
_OPEN, _CLOSE = "[ANSWER]", "[/ANSWER]"
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n(.*?)(?:```|\Z)", re.S)
_INPUT_IS = re.compile(r"\binputs? (?:is|are|could be|can be|must be|should be|=)\s*", re.I)
_LEADS = re.compile(r"(?:\bis\b|\bbe\b|\breturns?\b|\boutputs?\b|:|=)\s*", re.I)


def answer_block(text: str) -> str | None:
    """Contents of the last [ANSWER] block; an unclosed final block runs to the end."""
    start = text.rfind(_OPEN)
    if start < 0:
        end = text.find(_CLOSE)    # prefilled "[ANSWER]" was part of the prompt
        return text[:end] if end >= 0 else None
    body = text[start + len(_OPEN):]
    end = body.find(_CLOSE)
    return body[:end] if end >= 0 else body


def fenced_block(text: str) -> str | None:
    """Contents of the last ``` code fence (an unterminated one runs to the end)."""
    blocks = _FENCE.findall(text)
    return blocks[-1] if blocks else None


def is_expression(src: str) -> bool:
    if not src.strip() or len(src) > _MAX:
        return False
    try:
        ast.parse(src.strip(), mode="eval")
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def is_arguments(src: str) -> bool:
    """`src` is a valid argument list: "1, 'a'", "[1, 2]", "x=3" (empty is valid too)."""
    if len(src) > _MAX:
        return False
    try:
        node = ast.parse(f"_({src})", mode="eval").body
        return isinstance(node, ast.Call)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def _close_paren(s: str, open_at: int) -> int:
    """Index of the bracket closing s[open_at], skipping string literals; -1 if none."""
    depth, i, quote = 0, open_at, None
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 1
            elif s.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif c in "'\"":
            quote = s[i:i + 3] if s[i:i + 3] in ("'''", '"""') else c
            i += len(quote) - 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


_LITERAL_NODES = (ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict,
                  ast.UnaryOp, ast.USub, ast.UAdd, ast.Load, ast.Call, ast.Name, ast.keyword)
_LITERAL_NAMES = {"True", "False", "None", "inf", "nan", "set", "frozenset", "float", "tuple",
                  "list", "dict", "complex", "bytes", "bytearray", "range"}


def is_literal(src: str) -> bool:
    """A value as a repr shows it: literals, containers, set(), Counter({...})... no free names."""
    if not is_expression(src):
        return False
    tree = ast.parse(src.strip(), mode="eval")
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _LITERAL_NODES):
            return False
        if isinstance(node, ast.Name) and node.id not in _LITERAL_NAMES and id(node) not in callees:
            return False
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Name):
            return False
    return True


def longest_expression(src: str, literal_only: bool = False) -> str | None:
    """The longest prefix of `src` that parses ("[1, 2] since..." -> "[1, 2]").

    Literal-looking prefixes win over longer ones that only parse thanks to trailing words
    ("'a' and more" is a valid expression, but "'a'" is what was meant).
    """
    src = src.strip()[:_MAX]
    whole = src[:-1] if src.endswith(".") and is_expression(src[:-1]) else src
    if is_literal(whole) or (not literal_only and is_expression(whole)):
        return whole
    cuts = sorted({m.start() for m in re.finditer(r"[\s,;#]|$", src)} | {len(src)}, reverse=True)
    cands = [c for c in (src[:cut].rstrip(" \t,;.") for cut in cuts) if c]
    for cand in cands:
        if is_literal(cand):
            return cand
    if not literal_only:
        for cand in cands:
            if is_expression(cand):
                return cand
    return None


def split_assert(line: str, function: str = "f") -> tuple[str, str | None] | None:
    """`assert f(ARGS) == VALUE` -> (ARGS, VALUE); VALUE None when the line stops after the call.

    Also accepts the line without `assert`. ast is used when the line parses, a bracket
    scanner otherwise (a truncated or chatty line).
    """
    s = line.strip()
    s = s[len("assert"):].lstrip() if s.startswith("assert") else s
    m = re.match(rf"{re.escape(function)}\s*\(", s)
    if not m:
        return None
    try:
        node = ast.parse(s, mode="eval").body
        if (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], ast.Eq) and isinstance(node.left, ast.Call)):
            call = node.left
            parts = [ast.get_source_segment(s, a) for a in [*call.args, *call.keywords]]
            value = ast.get_source_segment(s, node.comparators[0])
            return ", ".join(p for p in parts if p is not None), value
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        pass
    close = _close_paren(s, m.end() - 1)
    if close < 0:
        return None
    args = s[m.end():close].strip()
    rest = s[close + 1:].lstrip()
    value = longest_expression(rest[2:]) if rest.startswith("==") else None
    return args, value


def _regions(text: str) -> list[str]:
    out = []
    for region in (answer_block(text), fenced_block(text), text):
        if region is not None and region.strip() and region not in out:
            out.append(region)
    return out


def _assert_lines(region: str, function: str):
    for line in region.splitlines():
        stripped = line.strip()
        if stripped.startswith("assert") or stripped.startswith(f"{function}("):
            parts = split_assert(stripped, function)
            if parts is not None:
                yield parts


def extract_output(text: str, function: str = "f") -> str | None:
    """The predicted return value as Python source, or None when none can be found."""
    for region in _regions(text):
        for _, value in _assert_lines(region, function):
            if value is not None and is_literal(value):
                return value.strip()
        for line in region.splitlines():           # "x == v" without the call
            if "==" in line:
                value = longest_expression(line.split("==", 1)[1], literal_only=True)
                if value is not None:
                    return value
        value = longest_expression(region, literal_only=True)
        if value is not None:
            return value
    for line in reversed(text.strip().splitlines()):   # "The output is 'abc'."
        for m in reversed(list(_LEADS.finditer(line))):
            value = longest_expression(line[m.end():], literal_only=True)
            if value is not None:
                return value
    return None


def _unwrap(args: str, function: str) -> str:
    """"f(1, 2)" written inside the prefilled "assert f(" means the arguments "1, 2"."""
    stripped = args.strip()
    if stripped.startswith(f"{function}(") and stripped.endswith(")"):
        inner = stripped[len(function) + 1:-1]
        if _close_paren(stripped, len(function)) == len(stripped) - 1 and is_arguments(inner):
            return inner.strip()
    return stripped


def extract_input(text: str, function: str = "f") -> str | None:
    """The predicted call arguments as Python source ("1, 'a'"), or None."""
    args = _extract_input(text, function)
    return None if args is None else _unwrap(args, function)


def _extract_input(text: str, function: str) -> str | None:
    for region in _regions(text):
        for args, _ in _assert_lines(region, function):
            if is_arguments(args):
                return args.strip()
        stripped = region.strip()
        if "\n" not in stripped and is_arguments(stripped) and not stripped.startswith("assert"):
            return stripped
    for line in reversed(text.strip().splitlines()):
        at = line.find(f"{function}(")
        if at >= 0:
            parts = split_assert(line[at:], function)
            if parts and is_arguments(parts[0]):
                return parts[0].strip()
    for m in reversed(list(_INPUT_IS.finditer(text))):     # "so the input is [1, 2]."
        value = longest_expression(text[m.end():].split("\n", 1)[0], literal_only=True)
        if value is not None:
            return value
    return None
