"""Writing a proven input back into the user's code as an assert: one line for a call, or a
doctest session's statements followed by the assert for a method input rebuilt from one, and
the ready edit that inserts it (`assert_edit`), which the code action and the findInput
command both hand to the editor as is."""

from __future__ import annotations

import ast
import builtins
import re

from lsprotocol import types as T

from .document import Example


def session_steps(receiver: str) -> tuple[str, list[str]] | None:
    """(variable, statements) when `receiver` is the expression `calls._SessionVar.expression`
    builds for a doctest session: `(lambda s: ((s.push(1)), s)[-1])(Stack())` gives
    ("s", ["Stack()", "s.push(1)"]). None for any other receiver."""
    try:
        node = ast.parse(receiver, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Lambda)
            and len(node.args) == 1 and not node.keywords):
        return None
    lam = node.func.args
    if lam.posonlyargs or lam.kwonlyargs or lam.vararg or lam.kwarg or lam.defaults \
            or len(lam.args) != 1:
        return None
    name = lam.args[0].arg
    body = node.func.body
    if not (isinstance(body, ast.Subscript) and isinstance(body.value, ast.Tuple)
            and isinstance(body.slice, ast.UnaryOp) and isinstance(body.slice.op, ast.USub)
            and isinstance(body.slice.operand, ast.Constant) and body.slice.operand.value == 1
            and type(body.slice.operand.value) is int):
        return None
    elts = body.value.elts
    if len(elts) < 2 or not (isinstance(elts[-1], ast.Name) and elts[-1].id == name) \
            or any(isinstance(e, ast.Starred) for e in elts):
        return None
    if any(isinstance(n, (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom))
           for n in ast.walk(node)):
        return None           # would bind or act differently outside the lambda
    segments = [ast.get_source_segment(receiver, n) for n in [node.args[0], *elts[:-1]]]
    steps = [s for s in segments if s is not None and "\n" not in s]
    if len(steps) < len(segments) or name in _names_in(steps[0]):
        return None
    return name, steps


def _names_in(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source, mode="eval")) if isinstance(n, ast.Name)}
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {"?"}


def module_globals(text: str) -> set[str]:
    """Every name the module's code could read or write as a global (conservatively: every
    name it mentions, less the parameters of the function it is mentioned in)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {"*"}
    out: set[str] = set()
    todo: list[tuple[ast.AST, frozenset]] = [(tree, frozenset())]
    while todo:
        n, params = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = n.args
            params = frozenset(p.arg for p in a.posonlyargs + a.args + a.kwonlyargs
                               + [p for p in (a.vararg, a.kwarg) if p is not None])
            if not isinstance(n, ast.Lambda):
                out.add(n.name)
        elif isinstance(n, ast.ClassDef):
            out.add(n.name)
        elif isinstance(n, ast.Name) and n.id not in params:
            out.add(n.id)
        elif isinstance(n, ast.alias):
            out.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            out.update(n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        todo.extend((c, params) for c in ast.iter_child_nodes(n))
    return out


def readable_assert(e: Example, expected: str, module_text: str) -> str:
    """`assert <call> == <expected>` for an example. A method input rebuilt from a doctest
    session becomes the session's statements, then the assert:

        s = Stack()
        s.push(1)
        assert s.pop() == 1

    which evaluates exactly what the one-expression form `(lambda s: (...))(Stack()).pop()`
    does, in the same order; only binding `s` as a global differs, so that form is kept when
    the module (or a builtin) already uses the name, or the arguments or `expected` mention it."""
    plain = f"assert {e.source_call} == {expected}"
    got = session_steps(e.receiver) if e.receiver else None
    if got is None:
        return plain
    name, steps = got
    if name in module_globals(module_text) or hasattr(builtins, name) \
            or name in _names_in(expected) \
            or (e.args.strip() and name in _names_in(f"({e.args},)")):
        return plain
    read = f"{name}.{e.method}" if e.attribute else f"{name}.{e.method}({e.args})"
    return "\n".join([f"{name} = {steps[0]}", *steps[1:], f"assert {read} == {expected}"])


def assert_edit(module_text: str, statement: str, line: int) -> T.TextEdit:
    """The edit that puts `statement` on its own lines at column 0 before the 0-based `line`
    (`FunctionInfo.after_line`: just after the top-level statement that holds the function),
    one blank line between it and the code around it; past the end, it is appended."""
    lines = re.split(r"\r?\n", module_text)
    body = statement.strip()
    at = max(0, min(line, len(lines)))
    if at >= len(lines) or (at == len(lines) - 1 and lines[at] == ""):
        last = len(lines) - 1
        if last == 0 and lines[0] == "":
            return T.TextEdit(range=_at(0, 0), new_text=body + "\n")
        if lines[last] == "":           # the text ends with a newline: insert on the last line
            sep = "\n" if lines[last - 1].strip() else ""
            return T.TextEdit(range=_at(last, 0), new_text=sep + body + "\n")
        return T.TextEdit(range=_at(last, len(lines[last])), new_text="\n\n" + body + "\n")
    before = "\n" if at > 0 and lines[at - 1].strip() else ""
    after = "\n" if lines[at].strip() else ""
    return T.TextEdit(range=_at(at, 0), new_text=before + body + "\n" + after)


def _at(line: int, character: int) -> T.Range:
    return T.Range(T.Position(line, character), T.Position(line, character))
