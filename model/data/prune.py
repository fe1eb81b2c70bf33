"""Dead-store removal for generated functions: statements that only change a variable nothing
reads again (an accumulator never returned, a list only appended to) are deleted, so the
programs read like code someone wrote and every statement matters to the output.

Only the generator's own statement shapes are recognised, and only statements without an
effect on anything else are removed (`v = xs.pop()` changes `xs` too, so it stays).
"""

from __future__ import annotations

import ast

MUTATORS = {"append", "extend", "insert", "sort", "reverse", "pop", "remove", "clear",
            "update", "setdefault", "add", "discard"}
_IMPURE = {"pop", "popitem", "append", "extend", "insert", "remove", "clear", "update",
           "setdefault", "add", "discard", "sort", "reverse"}


def _pure(node: ast.AST | None) -> bool:
    """No call in `node` changes an object (the generator's expressions only read, except
    `pop`, which `pop_assign` statements use)."""
    if node is None:
        return True
    return not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                   and n.func.attr in _IMPURE for n in ast.walk(node))


def _target_name(t: ast.AST) -> str | None:
    if isinstance(t, ast.Name):
        return t.id
    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and _pure(t.slice):
        return t.value.id
    return None


def updated_name(stmt: ast.stmt) -> str | None:
    """The one variable `stmt` changes when that is all it does, else None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _pure(stmt.value):
        return _target_name(stmt.targets[0])
    if isinstance(stmt, ast.AugAssign) and _pure(stmt.value):
        return _target_name(stmt.target)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) \
                and call.func.attr in MUTATORS and all(map(_pure, call.args)) \
                and all(_pure(k.value) for k in call.keywords):
            return call.func.value.id
        return None
    if isinstance(stmt, ast.Delete):
        names = {_target_name(t) for t in stmt.targets}
        return names.pop() if len(names) == 1 else None
    if isinstance(stmt, (ast.If, ast.Try)):
        inner = stmt.body + stmt.orelse
        if isinstance(stmt, ast.Try):
            inner += [s for h in stmt.handlers for s in h.body] + stmt.finalbody
        elif not _pure(stmt.test):
            return None
        names = {updated_name(s) for s in inner if not isinstance(s, ast.Pass)}
        return names.pop() if len(names) == 1 and None not in names else None
    return None


def _loads(stmts: list[ast.stmt], out: set[str]) -> None:
    """Names read by `stmts`, not counting a statement's reads of the variable it updates."""
    for s in stmts:
        own = updated_name(s)
        if own is not None:
            out.update(n.id for n in ast.walk(s) if isinstance(n, ast.Name)
                       and isinstance(n.ctx, ast.Load) and n.id != own)
            continue
        blocks = [getattr(s, f) for f in ("body", "orelse", "finalbody") if hasattr(s, f)]
        blocks += [h.body for h in getattr(s, "handlers", [])]
        heads = [v for f, v in ast.iter_fields(s) if f not in ("body", "orelse", "finalbody",
                                                             "handlers")]
        for h in heads:
            for node in (h if isinstance(h, list) else [h]):
                if isinstance(node, ast.AST):
                    out.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                               and isinstance(n.ctx, ast.Load))
        for b in blocks:
            _loads(b, out)


def _remove(stmts: list[ast.stmt], dead: set[str]) -> tuple[list[ast.stmt], bool]:
    kept, changed = [], False
    for s in stmts:
        if updated_name(s) in dead:
            changed = True
            continue
        for field in ("body", "orelse", "finalbody"):
            if hasattr(s, field) and getattr(s, field):
                new, ch = _remove(getattr(s, field), dead)
                changed |= ch
                setattr(s, field, new or ([ast.Pass()] if field == "body" else []))
        for h in getattr(s, "handlers", []):
            h.body, ch = _remove(h.body, dead)
            h.body = h.body or [ast.Pass()]
            changed |= ch
        # A loop or test left with nothing to do goes too (its header only reads).
        if isinstance(s, (ast.For, ast.If)) and all(isinstance(b, ast.Pass) for b in s.body) \
                and not s.orelse and _pure(getattr(s, "test", getattr(s, "iter", None))):
            changed = True
            continue
        if isinstance(s, ast.If) and all(isinstance(b, ast.Pass) for b in s.body) \
                and s.orelse:     # `if c: pass else: X` reads better as `if not c: X`
            s.test, s.body, s.orelse = ast.UnaryOp(ast.Not(), s.test), s.orelse, []
        kept.append(s)
    return kept, changed


def prune_dead(fn: ast.FunctionDef) -> None:
    """Delete, in place, the statements of `fn` whose effect nothing reads."""
    for _ in range(10):
        live: set[str] = set()
        _loads(fn.body, live)
        stored = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}
        stored |= {a.arg for a in fn.args.args}
        dead = stored - live
        fn.body, changed = _remove(fn.body, dead)
        if not fn.body or not isinstance(fn.body[-1], ast.Return):
            return
        if not changed:
            return
