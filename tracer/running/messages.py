"""Messages about what the user typed: a syntax error in their file, arguments that do not
parse. Pure functions (the child imports them before any user code runs), so that each says
what is wrong in the user's own text, once, as Python would.
"""

from __future__ import annotations

import io
import tokenize

_CLOSES = {")": "(", "]": "[", "}": "{"}


def syntax_error_message(e: SyntaxError, filename: str) -> str:
    """'syntax error at line 2 of shout.py: expected ':'' and, below, the line and a caret
    under the place, the way Python's own traceback shows it."""
    where = f" of {filename}" if filename and not filename.startswith("<") else ""
    head = f"syntax error at line {e.lineno}{where}: {e.msg}"
    text = (e.text or "").rstrip("\n")
    if not text.strip() or not e.offset:
        return head
    body = text.lstrip()
    indent = len(text) - len(body)
    start = max(e.offset - 1 - indent, 0)
    end = (e.end_offset or 0) - 1 - indent
    if getattr(e, "end_lineno", e.lineno) != e.lineno or end <= start:
        end = start + 1
    end = min(end, max(len(body), start + 1))
    return f"{head}\n    {body}\n    {' ' * start}{'^' * (end - start)}"


def bracket_problem(src: str) -> str | None:
    """What is unclosed or mismatched in `src` as the user typed it (columns are theirs,
    1-based), or None when the brackets are fine."""
    stack: list[tuple[str, tuple[int, int]]] = []
    many_lines = "\n" in src.strip()

    def at(pos: tuple[int, int]) -> str:
        return f"line {pos[0]}, column {pos[1] + 1}" if many_lines else f"column {pos[1] + 1}"
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type != tokenize.OP:
                continue
            if tok.string in "([{":
                stack.append((tok.string, tok.start))
            elif tok.string in _CLOSES:
                if not stack:
                    return f"{tok.string!r} at {at(tok.start)} closes nothing"
                opener, pos = stack.pop()
                if opener != _CLOSES[tok.string]:
                    return (f"{tok.string!r} at {at(tok.start)} does not close {opener!r} "
                            f"(opened at {at(pos)})")
    except (tokenize.TokenError, SyntaxError):
        pass                      # end of input inside brackets or a string: see below
    if stack:
        opener, pos = stack[-1]
        more = f" (nor are {len(stack) - 1} before it)" if len(stack) > 1 else ""
        return f"{opener!r} at {at(pos)} is never closed{more}"
    return None
