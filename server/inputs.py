"""Reading a Python document: its functions, and the inputs it already gives for them.

Pure functions over source text (no I/O, no execution). Inputs come from

  - doctest examples in a function's docstring (`>>> f(1, 2)` and the expected line),
  - `assert f(...) == expected` statements anywhere in the document,
  - literal call sites `f(...)` / `mod.f(...)` in test files that import the module.

All line and column numbers here are 0-based (LSP), columns in characters of the line.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import hashlib
import re
from dataclasses import dataclass, field

# (start_line, start_col, end_line, end_col), 0-based, end exclusive.
Range = tuple[int, int, int, int]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Example:
    """A call of a function with known arguments, and what it should give when known."""
    function: str
    args: str                         # Python source of the arguments, as between ( )
    expected: str | None = None       # Python source of the expected value
    origin: str = "command"           # doctest | assert | test | history | command
    line: int | None = None           # 0-based line of the example in its document
    expected_range: Range | None = None   # where `expected` is written in that document
    raises: str | None = None         # doctest expects this exception type instead of a value
    where: str | None = None          # file the example was found in (tests)
    # Methods: the instance (`Stack([1])`) or class (`Shapes`, classmethods) the method is
    # called on, as Python source; passed as the first argument of `Class.method`, which is
    # how the sandbox calls it. None for functions and static methods.
    receiver: str | None = None
    label: str | None = None          # how the call was written, when that is not standalone

    @property
    def method(self) -> str:
        return self.function.rsplit(".", 1)[-1]

    @property
    def run_args(self) -> str:
        """The arguments the sandbox gets: the receiver first, for methods."""
        if self.receiver is None:
            return self.args
        return self.receiver + (", " + self.args if self.args.strip() else "")

    @property
    def source_call(self) -> str:
        """The call as standalone Python source (`Stack([1]).push(2)`, `f(1)`)."""
        if self.receiver is None:
            return f"{self.function}({self.args})"
        return f"{self.receiver}.{self.method}({self.args})"

    @property
    def call(self) -> str:
        """The call as shown: as written in a doctest session (`s.pop()`), else standalone."""
        return self.label or self.source_call

    @property
    def key(self) -> str:
        return self.run_args


@dataclass
class FunctionInfo:
    name: str                         # name to run: "f", or "Class.method" for methods
    def_line: int                     # 0-based line of `def`
    name_range: Range                 # the name after `def`
    end_line: int                     # 0-based last line of the body
    params: list[str] = field(default_factory=list)
    required: int = 0                 # parameters without a default (and not *args/**kw)
    examples: list[Example] = field(default_factory=list)   # doctest examples
    after_line: int = 0               # 0-based line after the top-level statement (class)
    # function | static | class (classmethod) | method | init (`__init__`, run as `Cls(...)`:
    # `name` is the class's)
    kind: str = "function"
    default_receiver: str | None = None   # methods: `Cls()` when it needs no arguments;
                                          # classmethods: `Cls`

    @property
    def is_method(self) -> bool:
        return self.kind in ("method", "class")

    @property
    def def_name(self) -> str:
        """The name after `def`."""
        return "__init__" if self.kind == "init" else self.name.rsplit(".", 1)[-1]

    @property
    def cls(self) -> str | None:
        return self.name.rsplit(".", 1)[0] if "." in self.name else None

    def contains(self, line: int) -> bool:
        return self.def_line <= line <= self.end_line


@dataclass
class SyntaxProblem:
    message: str
    line: int                         # 0-based
    col: int


@dataclass
class Skipped:
    """A def that cannot be called on its own, and why (shown on hover)."""
    name: str
    def_line: int
    reason: str
    outer: str | None = None          # the runnable function it is defined in, if any
    end_line: int | None = None       # 0-based last line (nested defs)


@dataclass
class Document:
    text: str
    digest: str
    functions: list[FunctionInfo] = field(default_factory=list)
    asserts: list[Example] = field(default_factory=list)
    runnable: str = ""                # the text with top-level asserts and calls blanked out
    syntax: SyntaxProblem | None = None
    skipped: list["Skipped"] = field(default_factory=list)   # defs tracecot cannot call

    def function(self, name: str) -> FunctionInfo | None:
        if name.endswith(".__init__"):
            name = name[:-len(".__init__")]
            return next((f for f in self.functions if f.name == name and f.kind == "init"),
                        None)
        return next((f for f in self.functions if f.name == name), None)

    def skipped_at(self, line: int) -> "Skipped | None":
        return next((s for s in self.skipped if s.def_line == line), None)

    def nested_at(self, line: int) -> "Skipped | None":
        """The innermost def nested in a runnable function whose body holds `line`."""
        inside = [s for s in self.skipped if s.outer and s.end_line is not None
                  and s.def_line <= line <= s.end_line]
        return max(inside, key=lambda s: s.def_line) if inside else None

    def function_at(self, line: int) -> FunctionInfo | None:
        inside = [f for f in self.functions if f.contains(line)]
        return max(inside, key=lambda f: f.def_line) if inside else None

    def examples_for(self, name: str) -> list[Example]:
        fn = self.function(name)
        own = list(fn.examples) if fn else []
        return own + [e for e in self.asserts if e.function == name]


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


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
            for e in doctest_examples(node, lines, kinds, module_names):
                found.append((order, owner, e))
        for f in doc.functions:
            own = [e for _, o, e in found if o == f.name and e.function == f.name]
            rest = [e for _, o, e in found if o != f.name and e.function == f.name]
            f.examples = own + sorted(rest, key=lambda e: e.line or 0)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                ex = _assert_example(node, text, lines, kinds, module_names)
                if ex is not None:
                    doc.asserts.append(ex)
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
            yield node, node.name, "classdoc", top, None
            for sub in node.body:
                qual = f"{node.name}.{sub.name}" if hasattr(sub, "name") else node.name
                if isinstance(sub, ast.FunctionDef):
                    decos = {_decorator_name(d) for d in sub.decorator_list}
                    if decos & _PROPERTY:
                        skipped.append(Skipped(qual, sub.lineno - 1,
                                               f"`{qual}` is a property: tracecot calls "
                                               f"functions and methods, not attribute access."))
                    elif sub.name == "__init__":
                        # Run as `Cls(...)`: the class is what a caller calls.
                        yield sub, node.name, "init", top, None
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
    params, required = _required(node.args, kind in ("method", "class", "init"))
    return FunctionInfo(name=qual, def_line=def_line,
                        name_range=(def_line, col, def_line, col + len(node.name)),
                        end_line=(node.end_lineno or node.lineno) - 1, params=params,
                        required=required, kind=kind, default_receiver=receiver)


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


_BUILTINS = frozenset(dir(builtins))


def is_literalish(node: ast.AST, names: set[str] = frozenset()) -> bool:
    """An argument expression that can be evaluated with nothing but the module's globals and
    the builtins (it is only ever evaluated in the sandbox): no local variables of a test
    function, no await/yield. Lambdas and comprehensions bind their own names."""
    try:
        loads, bound = set(), set()
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


def _literal_call_args(call: ast.Call, names: set[str]) -> bool:
    return all(is_literalish(a, names) for a in call.args) and all(
        is_literalish(k.value, names) for k in call.keywords)


def _class_name(node: ast.AST, in_test_file: bool) -> str | None:
    """`Cls` for `Cls` (or `mod.Cls` in a test file)."""
    if isinstance(node, ast.Name):
        return node.id
    if in_test_file and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr
    return None


def classify_call(call: ast.Call, text: str, names, module_names: set[str],
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
        elif isinstance(v, ast.Name) and session is not None and v.id in session:
            var = session[v.id]
            qual = f"{var.cls}.{f.attr}"
            if var.cls and kinds.get(qual) == "method":
                function, receiver, via_session = qual, var.expression(v.id), True
        elif in_test_file and isinstance(v, ast.Name) and \
                kinds.get(f.attr) in ("function", "init"):
            function = f.attr                               # mod.f(...), mod.Cls(...)
        elif isinstance(v, ast.Call):                       # Cls(...).method(...)
            cname = _class_name(v.func, in_test_file)
            vf = v.func
            if isinstance(vf, ast.Attribute) and isinstance(vf.value, ast.Name) and \
                    kinds.get(f"{vf.value.id}.{vf.attr}") == "class":
                cname = vf.value.id                         # Cls.make(...).method(...)
                if kinds.get(f"{cname}.{f.attr}") == "method" and \
                        _literal_call_args(v, module_names):
                    function, receiver = f"{cname}.{f.attr}", ast.get_source_segment(text, v)
                cname = None
            qual = f"{cname}.{f.attr}"
            if cname is not None and kinds.get(qual) == "method" and \
                    _literal_call_args(v, module_names):
                seg = ast.get_source_segment(text, v)
                fseg = ast.get_source_segment(text, v.func)
                ctor = call_args_source(v, seg, fseg) if seg and fseg else None
                if ctor is not None:
                    function, receiver = qual, f"{cname}({ctor})"
    if function is None or not _literal_call_args(call, module_names):
        return None
    seg = ast.get_source_segment(text, call)
    fseg = ast.get_source_segment(text, call.func)
    if seg is None or fseg is None:
        return None
    args = call_args_source(call, seg, fseg)
    return None if args is None else (function, receiver, args, via_session)


def _node_range(node: ast.AST) -> Range:
    return (node.lineno - 1, node.col_offset, node.end_lineno - 1, node.end_col_offset)


def _char_range(rng: Range, lines: list[str]) -> Range:
    """ast columns are UTF-8 byte offsets; LSP wants characters (close enough: code points)."""
    l0, c0, l1, c1 = rng

    def conv(line, col):
        if line >= len(lines):
            return col
        return len(lines[line].encode("utf-8")[:col].decode("utf-8", "replace"))
    return (l0, conv(l0, c0), l1, conv(l1, c1))


def _assert_example(node: ast.Assert, text: str, lines: list[str], names,
                    module_names: set[str], in_test_file: bool = False) -> Example | None:
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return None
    left, right = test.left, test.comparators[0]
    for call, expected in ((left, right), (right, left)):
        if isinstance(call, ast.Call):
            got = classify_call(call, text, names, module_names, in_test_file)
            if got is not None and is_literalish(expected, module_names):
                exp_text = ast.get_source_segment(text, expected)
                if exp_text is None:
                    return None
                return Example(function=got[0], args=got[2], receiver=got[1], expected=exp_text,
                               origin="assert", line=node.lineno - 1,
                               expected_range=_char_range(_node_range(expected), lines))
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
                     module_names: set[str] = frozenset()) -> list[Example]:
    """Calls of the document's functions and methods in `node`'s docstring (a function, a
    class or the module), run as a doctest session: `s = Stack()` then `s.push(1)` then
    `s.pop()` gives `Stack.pop` an example whose receiver rebuilds `s` as it was."""
    kinds = _kinds(names)
    body = getattr(node, "body", None)
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return []
    doc_node = body[0].value
    try:
        examples = _PARSER.get_examples(doc_node.value)
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
                        line=line, label=label if via_session else None)
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
                       kinds: dict[str, str], classes: set[str], module_names: set[str]):
    """Update the session with one statement; the example it makes, if any:
    (function, receiver, args, via_session, label)."""
    mentioned = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    used = mentioned & session.keys()
    seg = lambda n: ast.get_source_segment(src, n)  # noqa: E731
    example = None
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    if isinstance(value, ast.Call):
        got = classify_call(value, src, kinds, module_names, session=session)
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
                ex = _assert_example(node, text, lines, kinds, set(), in_test_file=True)
                if ex is not None:
                    ex.origin, ex.where, ex.expected_range = "test", where, None
                    found.setdefault(f"{ex.function}|{ex.run_args}", ex)
        for node in nodes:
            if isinstance(node, ast.Call):
                got = classify_call(node, text, kinds, set(), in_test_file=True)
                if got is not None:
                    e = Example(function=got[0], args=got[2], receiver=got[1], origin="test",
                                line=node.lineno - 1, where=where)
                    found.setdefault(f"{e.function}|{e.run_args}", e)
    except RecursionError:
        pass
    return sorted(found.values(), key=lambda e: e.line or 0)


def is_test_file(path: str) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")
                                     or "/tests/" in "/" + path.replace("\\", "/"))


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
    `Stack.push` (receiver `Stack([1])`), `Tree.build(3)` for a classmethod, `f(1)` or
    `Shapes.area(2, 3)` otherwise. None when `text` is not a call of `fn`."""
    src = text.strip()
    try:
        node = ast.parse(src, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
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
    todo = list(node.body)
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


def session_steps(receiver: str) -> tuple[str, list[str]] | None:
    """(variable, statements) when `receiver` is the expression `_SessionVar.expression`
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
    steps = [ast.get_source_segment(receiver, n) for n in [node.args[0], *elts[:-1]]]
    if any(s is None or "\n" in s for s in steps) or name in _names_in(steps[0]):
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
    import builtins
    if name in module_globals(module_text) or hasattr(builtins, name) \
            or name in _names_in(expected) or (e.args.strip() and name in _names_in(f"({e.args},)")):
        return plain
    return "\n".join([f"{name} = {steps[0]}", *steps[1:],
                      f"assert {name}.{e.method}({e.args}) == {expected}"])
