"""Argument types inferred from how the code uses each parameter (no run needed).

`text.upper()` says str, `xs.append(...)` list, `d['k']` / `for k, v in d.items()` dict,
`range(n)` / `n + 1` / `n > 0` int, `len(x)` / `for c in x` a sequence; type hints and
defaults say it outright; known inputs (doctests, runs) say it by example. Each piece of
evidence adds to a score per kind; `infer` returns the kinds best first, with an element kind
for containers (`for c in xs: c.upper()` makes xs a list of str). The search uses the ranking
to decide which values to try first; nothing here is binding.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field

KINDS = ("str", "int", "list", "dict", "tuple", "bool", "float", "set", "none", "func")

STR_METHODS = {"upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
               "startswith", "endswith", "isdigit", "isalpha", "isalnum", "isupper", "islower",
               "isspace", "isnumeric", "isdecimal", "istitle", "isidentifier", "isprintable",
               "capitalize", "title", "swapcase", "casefold", "center", "ljust", "rjust",
               "zfill", "partition", "rpartition", "expandtabs", "encode", "format",
               "translate", "maketrans", "removeprefix", "removesuffix", "join", "replace",
               "find", "rfind", "rindex", "isascii"}
LIST_METHODS = {"append", "extend", "pop", "insert", "remove", "sort", "reverse", "clear",
                "copy"}
DICT_METHODS = {"items", "keys", "values", "get", "update", "setdefault", "popitem",
                "fromkeys"}
SET_METHODS = {"add", "discard", "union", "intersection", "difference", "issubset",
               "issuperset", "symmetric_difference"}
SEQ_METHODS = {"count", "index"}
# kinds of the arguments of str methods, by position: s str, i int
_STR_ARGS = {"split": "si", "rsplit": "si", "replace": "ssi", "center": "is", "ljust": "is",
             "rjust": "is", "zfill": "i", "expandtabs": "i", "startswith": "sii",
             "endswith": "sii", "find": "sii", "rfind": "sii", "index": "sii", "rindex": "sii",
             "count": "sii", "strip": "s", "lstrip": "s", "rstrip": "s", "partition": "s",
             "rpartition": "s", "removeprefix": "s", "removesuffix": "s", "splitlines": "i"}
_HINTS = {"str": "str", "int": "int", "float": "float", "bool": "bool", "list": "list",
          "List": "list", "dict": "dict", "Dict": "dict", "tuple": "tuple", "Tuple": "tuple",
          "set": "set", "Set": "set", "None": "none", "Sequence": "list", "Iterable": "list",
          "Mapping": "dict"}


@dataclass
class Param:
    name: str
    kinds: list[str]                        # best first
    elem: str | None = None                 # element kind of a list/tuple/set
    key: str | None = None                  # key and value kinds of a dict
    value: str | None = None
    default: str | None = None              # source of the default, when there is one
    scores: dict[str, float] = field(default_factory=dict)


def find_function(tree: ast.AST, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """`f` or `Cls.method` in a module."""
    parts = name.split(".")
    scope = getattr(tree, "body", [])
    node = None
    for part in parts:
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                        ast.ClassDef)) and n.name == part), None)
        if node is None:
            return None
        scope = node.body
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def params_of(fn: ast.FunctionDef | ast.AsyncFunctionDef,
              skip_self: bool = False) -> list[ast.arg]:
    a = fn.args
    ps = list(a.posonlyargs) + list(a.args)
    if skip_self and ps and ps[0].arg in ("self", "cls"):
        ps = ps[1:]
    return ps


def _const_kind(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant):
        v = node.value
        return ("bool" if isinstance(v, bool) else "int" if isinstance(v, int) else
                "float" if isinstance(v, float) else "str" if isinstance(v, str) else
                "none" if v is None else None)
    return {ast.List: "list", ast.ListComp: "list", ast.Dict: "dict", ast.DictComp: "dict",
            ast.Tuple: "tuple", ast.Set: "set", ast.SetComp: "set",
            ast.JoinedStr: "str"}.get(type(node))


def kind_of_value(v) -> str | None:
    for t, k in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"),
                 (dict, "dict"), (tuple, "tuple"), (set, "set"), (type(None), "none")):
        if isinstance(v, t):
            return k
    return None


def _hint_kind(node: ast.AST | None) -> tuple[str | None, str | None]:
    """(kind, element kind) of an annotation such as `list[int]`, `str`, `Optional[str]`."""
    if node is None:
        return None, None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None, None
    if isinstance(node, ast.Name):
        return _HINTS.get(node.id), None
    if isinstance(node, ast.Attribute):
        return _HINTS.get(node.attr), None
    if isinstance(node, ast.Subscript):
        outer, _ = _hint_kind(node.value)
        inner = node.slice
        if isinstance(inner, ast.Tuple) and inner.elts:
            inner = inner.elts[0]
        ik, _ = _hint_kind(inner)
        if isinstance(node.value, ast.Name) and node.value.id == "Optional":
            return ik, None
        return outer, ik
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _hint_kind(node.left)
    return None, None


class _Evidence(ast.NodeVisitor):
    """Scores per (name, kind); also which loop variables iterate over which names."""

    def __init__(self, names: set[str]):
        self.names = set(names)
        self.score: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.loops: list[tuple[str, str]] = []      # (element name, container name)
        self.items_loops: list[tuple[str, str, str]] = []   # (key, value, dict name)
        self.indexed: list[tuple[str, str]] = []    # (container, index) both names: c[i]
        self.within: list[tuple[str, str]] = []     # (element, container) both names: e in c
        self.compared: list[tuple[str, str]] = []   # both names: a < b, a == b
        self.returned: set[str] = set()             # names returned as they are

    def add(self, name: str, kind: str, w: float = 1.0) -> None:
        self.score[name][kind] += w

    def _name(self, node) -> str | None:
        return node.id if isinstance(node, ast.Name) else None

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Attribute):
            n = self._name(f.value)
            if n:
                m = f.attr
                if m in STR_METHODS:
                    self.add(n, "str", 3)
                elif m in LIST_METHODS:
                    self.add(n, "list", 3)
                    if m == "pop" and node.args and isinstance(node.args[0], ast.Constant) \
                            and isinstance(node.args[0].value, str):
                        self.add(n, "dict", 5)
                    if m in ("pop", "copy", "clear", "update"):
                        self.add(n, "dict", 1)
                elif m in DICT_METHODS:
                    self.add(n, "dict", 3)
                elif m in SET_METHODS:
                    self.add(n, "set", 3)
                elif m in SEQ_METHODS:
                    k = _const_kind(node.args[0]) if node.args else None
                    self.add(n, "str" if k == "str" else "list", 1.5)
                    self.add(n, "list" if k != "str" else "str", 0.5)
            # "sep".join(x): x is a list of str
            if f.attr == "join" and node.args:
                a = self._name(node.args[0])
                if a:
                    self.add(a, "list", 2)
                    self.add(a + "[]", "str", 2)
                if isinstance(f.value, ast.Constant):
                    pass
            # s.replace(x, ...), s.split(x), s.count(x), s.startswith(x): x is a str
            if f.attr in STR_METHODS and f.attr != "join":
                kinds = _STR_ARGS.get(f.attr, "sss")
                for arg, k in zip(node.args, kinds, strict=False):
                    n2 = self._name(arg)
                    if n2:
                        self.add(n2, "str" if k == "s" else "int", 1.5)
            if f.attr in ("insert", "pop") and node.args:
                n2 = self._name(node.args[0])
                if n2:
                    self.add(n2, "int", 1.5)
            if f.attr in ("append", "remove", "add", "index", "count") and node.args:
                n0, n2 = self._name(f.value), self._name(node.args[0])
                if n0 and n2:
                    self.loops.append((n2, n0))
        elif isinstance(f, ast.Name):
            fname = f.id
            self.add(fname, "func", 8)      # a parameter that is called is a function
            args = [self._name(a) for a in node.args]
            if fname == "range":
                for a in args:
                    if a:
                        self.add(a, "int", 3)
            elif fname in ("len", "sorted", "reversed", "enumerate", "zip", "sum", "max",
                           "min", "any", "all", "list", "set", "tuple"):
                for arg in node.args:      # len(d[k]): what d holds is a sequence
                    held = self._name(arg.value) if isinstance(arg, ast.Subscript) else None
                    if held:
                        self.add(held + "[]", "list", 1.2)
                for a in args:
                    if a:
                        self.add(a, "list", 1.2)
                        self.add(a, "str", 0.6 if fname in ("len", "sorted", "reversed",
                                                            "list", "set", "enumerate") else 0)
                if fname == "sum" and args and args[0]:
                    self.add(args[0] + "[]", "int", 1)
            elif fname in ("int", "float") and args and args[0]:
                self.add(args[0], "str", 1.5)
            elif fname in ("chr", "bin", "hex", "oct", "abs", "round", "divmod"):
                for a in args:
                    if a:
                        self.add(a, "int", 2)
            elif fname in ("ord",) and args and args[0]:
                self.add(args[0], "str", 2)
            elif fname == "dict" and args and args[0]:
                self.add(args[0], "dict", 1)
            elif fname == "isinstance" and len(node.args) == 2 and args[0]:
                k = _hint_kind(node.args[1])[0]
                if k:
                    self.add(args[0], k, 0.5)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        n = self._name(node.value)
        if n:
            s = node.slice
            k = _const_kind(s)
            if isinstance(s, ast.Slice):
                self.add(n, "str", 1)
                self.add(n, "list", 1)
                for bound in (s.lower, s.upper, s.step):
                    for b in _operands(bound):      # x[-n:], x[i:i + 1]
                        self.add(b, "int", 3)
            elif k == "str":
                self.add(n, "dict", 4)
            elif k == "int" or isinstance(s, ast.UnaryOp):
                self.add(n, "list", 1.5)
                self.add(n, "str", 1)
            else:
                self.add(n, "list", 1)
                self.add(n, "str", 0.5)
                self.add(n, "dict", 0.5)
                i = self._name(s)
                if i:
                    self.add(i, "int", 1)
                    self.indexed.append((n, i))
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            if isinstance(t, ast.Subscript) and self._name(t.value):
                self.add(t.value.id, "dict", 1)        # type: ignore[attr-defined]
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        n = self._name(node.value)
        if n:
            self.returned.add(n)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        for side, other in ((node.left, node.right), (node.right, node.left)):
            n = self._name(side)
            if not n:
                continue
            k = _const_kind(other)
            if isinstance(node.op, ast.Mod) and side is node.left and k != "int":
                # `s % (a, b)` formats a str; `n % length`, a name on both sides, is an int
                if k is None:
                    self.add(n, "int", 1.5)
                self.add(n, "str", 1 if k else 0.5)
            elif isinstance(node.op, (ast.Sub, ast.FloorDiv, ast.Div, ast.Pow, ast.BitAnd,
                                      ast.BitOr, ast.BitXor, ast.LShift, ast.RShift, ast.Mod)):
                self.add(n, "int", 2)
            elif isinstance(node.op, ast.Mult):
                self.add(n, "int", 1.5 if k in ("int", None) else 0)
                if k in ("str", "list"):
                    self.add(n, "int", 2)
            elif isinstance(node.op, ast.Add) and k:
                self.add(n, k if k != "bool" else "int", 2.5)
            elif isinstance(node.op, ast.Add):
                self.add(n, "int", 0.5)
                self.add(n, "str", 0.5)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        n = self._name(node.targets[0]) if len(node.targets) == 1 else None
        k = _const_kind(node.value) or _sized(node.value)
        if n and k:          # count = text.count(c): a local whose kind others compare with
            self.add(n, k if k != "bool" else "int", 1)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        n = self._name(node.target)
        k = _const_kind(node.value)
        if n and k:
            self.add(n, k if k != "bool" else "int", 1.5)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        items = [node.left] + list(node.comparators)
        for i, op in enumerate(node.ops):
            a, b = items[i], items[i + 1]
            na, nb = self._name(a), self._name(b)
            if na and nb:
                if isinstance(op, (ast.In, ast.NotIn)):
                    self.within.append((na, nb))
                elif not isinstance(op, (ast.Is, ast.IsNot)):
                    self.compared.append((na, nb))
            for side, other in ((a, b), (b, a)):
                n = self._name(side)
                k = _const_kind(other) or _sized(other)
                if not n or not k:
                    continue
                if isinstance(op, (ast.In, ast.NotIn)):
                    if side is b and k == "str":       # 'x' in n
                        self.add(n, "str", 1.5)
                        self.add(n, "list", 1)
                        self.add(n, "dict", 0.5)
                    elif side is a and k in ("str", "list", "tuple", "set", "dict"):
                        self.add(n, "str", 1)
                elif isinstance(op, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)):
                    self.add(n, k if k != "bool" else "int", 1.5)
                elif k != "none":
                    self.add(n, k, 1)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._loop(node.target, node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._loop(node.target, node.iter)
        self.generic_visit(node)

    def _loop(self, target, it) -> None:
        n = self._name(it)
        if n:
            self.add(n, "list", 1.5)
            self.add(n, "str", 0.8)
            if isinstance(target, ast.Name):
                self.loops.append((target.id, n))
            elif isinstance(target, ast.Tuple):
                self.add(n + "[]", "tuple", 2)
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute):
            d = self._name(it.func.value)
            if d and it.func.attr in ("items", "keys", "values"):
                self.add(d, "dict", 3)
                if it.func.attr == "items" and isinstance(target, ast.Tuple) \
                        and len(target.elts) == 2:
                    k, v = (self._name(e) for e in target.elts)
                    if k and v:
                        self.items_loops.append((k, v, d))
                elif isinstance(target, ast.Name):
                    self.loops.append((target.id, d + (".k" if it.func.attr == "keys"
                                                       else ".v")))
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.args:
            inner = self._name(it.args[0])
            if inner and it.func.id in ("enumerate", "reversed", "sorted"):
                if isinstance(target, ast.Tuple) and len(target.elts) == 2 \
                        and it.func.id == "enumerate":
                    e = self._name(target.elts[1])
                    if e:
                        self.loops.append((e, inner))
                elif isinstance(target, ast.Name):
                    self.loops.append((target.id, inner))


def _operands(node) -> list[str]:
    """Names in an int expression: `n`, `-n`, `i + 1`."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.UnaryOp):
        return _operands(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _operands(node.left) + _operands(node.right)
    return []


def _sized(node) -> str | None:
    """`len(x)` and `x.count(y)` are ints (what is compared with them is one too)."""
    if isinstance(node, ast.Call) and (
            isinstance(node.func, ast.Name) and node.func.id == "len" or
            isinstance(node.func, ast.Attribute) and node.func.attr in ("count", "find",
                                                                         "index")):
        return "int"
    return None


def _best(scores: dict[str, float]) -> str | None:
    return max(scores, key=lambda k: scores[k]) if scores else None


_NO_TARGET = object()


def _second_pass(ev: _Evidence, target) -> None:
    """Evidence that needs the first pass's kinds: a container indexed by a str, or by the
    names its loop gives, is a dict,
    what is looked for `in` a str is a str, a name compared with one of a known kind has it
    too; a name returned as it is has the target's kind."""
    firsts = {n: _best(s) for n, s in list(ev.score.items())}
    loops = set(ev.loops)
    for c, i in ev.indexed:
        if firsts.get(i) == "str" or (i, c) in loops:     # d[k] for k in d: a dict
            ev.add(c, "dict", 4)
    for e, c in ev.within:
        if firsts.get(c) == "str":
            ev.add(e, "str", 2)
    for a, b in ev.compared:          # count < min_count: of one kind
        for x, y in ((a, b), (b, a)):
            ky = firsts.get(y)
            if ky in ("int", "str", "float") and firsts.get(x) is None:
                ev.add(x, ky, 1.5)
    k = kind_of_value(target) if target is not _NO_TARGET else None
    for n in ev.returned:
        if k and k != "none":
            ev.add(n, k, 3)


def infer(tree: ast.AST, func: str, known: list[list] | None = None,
          target=_NO_TARGET) -> list[Param]:
    """Parameters of `func` (in order, `self` left out for methods) with ranked kinds;
    `target`: the wanted output, when known (a parameter returned as it is has its kind)."""
    fn = find_function(tree, func)
    if fn is None:
        return []
    ps = params_of(fn, skip_self="." in func)
    ev = _Evidence({p.arg for p in ps})
    for stmt in fn.body:
        ev.visit(stmt)
    _second_pass(ev, target)
    a = fn.args
    defaults = [None] * (len(ps) - len(a.defaults)) + list(a.defaults)
    defaults = defaults[-len(ps):] if ps else []
    out = []
    for i, p in enumerate(ps):
        s = defaultdict(float, ev.score.get(p.arg, {}))
        hk, he = _hint_kind(p.annotation)
        if hk:
            s[hk] += 10
        d = defaults[i] if i < len(defaults) else None
        dk = _const_kind(d) if d is not None else None
        if dk and dk != "none":
            s[dk] += 6
        for row in known or []:
            if i < len(row):
                k = kind_of_value(row[i])
                if k:
                    s[k] += 8
        elem = he
        key = value = None
        kinds_here = sorted(s, key=lambda k: -s[k])
        # element kind: from the loop variables over this parameter
        es: dict[str, float] = defaultdict(float)
        for var, cont in ev.loops:
            if cont == p.arg:
                for k, w in ev.score.get(var, {}).items():
                    es[k] += w
        for k, w in ev.score.get(p.arg + "[]", {}).items():
            es[k] += w
        if elem is None:
            elem = _best(es)
        ks: dict[str, float] = defaultdict(float)
        vs: dict[str, float] = defaultdict(float)
        for k_, v_, d_ in ev.items_loops:
            if d_ == p.arg:
                for k, w in ev.score.get(k_, {}).items():
                    ks[k] += w
                for k, w in ev.score.get(v_, {}).items():
                    vs[k] += w
        for var, cont in ev.loops:
            if cont == p.arg + ".k":
                for k, w in ev.score.get(var, {}).items():
                    ks[k] += w
            if cont == p.arg + ".v":
                for k, w in ev.score.get(var, {}).items():
                    vs[k] += w
        for k, w in ev.score.get(p.arg + "[]", {}).items():
            vs[k] += w          # d[k].upper(): the values
        key, value = _best(ks), _best(vs)
        out.append(Param(p.arg, kinds_here, elem, key, value,
                         ast.unparse(d) if d is not None else None, dict(s)))
    return out
