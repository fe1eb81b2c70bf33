"""Calls of a document's functions written out in source: in doctest sessions, in asserts,
in test files that import the module, and in what a user types. Each becomes an `Example`
(the function, its arguments as source, the receiver of a method, the expected value when
one is written). Pure functions over source text (no I/O, no execution).

All line and column numbers are 0-based (LSP), columns in characters of the line.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .document import Example, FunctionInfo, Range


_BUILTINS = frozenset(dir(builtins))


def is_literalish(node: ast.AST, names: AbstractSet[str] = frozenset()) -> bool:
    """An argument expression that can be evaluated with nothing but the module's globals and
    the builtins (it is only ever evaluated in the sandbox): no local variables of a test
    function, no await/yield. Lambdas and comprehensions bind their own names."""
    try:
        loads: set[str] = set()
        bound: set[str] = set()
        for n in ast.walk(node):
            if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                return False
            if isinstance(n, ast.Name):
                (loads if isinstance(n.ctx, ast.Load) else bound).add(n.id)
            elif isinstance(n, ast.arg):
                bound.add(n.arg)
        return not (loads - bound - set(names) - _BUILTINS)
    except RecursionError:
        return False


def call_args_source(call: ast.Call, source_segment: str, func_segment: str) -> str | None:
    """The text between the parentheses of `call` (whose full text is `source_segment`)."""
    rest = source_segment[len(func_segment):].strip()
    if not (rest.startswith("(") and rest.endswith(")")):
        return None
    return rest[1:-1].strip()


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        if isinstance(f.value, ast.Name):
            return f"{f.value.id}.{f.attr}"
    return None


def _kinds(names) -> dict[str, str]:
    """{qualified name: kind}; a plain set of names means functions and static methods."""
    if isinstance(names, dict):
        return names
    return {n: ("static" if "." in n else "function") for n in names}


def _literal_call_args(call: ast.Call, names: AbstractSet[str]) -> bool:
    return all(is_literalish(a, names) for a in call.args) and all(
        is_literalish(k.value, names) for k in call.keywords)


def _class_name(node: ast.AST, in_test_file: bool) -> str | None:
    """`Cls` for `Cls` (or `mod.Cls` in a test file)."""
    if isinstance(node, ast.Name):
        return node.id
    if in_test_file and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr
    return None


def classify_call(call: ast.Call, text: str, names, module_names: AbstractSet[str],
                  in_test_file: bool = False, session: dict | None = None
                  ) -> tuple[str, str | None, str, bool] | None:
    """(function, receiver, args, via_session) when `call` calls one of the document's
    functions or methods with arguments that can be evaluated in the module:
    `f(1)`, `Point(1, 2)` (its `__init__`), `Shapes.area(2, 3)` (static), `Tree.build([1])`
    (classmethod, receiver `Tree`),
    `Stack([1]).push(2)` (method, receiver `Stack([1])`), `s.pop()` with `s` a variable of a
    doctest session (receiver: the expression that rebuilds `s`), and in test files also
    `mod.f(1)` and `mod.Stack().push(1)`."""
    kinds = _kinds(names)
    f = call.func
    function = receiver = None
    via_session = False
    if isinstance(f, ast.Name):
        if kinds.get(f.id) in ("function", "init"):
            function = f.id
    elif isinstance(f, ast.Attribute):
        v = f.value
        cname = _class_name(v, in_test_file)
        if cname is not None and kinds.get(f"{cname}.{f.attr}") in ("static", "class"):
            function = f"{cname}.{f.attr}"
            receiver = cname if kinds[function] == "class" else None
        elif in_test_file and isinstance(v, ast.Name) and \
                kinds.get(f.attr) in ("function", "init") and \
                not (session is not None and v.id in session):
            function = f.attr                               # mod.f(...), mod.Cls(...)
        else:
            function, receiver, via_session = _member(f, "method", text, kinds, module_names,
                                                      in_test_file, session)
    if function is None or not _literal_call_args(call, module_names):
        return None
    seg = ast.get_source_segment(text, call)
    fseg = ast.get_source_segment(text, call.func)
    if seg is None or fseg is None:
        return None
    args = call_args_source(call, seg, fseg)
    return None if args is None else (function, receiver, args, via_session)


def classify_attribute(node: ast.Attribute, text: str, names, module_names: AbstractSet[str],
                       in_test_file: bool = False, session: dict | None = None
                       ) -> tuple[str, str | None, str, bool] | None:
    """(function, receiver, "", via_session) when `node` reads one of the document's
    properties: `Stack([1]).top`, `s.top` with `s` a variable of a doctest session."""
    if not isinstance(node.ctx, ast.Load):
        return None
    function, receiver, via_session = _member(node, "property", text, _kinds(names),
                                              module_names, in_test_file, session)
    return None if function is None else (function, receiver, "", via_session)


def _member(f: ast.Attribute, kind: str, text: str, kinds: dict[str, str],
            module_names: AbstractSet[str], in_test_file: bool, session: dict | None
            ) -> tuple[str | None, str | None, bool]:
    """(function, receiver, via_session) when `f` is `<instance>.name` with `Cls.name` of
    `kind` (method or property) and an instance the sandbox can rebuild: `Cls(...)`,
    `Cls.make(...)` (a classmethod of Cls), or a doctest session's variable."""
    v = f.value
    if isinstance(v, ast.Name) and session is not None and v.id in session:
        var = session[v.id]
        qual = f"{var.cls}.{f.attr}"
        if var.cls and kinds.get(qual) == kind:
            return qual, var.expression(v.id), True
    elif isinstance(v, ast.Call) and _literal_call_args(v, module_names):
        vf = v.func
        if isinstance(vf, ast.Attribute) and isinstance(vf.value, ast.Name) and \
                kinds.get(f"{vf.value.id}.{vf.attr}") == "class":
            if kinds.get(f"{vf.value.id}.{f.attr}") == kind:      # Cls.make(...).name
                return f"{vf.value.id}.{f.attr}", ast.get_source_segment(text, v), False
            return None, None, False
        cname = _class_name(vf, in_test_file)                     # Cls(...).name
        qual = f"{cname}.{f.attr}"
        if cname is not None and kinds.get(qual) == kind:
            seg = ast.get_source_segment(text, v)
            fseg = ast.get_source_segment(text, vf)
            ctor = call_args_source(v, seg, fseg) if seg and fseg else None
            if ctor is not None:
                return qual, f"{cname}({ctor})", False
    return None, None, False


def _node_range(node: ast.expr) -> Range:
    end_line = node.end_lineno or node.lineno    # parsed nodes have both ends
    return (node.lineno - 1, node.col_offset, end_line - 1, node.end_col_offset or 0)


def _char_range(rng: Range, lines: list[str]) -> Range:
    """ast columns are UTF-8 byte offsets; LSP wants characters (close enough: code points)."""
    l0, c0, l1, c1 = rng

    def conv(line, col):
        if line >= len(lines):
            return col
        return len(lines[line].encode("utf-8")[:col].decode("utf-8", "replace"))
    return (l0, conv(l0, c0), l1, conv(l1, c1))


def assert_example(node: ast.Assert, text: str, lines: list[str], names,
                    module_names: AbstractSet[str], in_test_file: bool = False) -> Example | None:
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return None
    left, right = test.left, test.comparators[0]
    for call, expected in ((left, right), (right, left)):
        got = _classify(call, text, names, module_names, in_test_file)
        if got is not None and is_literalish(expected, module_names):
            exp_text = ast.get_source_segment(text, expected)
            if exp_text is None:
                return None
            return Example(function=got[0], args=got[2], receiver=got[1], expected=exp_text,
                           origin="assert", line=node.lineno - 1,
                           expected_range=_char_range(_node_range(expected), lines),
                           attribute=isinstance(call, ast.Attribute))
    return None


def _classify(node: ast.AST | None, text: str, names, module_names: AbstractSet[str],
              in_test_file: bool = False, session: dict | None = None):
    """classify_call for a call, classify_attribute for a property read, else None."""
    if isinstance(node, ast.Call):
        return classify_call(node, text, names, module_names, in_test_file, session)
    if isinstance(node, ast.Attribute):
        return classify_attribute(node, text, names, module_names, in_test_file, session)
    return None


# --------------------------------------------------------------------------- doctests

_PARSER = doctest.DocTestParser()
_EXC = re.compile(r"^Traceback \(most recent call last\):.*?^(?P<name>[A-Za-z_][\w.]*)",
                  re.M | re.S)


@dataclass
class _SessionVar:
    """A variable of a doctest session: the class of its value (when known) and the
    expressions that, evaluated in order, rebuild it (construction, then every later
    statement that used it)."""
    cls: str | None
    steps: list[str]

    def expression(self, name: str) -> str:
        if len(self.steps) == 1:
            return self.steps[0]
        replay = ", ".join(f"({s})" for s in self.steps[1:])
        return f"(lambda {name}: ({replay}, {name})[-1])({self.steps[0]})"


def _value_class(value: ast.AST, kinds: dict[str, str], classes: set[str]) -> str | None:
    """The class of `Cls(...)` or of `Cls.make(...)` (a classmethod of Cls)."""
    if isinstance(value, ast.Call):
        f = value.func
        if isinstance(f, ast.Name) and f.id in classes:
            return f.id
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
                kinds.get(f"{f.value.id}.{f.attr}") == "class":
            return f.value.id
    return None


def doctest_examples(node: ast.AST, lines: list[str], names,
                     module_names: AbstractSet[str] = frozenset()) -> list[Example]:
    """Calls of the document's functions and methods in `node`'s docstring (a function, a
    class or the module), run as a doctest session: `s = Stack()` then `s.push(1)` then
    `s.pop()` gives `Stack.pop` an example whose receiver rebuilds `s` as it was."""
    kinds = _kinds(names)
    body = getattr(node, "body", None)
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return []
    doc_node = body[0].value
    docstring = str(doc_node.value)    # a str, as checked above
    try:
        examples = _PARSER.get_examples(docstring)
    except ValueError:      # inconsistent indentation etc.
        return []
    first = doc_node.lineno - 1   # line on which the string literal starts
    classes = {k.rsplit(".", 1)[0] for k in kinds if "." in k} | (
        set(module_names) & {n.split(".")[0] for n in kinds}) | {
        k for k, kind in kinds.items() if kind == "init"}
    session: dict[str, _SessionVar] = {}
    out = []
    for ex in examples:
        src = ex.source.strip()
        try:
            stmts = ast.parse(src).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            session.clear()       # cannot tell what it did to the session's variables
            continue
        line = first + ex.lineno
        for k, stmt in enumerate(stmts):
            last = k == len(stmts) - 1
            try:
                example = _session_statement(stmt, src, session, kinds, classes, module_names)
            except RecursionError:
                session.clear()
                continue
            if example is None:
                continue
            function, receiver, args, via_session, label = example
            e = Example(function=function, args=args, receiver=receiver, origin="doctest",
                        line=line, label=label if via_session else None,
                        attribute=kinds.get(function) == "property")
            want = ex.want.rstrip("\n") if last else ""
            if want:
                m = _EXC.match(want)
                if m:
                    e.raises = m.group("name").rsplit(".", 1)[-1]
                else:
                    e.expected = " ".join(w.strip() for w in want.splitlines())
                    src_lines = ex.source.count("\n") or 1
                    e.expected_range = _want_range(lines, line + src_lines, want)
            out.append(e)
    return out


def _session_statement(stmt: ast.stmt, src: str, session: dict[str, _SessionVar],
                       kinds: dict[str, str], classes: set[str], module_names: AbstractSet[str]):
    """Update the session with one statement; the example it makes, if any:
    (function, receiver, args, via_session, label)."""
    mentioned = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    used = mentioned & session.keys()
    def seg(n: ast.AST | None) -> str | None:
        return ast.get_source_segment(src, n) if n is not None else None

    example = None
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    got = _classify(value, src, kinds, module_names, session=session)
    if got is not None:
        example = (*got, seg(value))
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], ast.Name) and not used:
        name = stmt.targets[0].id
        text = seg(stmt.value)
        if text is not None and is_literalish(stmt.value, module_names):
            session[name] = _SessionVar(_value_class(stmt.value, kinds, classes), [text])
        else:
            session.pop(name, None)
        return example
    if value is not None and len(used) == 1:
        # `s.push(1)` or `x = s.pop()`: replayed whenever `s` is needed later
        (name,) = used
        text = seg(value)
        if text is not None and is_literalish(value, set(module_names) | {name}):
            session[name].steps.append(text)
        else:
            session.pop(name)
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        session.pop(n.id, None)
        return example
    # Anything else that touches the session's variables: we no longer know their state.
    for name in used:
        session.pop(name, None)
    for n in ast.walk(stmt):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            session.pop(n.id, None)
    return example


def _want_range(lines: list[str], start: int, want: str) -> Range | None:
    """Where the expected output of a doctest stands in the document (checked, else None)."""
    wl = want.splitlines()
    if start + len(wl) > len(lines):
        return None
    for i, w in enumerate(wl):
        if lines[start + i].strip() != w.strip():
            return None
    first = lines[start]
    col = len(first) - len(first.lstrip())
    last = lines[start + len(wl) - 1].rstrip()
    return (start, col, start + len(wl) - 1, len(last))


# --------------------------------------------------------------------------- other files


def examples_in_test_file(text: str, module_stem: str, names,
                          where: str | None = None) -> list[Example]:
    """Literal calls of `names` (a set of names, or {qualified name: kind}) in a test file
    that imports `module_stem`."""
    if not re.search(r"^\s*(from\s+[\w.]*\b" + re.escape(module_stem) + r"\b|import\s+.*\b"
                     + re.escape(module_stem) + r"\b)", text, re.M):
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    kinds = _kinds(names)
    lines = text.splitlines()
    found: dict[str, Example] = {}
    try:
        nodes = list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Assert):
                ex = assert_example(node, text, lines, kinds, set(), in_test_file=True)
                if ex is not None:
                    ex.origin, ex.where, ex.expected_range = "test", where, None
                    found.setdefault(f"{ex.function}|{ex.run_args}", ex)
        for node in nodes:
            if not isinstance(node, (ast.Call, ast.Attribute)):
                continue
            got = _classify(node, text, kinds, set(), in_test_file=True)
            if got is not None:
                e = Example(function=got[0], args=got[2], receiver=got[1], origin="test",
                            line=node.lineno - 1, where=where,
                            attribute=isinstance(node, ast.Attribute))
                found.setdefault(f"{e.function}|{e.run_args}", e)
    except RecursionError:
        pass
    return sorted(found.values(), key=lambda e: e.line or 0)


def is_test_file(path: str) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")
                                     or "/tests/" in "/" + path.replace("\\", "/"))


def args_of_call(call_text: str) -> tuple[str, str] | None:
    """`f(1, 2)` -> ("f", "1, 2")."""
    try:
        node = ast.parse(call_text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(node, ast.Call):
        return None
    name = _called_name(node)
    seg = call_text.strip()
    fseg = ast.get_source_segment(seg, node.func)
    if name is None or fseg is None:
        return None
    args = call_args_source(node, seg, fseg)
    return None if args is None else (name, args)


def example_from_call(fn: "FunctionInfo", text: str, origin: str = "command") -> Example | None:
    """The example a call written out in full stands for: `Stack([1]).push(2)` for the method
    `Stack.push` (receiver `Stack([1])`), `Tree.build(3)` for a classmethod, `Stack([1]).top`
    for a property, `f(1)` or `Shapes.area(2, 3)` otherwise. None when `text` is not a call
    of `fn`."""
    src = text.strip()
    try:
        node = ast.parse(src, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if fn.kind == "property":        # `Stack([1]).top`
        receiver = ast.get_source_segment(src, node.value) \
            if isinstance(node, ast.Attribute) and node.attr == fn.def_name else None
        return None if receiver is None else fn.example("", origin=origin, receiver=receiver)
    if not isinstance(node, ast.Call):
        return None
    f = node.func
    seg = ast.get_source_segment(src, node)
    fseg = ast.get_source_segment(src, f)
    args = call_args_source(node, seg, fseg) if seg and fseg else None
    if args is None:
        return None
    method = fn.name.rsplit(".", 1)[-1]
    if fn.is_method:
        if not (isinstance(f, ast.Attribute) and f.attr == method):
            return None
        receiver = ast.get_source_segment(src, f.value)
        if fn.kind == "class":
            receiver = fn.cls
        return None if receiver is None else Example(fn.name, args, origin=origin,
                                                     receiver=receiver)
    if _called_name(node) in (fn.name, method):
        return Example(fn.name, args, origin=origin)
    return None


def constructor_examples(cls: str, method_examples: list[Example]) -> list[Example]:
    """Calls of `cls(...)` that method examples make their instance with (`P(3, -4)` in
    `assert P(3, -4).norm1() == 7`): inputs for the class's `__init__`."""
    out = []
    for e in method_examples:
        src = (e.receiver or "").strip()
        try:
            node = ast.parse(src, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == cls:
            args = call_args_source(node, src, cls)
            if args is not None:
                out.append(Example(cls, args, origin=e.origin, line=e.line, where=e.where))
    return out


def input_text(e: Example) -> str:
    """How an input is written where one string must say it all (command arguments, the
    history file, suggestions): the arguments of a function, the whole call of a method."""
    return e.args if e.receiver is None else e.source_call
