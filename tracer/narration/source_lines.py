"""Source lines read as syntax: the code of a line, the names it reads, branch headers.

Pure functions of one line of text (no trace involved), shared by the narrator, the
backward narrator and the verifiers. Results are cached: the same line is asked about once
per executed event, and traces run one line many thousands of times.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from functools import lru_cache

__all__ = ["code_text", "names_read", "parse_line", "branch_header", "for_iterable",
           "indent_of"]

_CACHE = 4096


@lru_cache(maxsize=_CACHE)
def code_text(line: str | None) -> str:
    """A source line without indentation and comments."""
    if not line:
        return ""
    text = line.strip()
    if "#" not in text:
        return text
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text + "\n").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text
    for t in toks:
        if t.type == tokenize.COMMENT:
            return text[: t.start[1]].rstrip()
    return text


def names_read(text: str) -> list[str]:
    """Names a source line reads (AST loads; a tokenizer guess when the line does not parse)."""
    return list(_names_read(text))


@lru_cache(maxsize=_CACHE)
def _names_read(text: str) -> tuple[str, ...]:
    src = code_text(text)
    tree = parse_line(src)
    if tree is not None:
        seen: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and node.id not in seen:
                seen.append(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id not in seen:
                seen.append(node.target.id)
        return tuple(seen)
    out: list[str] = []
    try:
        for t in tokenize.generate_tokens(io.StringIO(src + "\n").readline):
            if t.type == tokenize.NAME and not keyword.iskeyword(t.string) \
                    and t.string not in out:
                out.append(t.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return tuple(out)


@lru_cache(maxsize=_CACHE)
def parse_line(src: str) -> ast.Module | None:
    """Parse one line of source, completing a compound-statement header with a body.

    The tree is shared between callers (cached): read it, never change it."""
    if not src:
        return None
    cands = [src]
    head = src
    for kw in ("elif ", "else", "except", "finally"):
        if head.startswith(kw):
            head = "if " + head[len("elif "):] if kw == "elif " else ""
            break
    if head:
        cands = [head, head + "\n    pass"] if head.endswith(":") else [head]
        if head.startswith(("return", "yield")):
            cands.append("def _():\n    " + head)
    for c in cands:
        try:
            return ast.parse(c)
        except (SyntaxError, ValueError):
            continue
    return None


@lru_cache(maxsize=_CACHE)
def branch_header(text: str | None) -> tuple[str, str] | None:
    """("if" | "elif" | "while", condition source) when the line is only such a header."""
    src = code_text(text)
    if not src.endswith(":"):
        return None
    for kw in ("if", "elif", "while"):
        if src.startswith(kw + " ") or src.startswith(kw + "("):
            try:
                tree = ast.parse(("if" if kw == "elif" else kw) + src[len(kw):] + "\n    pass")
            except (SyntaxError, ValueError):
                return None
            node = tree.body[0]
            if isinstance(node, (ast.If, ast.While)) and len(node.body) == 1:
                return kw, ast.unparse(node.test)
    return None


def branch_parts(text: str | None) -> tuple[str, str]:
    """branch_header of a line where the analysis found a branch (so it is a header)."""
    header = branch_header(text)
    if header is None:
        raise ValueError(f"not a branch header: {text!r}")
    return header


def for_iterable(code: str) -> str:
    """The iterable of a `for` header (for the names it reads), else the whole header."""
    tree = parse_line(code)
    if tree is not None and tree.body and isinstance(tree.body[0], (ast.For, ast.AsyncFor)):
        return ast.unparse(tree.body[0].iter)
    return code


def indent_of(text: str | None) -> int:
    text = (text or "").expandtabs(8)
    return len(text) - len(text.lstrip())

