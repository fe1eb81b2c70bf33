"""Reading a Python document: its functions and methods, the defs it cannot call (and why),
the inputs it already gives (doctests and asserts, found by `calls`), the module as the
sandbox loads it, and positions in its text.

Pure functions over source text (no I/O, no execution). All line and column numbers here are
0-based (LSP), columns in characters of the line.
"""

from __future__ import annotations

import ast
import re

from .calls import assert_example, doctest_examples
from .document import Document, Example, FunctionInfo, Skipped, SyntaxProblem, digest

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --------------------------------------------------------------------------- parsing


def parse_document(text: str) -> Document:
    """Everything the server needs from one document; never raises."""
    doc = Document(text=text, digest=digest(text), runnable=text)
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        line = max((e.lineno or 1) - 1, 0)
        doc.syntax = SyntaxProblem(f"syntax error at line {line + 1}: {e.msg}", line,
                                   max((e.offset or 1) - 1, 0))
        return doc
    except (ValueError, RecursionError, MemoryError) as e:
        doc.syntax = SyntaxProblem(f"the file cannot be parsed: {e}", 0, 0)
        return doc
    lines = text.splitlines()
    try:
        module_names = _module_names(tree)
        owners: list[tuple[ast.AST, str | None]] = [(tree, None)]   # docstrings with doctests
        for item in _definitions(tree, doc.skipped):
            node, qual, kind, top, receiver = item
            if kind == "classdoc":
                owners.append((node, qual))
                continue
            info = _function_info(node, qual, lines, kind, receiver)
            info.after_line = top.end_lineno or top.lineno
            doc.functions.append(info)
            owners.append((node, qual))
        kinds = {f.name: f.kind for f in doc.functions}
        found: list[tuple[int, str | None, Example]] = []
        for order, (node, owner) in enumerate(owners):
            for ex in doctest_examples(node, lines, kinds, module_names):
                found.append((order, owner, ex))
        for f in doc.functions:
            own = [e for _, o, e in found if o == f.name and e.function == f.name]
            rest = [e for _, o, e in found if o != f.name and e.function == f.name]
            f.examples = own + sorted(rest, key=lambda e: e.line or 0)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                example = assert_example(node, text, lines, kinds, module_names)
                if example is not None:
                    doc.asserts.append(example)
    except RecursionError:
        pass
    doc.asserts.sort(key=lambda e: e.line or 0)
    doc.runnable = runnable_source(text, tree)
    return doc


_TRY = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t)


def _module_level(body: list, top: ast.AST | None = None):
    """(statement, its top-level statement): the module's statements, including those in
    `if`/`try`/`with` blocks at module level (they still define module-level names)."""
    for node in body:
        t = top or node
        yield node, t
        if isinstance(node, ast.If):
            yield from _module_level(node.body + node.orelse, t)
        elif isinstance(node, _TRY):
            inner = node.body + node.orelse + node.finalbody
            for h in node.handlers:
                inner += h.body
            yield from _module_level(inner, t)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from _module_level(node.body, t)


def _decorator_name(d: ast.AST) -> str:
    if isinstance(d, ast.Call):
        return _decorator_name(d.func)
    if isinstance(d, ast.Name):
        return d.id
    if isinstance(d, ast.Attribute):
        return d.attr
    return ""


_PROPERTY = {"property", "cached_property", "setter", "getter", "deleter"}


def _definitions(tree: ast.Module, skipped: list[Skipped]):
    """(node, qualified name, kind, top-level statement, default receiver) of every function
    and method the sandbox can call by name, plus ("classdoc") entries for class docstrings.
    Defs it cannot call go to `skipped`, with the reason."""
    for node, top in _module_level(tree.body):
        if isinstance(node, ast.FunctionDef):
            yield node, node.name, "function", top, None
            _nested(node, node.name, skipped)
        elif isinstance(node, ast.AsyncFunctionDef):
            skipped.append(Skipped(node.name, node.lineno - 1,
                                   f"`{node.name}` is a coroutine function (`async def`): "
                                   f"tracecot runs plain functions and methods only."))
            _nested(node, node.name, skipped)
        elif isinstance(node, ast.ClassDef):
            receiver = _default_receiver(node)
            has_init = any(isinstance(n, ast.FunctionDef) and n.name == "__init__"
                           for n in node.body)
            yield node, node.name, "classdoc", top, None
            for sub in node.body:
                qual = f"{node.name}.{sub.name}" if hasattr(sub, "name") else node.name
                if isinstance(sub, ast.FunctionDef):
                    decos = {_decorator_name(d) for d in sub.decorator_list}
                    if decos & {"setter", "deleter"}:
                        skipped.append(Skipped(qual, sub.lineno - 1,
                                               f"`{qual}` is a property's setter or deleter: "
                                               f"tracecot runs a property's getter (the "
                                               f"`@property` def), on reads such as "
                                               f"`{node.name}(...).{sub.name}`."))
                    elif decos & _PROPERTY:
                        yield sub, qual, "property", top, receiver
                    elif sub.name == "__init__" or (sub.name == "__new__" and not has_init):
                        # Run as `Cls(...)`: the class is what a caller calls.
                        yield sub, node.name, "init", top, None
                    elif sub.name == "__new__":
                        skipped.append(Skipped(qual, sub.lineno - 1,
                                               f"`{qual}` runs as part of `{node.name}(...)`, "
                                               f"before `__init__`: hover `__init__` or "
                                               f"`class {node.name}` to see the run of both."))
                    elif "staticmethod" in decos:
                        yield sub, qual, "static", top, None
                    elif "classmethod" in decos:
                        yield sub, qual, "class", top, node.name
                    else:
                        yield sub, qual, "method", top, receiver
                    _nested(sub, qual, skipped)
                elif isinstance(sub, ast.AsyncFunctionDef):
                    skipped.append(Skipped(qual, sub.lineno - 1,
                                           f"`{qual}` is a coroutine method (`async def`): "
                                           f"tracecot runs plain functions and methods only."))
                elif isinstance(sub, ast.ClassDef):
                    _nested(sub, node.name, skipped, inside_class=True)


def _nested(node: ast.AST, outer: str, skipped: list[Skipped], inside_class: bool = False) -> None:
    """Defs inside a function (or a class inside a class): callable only as part of `outer`."""
    try:
        todo = list(ast.iter_child_nodes(node))
        while todo:
            n = todo.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if inside_class:
                    why = (f"`{n.name}` belongs to a class nested in `{outer}`: tracecot calls "
                           f"top-level functions and methods of top-level classes.")
                else:
                    why = (f"`{n.name}` is defined inside `{outer}`, so tracecot cannot call it "
                           f"on its own: it runs as part of a call of `{outer}` (hover "
                           f"`{outer}` to see that run).")
                skipped.append(Skipped(n.name, n.lineno - 1, why,
                                       None if inside_class else outer,
                                       (n.end_lineno or n.lineno) - 1))
            todo.extend(ast.iter_child_nodes(n))
    except RecursionError:
        pass


def _required(a: ast.arguments, skip_first: bool) -> tuple[list[str], int]:
    positional = a.posonlyargs + a.args
    params = [p.arg for p in positional + a.kwonlyargs]
    required = len(positional) - len(a.defaults) + sum(d is None for d in a.kw_defaults)
    if skip_first and positional:
        params, required = params[1:], max(required - 1, 0)
    return params, required


def _default_receiver(cls: ast.ClassDef) -> str | None:
    """`Cls()` when an instance can be made without arguments (as far as the source tells)."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
                None)
    if init is not None:
        return f"{cls.name}()" if _required(init.args, True)[1] == 0 else None
    if any(_decorator_name(d) == "dataclass" for d in cls.decorator_list):
        for n in cls.body:
            if isinstance(n, ast.AnnAssign) and n.simple and n.value is None and \
                    "ClassVar" not in ast.dump(n.annotation):
                return None
        return f"{cls.name}()"
    bases = [b for b in cls.bases if not (isinstance(b, ast.Name) and b.id == "object")]
    if bases or cls.keywords:
        return None            # the constructor is inherited: we cannot tell what it needs
    return f"{cls.name}()"


def _function_info(node: ast.FunctionDef, qual: str, lines: list[str], kind: str = "function",
                   receiver: str | None = None) -> FunctionInfo:
    def_line = node.lineno - 1
    text = lines[def_line] if def_line < len(lines) else ""
    m = re.search(r"\bdef\s+(" + re.escape(node.name) + r")\b", text)
    col = m.start(1) if m else 0
    params, required = _required(node.args, kind in ("method", "class", "init", "property"))
    return FunctionInfo(name=qual, def_line=def_line,
                        name_range=(def_line, col, def_line, col + len(node.name)),
                        end_line=(node.end_lineno or node.lineno) - 1, params=params,
                        required=required, kind=kind, default_receiver=receiver,
                        def_name=node.name)


def _module_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (usable in argument expressions)."""
    names: set[str] = set()
    for node, _top in _module_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


# --------------------------------------------------------------------------- running


def runnable_source(text: str, tree: ast.Module | None = None) -> str:
    """The module as the sandbox loads it: top-level asserts and bare expression statements
    (calls such as `print(f(2))` or `main()`) are blanked out, line numbers unchanged, so that
    loading the module only defines things and one wrong assert cannot stop every run."""
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return text
    lines = text.splitlines(keepends=True)
    body = tree.body
    spans = [(n.lineno - 1, (n.end_lineno or n.lineno) - 1) for n in body]
    drop = []
    for i, n in enumerate(body):
        if isinstance(n, ast.Assert) or (isinstance(n, ast.Expr) and not (
                isinstance(n.value, ast.Constant) and isinstance(n.value.value, str))):
            a, b = spans[i]
            shared = any(j != i and not (spans[j][1] < a or spans[j][0] > b)
                         for j in range(max(0, i - 1), min(len(body), i + 2)))
            if not shared:
                drop.append((a, b))
    if not drop:
        return text
    for a, b in drop:
        for k in range(a, min(b, len(lines) - 1) + 1):
            ending = "\n" if lines[k].endswith("\n") else ""
            lines[k] = ending
    return "".join(lines)


# --------------------------------------------------------------------------- positions


def identifier_at(line_text: str, col: int) -> tuple[str, int, int] | None:
    """The identifier under the cursor (col may be just after it)."""
    for m in _IDENT.finditer(line_text):
        if m.start() <= col <= m.end():
            if m.start() > 0 and line_text[m.start() - 1].isdigit():
                continue
            return m.group(), m.start(), m.end()
        if m.start() > col:
            break
    return None


def line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line] if 0 <= line < len(lines) else ""


def is_valid_expression(src: str) -> bool:
    try:
        ast.parse(src, mode="eval")
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def local_names(text: str, def_line: int) -> set[str]:
    """Parameters and assigned names of the def on 0-based `def_line` (its own scope)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.lineno - 1 == def_line), None)
    if node is None:
        return set()
    a = node.args
    names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
    names |= {p.arg for p in (a.vararg, a.kwarg) if p is not None}
    todo: list[ast.AST] = list(node.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)          # its body is another scope
            continue
        if isinstance(n, ast.Lambda):
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        todo.extend(ast.iter_child_nodes(n))
    return names
