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

    @property
    def call(self) -> str:
        return f"{self.function}({self.args})"


@dataclass
class FunctionInfo:
    name: str                         # name to run: "f", or "Class.method" for static methods
    def_line: int                     # 0-based line of `def`
    name_range: Range                 # the name after `def`
    end_line: int                     # 0-based last line of the body
    params: list[str] = field(default_factory=list)
    required: int = 0                 # parameters without a default (and not *args/**kw)
    examples: list[Example] = field(default_factory=list)   # doctest examples
    after_line: int = 0               # 0-based line after the top-level statement (class)

    def contains(self, line: int) -> bool:
        return self.def_line <= line <= self.end_line


@dataclass
class SyntaxProblem:
    message: str
    line: int                         # 0-based
    col: int


@dataclass
class Document:
    text: str
    digest: str
    functions: list[FunctionInfo] = field(default_factory=list)
    asserts: list[Example] = field(default_factory=list)
    runnable: str = ""                # the text with top-level asserts and calls blanked out
    syntax: SyntaxProblem | None = None

    def function(self, name: str) -> FunctionInfo | None:
        return next((f for f in self.functions if f.name == name), None)

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
    module_names = _module_names(tree)
    for node, qual, top in _runnable_functions(tree):
        info = _function_info(node, qual, lines, module_names)
        info.after_line = top.end_lineno or top.lineno
        doc.functions.append(info)
    names = {f.name for f in doc.functions}
    try:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                ex = _assert_example(node, text, lines, names, module_names)
                if ex is not None:
                    doc.asserts.append(ex)
    except RecursionError:
        pass
    doc.asserts.sort(key=lambda e: e.line or 0)
    doc.runnable = runnable_source(text, tree)
    return doc


def _runnable_functions(tree: ast.Module):
    """Top-level functions, and static methods of top-level classes (callable without an
    instance); the sandbox runs them by (qualified) name."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if isinstance(node, ast.FunctionDef):
                yield node, node.name, node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef) and any(
                        isinstance(d, ast.Name) and d.id == "staticmethod"
                        for d in sub.decorator_list):
                    yield sub, f"{node.name}.{sub.name}", node


def _function_info(node: ast.FunctionDef, qual: str, lines: list[str],
                   module_names: set[str] = frozenset()) -> FunctionInfo:
    def_line = node.lineno - 1
    text = lines[def_line] if def_line < len(lines) else ""
    m = re.search(r"\bdef\s+(" + re.escape(node.name) + r")\b", text)
    col = m.start(1) if m else 0
    a = node.args
    params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    positional = a.posonlyargs + a.args
    required = len(positional) - len(a.defaults) + sum(d is None for d in a.kw_defaults)
    info = FunctionInfo(name=qual, def_line=def_line,
                        name_range=(def_line, col, def_line, col + len(node.name)),
                        end_line=(node.end_lineno or node.lineno) - 1, params=params,
                        required=required)
    info.examples = doctest_examples(node, qual, lines, module_names)
    return info


def _module_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (usable in argument expressions)."""
    names: set[str] = set()
    for node in tree.body:
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


def _call_example(call: ast.Call, text: str, names: set[str], module_names: set[str],
                  accept_attr_tail: bool = False) -> tuple[str, str] | None:
    called = _called_name(call)
    if called is None:
        return None
    if called not in names:
        tail = called.rsplit(".", 1)[-1]
        if not (accept_attr_tail and "." in called and tail in names):
            return None
        called = tail
    if not all(is_literalish(a, module_names) for a in call.args) or not all(
            is_literalish(k.value, module_names) for k in call.keywords):
        return None
    seg = ast.get_source_segment(text, call)
    fseg = ast.get_source_segment(text, call.func)
    if seg is None or fseg is None:
        return None
    args = call_args_source(call, seg, fseg)
    return None if args is None else (called, args)


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


def _assert_example(node: ast.Assert, text: str, lines: list[str], names: set[str],
                    module_names: set[str]) -> Example | None:
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return None
    left, right = test.left, test.comparators[0]
    for call, expected in ((left, right), (right, left)):
        if isinstance(call, ast.Call):
            got = _call_example(call, text, names, module_names)
            if got is not None and is_literalish(expected, module_names):
                exp_text = ast.get_source_segment(text, expected)
                if exp_text is None:
                    return None
                return Example(function=got[0], args=got[1], expected=exp_text,
                               origin="assert", line=node.lineno - 1,
                               expected_range=_char_range(_node_range(expected), lines))
    return None


# --------------------------------------------------------------------------- doctests

_PARSER = doctest.DocTestParser()
_EXC = re.compile(r"^Traceback \(most recent call last\):.*?^(?P<name>[A-Za-z_][\w.]*)",
                  re.M | re.S)


def doctest_examples(node: ast.FunctionDef, qual: str, lines: list[str],
                     module_names: set[str] = frozenset()) -> list[Example]:
    body = node.body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return []
    doc_node = body[0].value
    raw = doc_node.value
    try:
        examples = _PARSER.get_examples(raw)
    except ValueError:      # inconsistent indentation etc.
        return []
    first = doc_node.lineno - 1   # line on which the string literal starts
    out = []
    simple = qual.rsplit(".", 1)[-1]
    for ex in examples:
        try:
            call = ast.parse(ex.source.strip(), mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(call, ast.Call):
            continue
        called = _called_name(call)
        if called not in (qual, simple):
            continue
        if not all(is_literalish(a, module_names) for a in call.args) or not all(
                is_literalish(k.value, module_names) for k in call.keywords):
            continue
        src = ex.source.strip()
        fseg = ast.get_source_segment(src, call.func) or ""
        args = call_args_source(call, src, fseg)
        if args is None:
            continue
        src_lines = ex.source.count("\n") or 1
        line = first + ex.lineno
        want = ex.want.rstrip("\n")
        expected, raises, rng = None, None, None
        if want:
            m = _EXC.match(want)
            if m:
                raises = m.group("name").rsplit(".", 1)[-1]
            else:
                expected = " ".join(w.strip() for w in want.splitlines())
                rng = _want_range(lines, line + src_lines, want)
        out.append(Example(function=qual, args=args, expected=expected, origin="doctest",
                           line=line, expected_range=rng, raises=raises))
    return out


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


def examples_in_test_file(text: str, module_stem: str, names: set[str],
                          where: str | None = None) -> list[Example]:
    """Literal calls of `names` in a test file that imports `module_stem`."""
    if not re.search(r"^\s*(from\s+[\w.]*\b" + re.escape(module_stem) + r"\b|import\s+.*\b"
                     + re.escape(module_stem) + r"\b)", text, re.M):
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = text.splitlines()
    found: dict[tuple[str, str], Example] = {}
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return []
    for node in nodes:
        if isinstance(node, ast.Assert):
            ex = _assert_example(node, text, lines, names, set())
            if ex is not None:
                ex.origin, ex.where, ex.expected_range = "test", where, None
                found.setdefault((ex.function, ex.args), ex)
    for node in nodes:
        if isinstance(node, ast.Call):
            got = _call_example(node, text, names, set(), accept_attr_tail=True)
            if got is not None and got not in found:
                found[got] = Example(function=got[0], args=got[1], origin="test",
                                     line=node.lineno - 1, where=where)
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
