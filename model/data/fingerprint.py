"""What a program is, independent of how its names are spelled: a normalised-AST hash (for
de-duplication and decontamination), token n-grams (for near copies), and the constructs and
builtin methods it uses (for the coverage report).

    program_hash(code)         # equal for two functions that differ only in names / docstrings
    ngrams(code, 10)           # set of hashed 10-token windows of the normalised source
    constructs(code)           # {"for", "comprehension", "slice", ...}
    methods(code)              # {"str.upper", ...}
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import tokenize
from collections import Counter

_BUILTINS = set(dir(builtins))


class _Renamer(ast.NodeTransformer):
    """Every name the code binds (functions, parameters, variables) becomes v0, v1, ... in
    order of first appearance; builtins, attributes and imported modules keep their names.
    Docstrings are dropped."""

    def __init__(self, bound: set[str]):
        self.bound = bound
        self.map: dict[str, str] = {}

    def _new(self, name: str) -> str:
        if name not in self.bound:
            return name
        if name not in self.map:
            self.map[name] = f"v{len(self.map)}"
        return self.map[name]

    def visit_FunctionDef(self, node):
        node.name = self._new(node.name)
        if node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
        node.returns = None
        node.decorator_list = []
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node


def _bound_names(tree: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
    return out


def normalise(code: str) -> str | None:
    """The code with bound names canonical and docstrings, annotations, decorators and
    comments gone, as ast.unparse writes it (None if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    tree = _Renamer(_bound_names(tree)).visit(tree)
    return ast.unparse(tree)


def program_hash(code: str) -> str:
    """sha1 of the normalised AST (of the text itself if it does not parse)."""
    norm = normalise(code)
    return hashlib.sha1((norm if norm is not None else code).encode()).hexdigest()


def tokens(code: str) -> list[str]:
    """Tokens of the normalised code (no layout tokens)."""
    text = normalise(code) or code
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT,
            tokenize.ENDMARKER}
    out = []
    try:
        for t in tokenize.generate_tokens(io.StringIO(text).readline):
            if t.type not in skip:
                out.append(t.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text.split()
    return out


def ngrams(code: str, n: int = 10) -> set[int]:
    """Hashed n-token windows (a program shorter than n tokens gives one window)."""
    toks = tokens(code)
    if len(toks) < n:
        return {_stable_hash(toks)} if toks else set()
    return {_stable_hash(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def _stable_hash(window: list[str]) -> int:
    """The same in every process (Python's hash() of a str is salted per process)."""
    digest = hashlib.blake2b("\x1f".join(window).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# ------------------------------------------------------------------------------ coverage

MUTATING = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
            "update", "setdefault", "popitem", "add", "discard"}


def constructs(code: str) -> set[str]:
    """The constructs a program uses, for the coverage report."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    names = {d.name for d in defs}
    for fn in defs:
        last = fn.body[-1] if fn.body else None
        for n in ast.walk(fn):
            if isinstance(n, ast.Return) and n is not last:
                found.add("early return")
            elif isinstance(n, (ast.For, ast.While)):
                found.add("for loop" if isinstance(n, ast.For) else "while loop")
                if any(isinstance(m, (ast.For, ast.While)) for b in n.body for m in ast.walk(b)):
                    found.add("nested loop")
            elif isinstance(n, ast.If):
                found.add("if/else" if n.orelse else "if")
            elif isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                found.add({ast.ListComp: "list comprehension", ast.SetComp: "set comprehension",
                           ast.DictComp: "dict comprehension",
                           ast.GeneratorExp: "generator expression"}[type(n)])
            elif isinstance(n, ast.Slice):
                found.add("slice")
            elif isinstance(n, ast.IfExp):
                found.add("conditional expression")
            elif isinstance(n, ast.Lambda):
                found.add("lambda")
            elif isinstance(n, ast.Try):
                found.add("try/except")
            elif isinstance(n, ast.AugAssign):
                found.add("augmented assignment")
            elif isinstance(n, ast.JoinedStr):
                found.add("f-string")
            elif isinstance(n, (ast.Break, ast.Continue)):
                found.add(type(n).__name__.lower())
            elif isinstance(n, ast.BoolOp):
                found.add("and/or")
            elif isinstance(n, (ast.Delete,)):
                found.add("del")
            elif isinstance(n, ast.Call):
                f = n.func
                if isinstance(f, ast.Name) and f.id in names and f.id != fn.name:
                    found.add("helper call")
                if isinstance(f, ast.Attribute) and f.attr in MUTATING:
                    found.add("in-place mutation")
            if isinstance(n, (ast.Assign, ast.AugAssign)):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                if any(isinstance(t, ast.Subscript) for t in targets):
                    found.add("in-place mutation")
                    found.add("item assignment")
    return found


def methods(code: str) -> Counter:
    """Method names called (`.upper()`, `.append()`) and builtin functions called (`len()`)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return Counter()
    out: Counter = Counter()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute):
                out[f".{n.func.attr}()"] += 1
            elif isinstance(n.func, ast.Name) and n.func.id in _BUILTINS:
                out[f"{n.func.id}()"] += 1
    return out
