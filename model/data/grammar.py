"""The typed expression grammar of the program generator (see generate.py).

Every expression is built for a wanted type from the variables in scope, so a generated
program is well typed by construction: no production can raise for any value of its type
(indexing is guarded by a length test, divisors are non-zero literals, `int()` is guarded by
`isdigit()`, separators are non-empty literals). Expressions of mutable types are *fresh*
(a new object: `nums[:]`, `sorted(nums)`, a comprehension) unless the caller asks for a view,
so no two variables ever name the same list, dict or set, and freezing a variable (while a
loop iterates over it) really keeps it unchanged.

Over 500 lines on purpose: the file is one table of productions, one method per type, and the
guards that make each one total are easier to check side by side than spread over modules.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from itertools import pairwise

INT, BOOL, STR = "int", "bool", "str"
LIST_INT, LIST_STR, DICT, SET_INT = "list[int]", "list[str]", "dict[str, int]", "set[int]"
TYPES = (INT, BOOL, STR, LIST_INT, LIST_STR, DICT, SET_INT)
MUTABLE = (LIST_INT, LIST_STR, DICT, SET_INT)
SIZED = (STR, LIST_INT, LIST_STR, DICT, SET_INT)
ELEMENT = {STR: STR, LIST_INT: INT, LIST_STR: STR, DICT: STR, SET_INT: INT}

NAMES = {
    INT: ["n", "count", "total", "k", "num", "idx", "x", "m", "acc", "step", "pos", "size"],
    BOOL: ["flag", "ok", "found", "done", "is_ok"],
    STR: ["text", "s", "word", "line", "prefix", "sub", "res", "result", "out", "c", "ch",
          "part", "name", "value", "st", "sep"],
    LIST_INT: ["nums", "arr", "values", "digits", "lst", "items", "numbers", "data", "xs"],
    LIST_STR: ["words", "parts", "names", "tokens", "chars", "strs", "letters"],
    DICT: ["d", "counts", "mapping", "dic", "freq", "table", "index"],
    SET_INT: ["seen", "uniq", "pool", "keep"],
}


@dataclass
class Var:
    name: str
    type: str


@dataclass
class Scope:
    """Variables visible at a point of the function; `frozen` ones may not change (a loop
    iterates over them, or they are a helper's parameters)."""
    vars: dict[str, Var] = field(default_factory=dict)
    frozen: set[str] = field(default_factory=set)
    bound: tuple[str, ...] = ()      # comprehension / lambda variables being defined

    def child(self) -> "Scope":
        return Scope(dict(self.vars), set(self.frozen), self.bound)

    def of(self, t: str, changeable: bool = False) -> list[Var]:
        return [v for v in self.vars.values()
                if v.type == t and not (changeable and v.name in self.frozen)]

    def add(self, name: str, t: str) -> None:
        self.vars[name] = Var(name, t)


@dataclass(frozen=True)
class Helper:
    name: str
    params: tuple[str, ...]      # parameter types
    returns: str


def paren(src: str) -> str:
    """`src` safe to embed as an operand (ast.unparse removes the parentheses not needed)."""
    try:
        node = ast.parse(src, mode="eval").body
    except SyntaxError:
        return f"({src})"
    atomic = (ast.Name, ast.Constant, ast.Call, ast.Subscript, ast.Attribute, ast.List,
              ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp, ast.JoinedStr)
    return src if isinstance(node, atomic) else f"({src})"


class Grammar:
    """Typed expressions over one program's alphabet (the characters its literals and
    inputs share, so membership tests and `replace` calls actually hit)."""

    def __init__(self, rng: random.Random, alphabet: str, helpers: list[Helper] | None = None):
        self.rng, self.alphabet = rng, alphabet
        self.helpers = helpers if helpers is not None else []
        self.names_used: set[str] = set()

    # -- names and literals
    def new_name(self, t: str, scope: Scope) -> str:
        pool = [n for n in NAMES[t] if n not in self.names_used and n not in scope.vars]
        name = self.rng.choice(pool) if pool else f"{NAMES[t][0]}{len(self.names_used)}"
        self.names_used.add(name)
        return name

    def int_lit(self, lo: int = -2, hi: int = 10) -> str:
        return str(self.rng.randint(lo, hi))

    def char_lit(self) -> str:
        return repr(self.rng.choice(self.alphabet))

    def str_lit(self, empty: bool = True) -> str:
        n = self.rng.choice([0, 1, 1, 1, 2, 2, 3] if empty else [1, 1, 1, 2, 2, 3])
        return repr("".join(self.rng.choice(self.alphabet) for _ in range(n)))

    def sep_lit(self) -> str:
        seps = [c for c in " ,-_.#:" if c in self.alphabet] or [" "]
        return repr(self.rng.choice(seps + [self.rng.choice(self.alphabet)]))

    def literal(self, t: str) -> str:
        r = self.rng
        if t == INT:
            return self.int_lit()
        if t == BOOL:
            return r.choice(["True", "False"])
        if t == STR:
            return self.str_lit()
        if t == LIST_INT:
            return "[" + ", ".join(self.int_lit() for _ in range(r.randint(0, 4))) + "]"
        if t == LIST_STR:
            return "[" + ", ".join(self.str_lit(False) for _ in range(r.randint(0, 3))) + "]"
        if t == DICT:
            keys = dict.fromkeys(self.str_lit(False) for _ in range(r.randint(0, 3)))
            return "{" + ", ".join(f"{k}: {self.int_lit()}" for k in keys) + "}"
        return "{" + ", ".join(self.int_lit() for _ in range(r.randint(1, 3))) + "}" \
            if r.random() < 0.6 else "set()"

    # -- choosing productions
    def expr(self, t: str, scope: Scope, depth: int = 2, fresh: bool = True) -> str:
        """An expression of type `t`; `fresh`: a new object for mutable types."""
        rules = self.RULES[t]
        for _ in range(12):
            if depth <= 0:
                return self.leaf(t, scope, fresh)
            weights = [w for w, _ in rules]
            _, rule = self.rng.choices(rules, weights)[0]
            got = rule(self, scope, depth - 1, fresh)
            # A composite expression reads some variable: `3 > 0 + 1` is noise, not a test.
            if got is not None and (not scope.vars or self.mentions_var(got, scope)):
                return got
        return self.leaf(t, scope, fresh)

    @staticmethod
    def mentions_var(src: str, scope: Scope) -> bool:
        """`src` reads a variable of `scope` and has no operation with two equal sides
        (`x - x`, `s != s`, `a if c else a`)."""
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError:
            return False
        names = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.Name):
                names.add(n.id)
            pairs = [(n.left, n.right)] if isinstance(n, ast.BinOp) else \
                list(pairwise([n.left] + n.comparators)) if isinstance(n, ast.Compare) \
                else [(n.body, n.orelse)] if isinstance(n, ast.IfExp) else \
                list(pairwise(n.values)) if isinstance(n, ast.BoolOp) else []
            if any(ast.dump(a) == ast.dump(b) for a, b in pairs):
                return False
        return any(v.split("[")[0] in names for v in scope.vars)

    def leaf(self, t: str, scope: Scope, fresh: bool = True) -> str:
        vs = scope.of(t)
        mine = [v for v in vs if v.name in scope.bound]
        if mine and self.rng.random() < 0.7:
            return mine[-1].name
        if t == BOOL and not vs:
            return self._simple_test(scope)
        if vs and self.rng.random() < 0.75:
            v = self.rng.choice(vs).name
            if t not in MUTABLE or not fresh:
                return v
            return self.rng.choice([f"{v}[:]", f"list({v})", f"{v}.copy()"]) \
                if t in (LIST_INT, LIST_STR) else f"{v}.copy()"
        return self.literal(t)

    def _simple_test(self, scope: Scope) -> str:
        """A bool from one variable: `n > 3`, `'a' in text`, `len(nums) > 2`, `s.isdigit()`."""
        r = self.rng
        ints = scope.of(INT)
        sized = [v for t in SIZED for v in scope.of(t)]
        if ints and (not sized or r.random() < 0.4):
            n = r.choice(ints).name
            return r.choice([f"{n} > {self.int_lit(0, 5)}", f"{n} % 2 == 0",
                             f"{n} < {self.int_lit()}"])
        if sized:
            x = r.choice(sized)
            if x.type == STR and r.random() < 0.6:
                return r.choice([f"{self.char_lit()} in {x.name}", f"{x.name}.isalpha()",
                                 f"{x.name}.isdigit()", f"{x.name}.islower()"])
            return f"len({x.name}) > {self.int_lit(0, 3)}" if r.random() < 0.6 else \
                f"not {x.name}"
        return r.choice(["True", "False"])

    def var(self, t: str, scope: Scope) -> str | None:
        vs = scope.of(t)
        return self.rng.choice(vs).name if vs else None

    def sized(self, scope: Scope, depth: int) -> str:
        """An expression of some sized type (for len, membership, iteration)."""
        t = self.have(scope, STR, STR, LIST_INT, LIST_STR, DICT, SET_INT)
        return self.var(t, scope) or self.expr(t, scope, depth, fresh=False)

    def have(self, scope: Scope, *types: str) -> str:
        """One of `types`, preferring those the scope has a variable of."""
        mine = [t for t in types if scope.of(t)]
        return self.rng.choice(mine or list(types))

    def with_var(self, t: str, scope: Scope) -> tuple[str, Scope]:
        """A fresh bound name (comprehension or lambda variable) and the scope it lives in."""
        inner = scope.child()
        name = self.new_name(t, scope)
        inner.add(name, t)
        inner.bound = scope.bound + (name,)
        return name, inner

    def about(self, t: str, inner: Scope, depth: int) -> str:
        """An expression over a comprehension's or lambda's own variable (`c.isdigit()`
        for `c in s`, not a test that ignores `c`)."""
        got = ""
        for _ in range(6):
            got = self.expr(t, inner, depth)
            try:
                names = {n.id for n in ast.walk(ast.parse(got, mode="eval"))
                         if isinstance(n, ast.Name)}
            except SyntaxError:
                continue
            if names & set(inner.bound):
                return got
        v = inner.vars[inner.bound[-1]]
        if v.type == t:
            return v.name
        if t == BOOL:
            return self._simple_test(Scope({v.name: v}))
        return got

    def helper_call(self, t: str, scope: Scope, depth: int) -> str | None:
        mine = [h for h in self.helpers if h.returns == t]
        if not mine:
            return None
        h = self.rng.choice(mine)
        args = ", ".join(self.expr(p, scope, depth - 1, fresh=True) for p in h.params)
        return f"{h.name}({args})"

    # -- one rule set per type; each returns None when it does not apply here
    def _int(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 15)
        if k == 0:
            return self.leaf(INT, scope)
        if k == 1:
            return f"len({self.sized(scope, d)})"
        if k == 2:
            s = self.var(STR, scope)
            return s and f"{s}.{r.choice(['count', 'find', 'rfind'])}({self.str_lit(False)})"
        if k == 3:
            lst = self.var(LIST_INT, scope) or e(LIST_INT, scope, d, False)
            return r.choice([f"sum({lst})", f"max({lst}, default=0)", f"min({lst}, default=0)",
                             f"{lst}.count({e(INT, scope, d)})"])
        if k in (4, 5):
            op = r.choice(["+", "-", "*", "+", "-"])
            return f"{paren(e(INT, scope, d))} {op} {paren(e(INT, scope, d))}"
        if k == 6:
            return f"{paren(e(INT, scope, d))} {r.choice(['//', '%'])} {r.randint(2, 9)}"
        if k == 7:
            return r.choice(["abs", "-"]) + f"({e(INT, scope, d)})" if r.random() < 0.5 else \
                f"{r.choice(['min', 'max'])}({e(INT, scope, d)}, {e(INT, scope, d)})"
        if k == 8:
            s = self.var(STR, scope)
            return s and f"int({s}) if {s}.isdigit() else {self.int_lit(0, 5)}"
        if k == 9:
            t = r.choice([STR, LIST_INT, LIST_STR])
            x = self.var(t, scope)
            if x is None:
                return None
            y = e(ELEMENT[t], scope, d) if t != STR else self.char_lit()
            return f"{x}.index({y}) if {y} in {x} else -1"
        if k == 10:
            t = self.have(scope, STR, LIST_INT, LIST_STR)
            src = self.var(t, scope) or e(t, scope, d, False)
            v, inner = self.with_var(ELEMENT[t], scope)
            if r.random() < 0.6:
                return f"sum(1 for {v} in {src} if {self.about(BOOL, inner, d)})"
            return f"len([{v} for {v} in {src} if {self.about(BOOL, inner, d)}])"
        if k == 11:
            dv = self.var(DICT, scope)
            return dv and f"{dv}.get({e(STR, scope, d)}, {self.int_lit(0, 3)})"
        if k == 12:
            if r.random() < 0.6:
                return None       # generic conditionals are rarer than the guarded forms
            return f"{e(INT, scope, d)} if {e(BOOL, scope, d)} else {e(INT, scope, d)}"
        if k == 13:
            s = self.var(STR, scope)
            return s and f"ord({s}[0]) if {s} else 0"
        if k == 14:
            return self.helper_call(INT, scope, d)
        lst = self.var(LIST_INT, scope)
        return lst and f"{lst}[{self.int_lit(-2, 2)}] if len({lst}) > 2 else {self.int_lit()}"

    def _bool(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 10)
        if k in (0, 1):
            return f"{paren(e(INT, scope, d))} {r.choice(['<', '>', '<=', '>=', '==', '!='])} " \
                   f"{paren(e(INT, scope, d))}"
        if k == 2:
            return f"{paren(e(STR, scope, d))} {r.choice(['==', '!='])} {paren(e(STR, scope, d))}"
        if k == 3:
            t = r.choice([STR, LIST_INT, LIST_STR, DICT, SET_INT])
            x = self.var(t, scope)
            if x is None:
                return None
            y = self.char_lit() if t == STR and r.random() < 0.6 else e(ELEMENT[t], scope, d)
            return f"{paren(y)} {r.choice(['in', 'in', 'not in'])} {x}"
        if k in (4, 5):
            s = self.var(STR, scope) or e(STR, scope, d)
            m = r.choice(["isdigit", "isalpha", "isupper", "islower", "isspace", "isalnum",
                          "istitle", "startswith", "endswith", "isdecimal"])
            arg = self.str_lit(False) if m in ("startswith", "endswith") else ""
            return f"{paren(s)}.{m}({arg})"
        if k == 6:
            op = r.choice(["and", "or"])
            return f"{paren(e(BOOL, scope, d))} {op} {paren(e(BOOL, scope, d))}"
        if k == 7:
            return f"not {paren(e(BOOL, scope, d))}"
        if k == 8:
            t = self.have(scope, STR, LIST_INT, LIST_STR)
            src = self.var(t, scope)
            if src is None:
                return None
            v, inner = self.with_var(ELEMENT[t], scope)
            return f"{r.choice(['all', 'any'])}({self.about(BOOL, inner, d)} for {v} in {src})"
        if k == 9:
            return f"{paren(e(INT, scope, d))} % 2 == {r.choice([0, 1])}"
        if k == 10:
            return self.helper_call(BOOL, scope, d)
        return f"len({self.sized(scope, d)}) > {self.int_lit(0, 4)}"

    def _str(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 19)
        def s():
            return self.var(STR, scope) or e(STR, scope, d)

        if k == 0:
            return self.leaf(STR, scope)
        if k in (1, 2):
            receiver = paren(s())     # first: it draws from the generator before the method
            method = r.choice(['upper', 'lower', 'strip', 'capitalize', 'title', 'swapcase',
                               'casefold', 'lstrip', 'rstrip'])
            return f"{receiver}.{method}()"
        if k == 3:
            return f"{paren(s())}.{r.choice(['strip', 'lstrip', 'rstrip'])}({self.str_lit(False)})"
        if k == 4:
            return f"{paren(s())}.replace({self.str_lit(False)}, {self.str_lit()})"
        if k in (5, 6):
            lo = r.choice(["", "", "1", self.int_lit(-3, 3), paren(e(INT, scope, d - 1))])
            hi = r.choice(["", "", "-1", self.int_lit(-3, 5), paren(e(INT, scope, d - 1))])
            step = r.choice(["", "", "", ":-1", ":2"])
            return f"{paren(s())}[{lo}:{hi}{step}]" if (lo or hi or step) else f"{s()}[::-1]"
        if k == 7:
            return f"{paren(e(STR, scope, d))} + {paren(e(STR, scope, d))}"
        if k == 8:
            return f"{paren(s())} * {r.randint(1, 3)}"
        if k == 9:
            words = self.var(LIST_STR, scope) or e(LIST_STR, scope, d, False)
            return f"{self.sep_lit() if r.random() < 0.6 else repr('')}.join({words})"
        if k == 10:
            return f"''.join({r.choice(['sorted', 'reversed'])}({s()}))"
        if k == 11:
            return f"str({e(INT, scope, d)})"
        if k == 12:
            m = r.choice(["zfill", "center", "ljust", "rjust"])
            fill = "" if m == "zfill" else f", {self.char_lit()}" if r.random() < 0.7 else ""
            return f"{paren(s())}.{m}({r.randint(0, 12)}{fill})"
        if k == 13:
            op = r.choice(["split", "rsplit", "partition", "rpartition"])
            return f"{paren(s())}.{op}({self.sep_lit()})[{r.choice([0, -1])}]"
        if k == 14:
            x = self.var(STR, scope)
            return x and (f"{x}[{r.choice([0, -1])}] if {x} else {self.str_lit()}"
                          if r.random() < 0.6 else
                          f"{x}[{paren(e(INT, scope, d))} % len({x})] if {x} else {self.str_lit()}")
        if k == 15:
            if r.random() < 0.6:
                return None
            return f"{e(STR, scope, d)} if {e(BOOL, scope, d)} else {e(STR, scope, d)}"
        if k == 16:
            a, b = e(STR, scope, d - 1), e(r.choice([INT, STR]), scope, d - 1)
            if any(c in a + b for c in "'\\{}"):
                return None     # would not fit inside an f-string's braces
            return "f'{" + a + "}" + r.choice(self.alphabet + "-:") + "{" + b + "}'"
        if k == 17:
            words = self.var(LIST_STR, scope)
            return words and r.choice([f"{words}[0] if {words} else {self.str_lit()}",
                                       f"max({words}, key=len) if {words} else ''",
                                       f"min({words}) if {words} else ''"])
        if k == 18:
            src = self.var(STR, scope) or e(STR, scope, d)
            v, inner = self.with_var(STR, scope)
            if r.random() < 0.5:
                return f"''.join({v} for {v} in {src} if {self.about(BOOL, inner, d - 1)})"
            cond = self.about(BOOL, inner, d - 1)
            return f"''.join({v}.upper() if {cond} else {v} for {v} in {src})"
        if k == 19:
            return self.helper_call(STR, scope, d)
        return None

    def _list_int(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 12)
        def lst():
            return self.var(LIST_INT, scope) or e(LIST_INT, scope, d, False)

        if k == 0:
            return self.leaf(LIST_INT, scope, fresh)
        if k == 1:
            return r.choice([f"sorted({lst()})", f"sorted({lst()}, reverse=True)",
                             f"list(reversed({lst()}))"])
        if k == 2:
            return f"{paren(lst())}[{r.choice(['1:', ':-1', '::-1', '::2', ':2', '-3:'])}]"
        if k == 3:
            return f"{paren(e(LIST_INT, scope, d))} + {paren(e(LIST_INT, scope, d))}"
        if k in (4, 5):
            t = self.have(scope, LIST_INT, LIST_INT, STR, LIST_STR)
            src = self.var(t, scope) or e(t, scope, d, False)
            v, inner = self.with_var(ELEMENT[t], scope)
            body = self.about(INT, inner, d) if t == LIST_INT else \
                r.choice([f"len({v})", f"ord({v}[0]) if {v} else 0",
                          f"{v}.count({self.char_lit()})"])
            cond = f" if {self.about(BOOL, inner, d)}" if r.random() < 0.5 else ""
            return f"[{body} for {v} in {src}{cond}]"
        if k == 6:
            x = self.var(r.choice([STR, LIST_INT, LIST_STR]), scope)
            if x is None:
                return None
            start = r.choice(["", "", "1, "])
            return r.choice([f"list(range({start}len({x})))", f"list(range(len({x}) - 1, -1, -1))"])
        if k == 7:
            dv = self.var(DICT, scope)
            return dv and r.choice([f"list({dv}.values())", f"sorted({dv}.values())"])
        if k == 8:
            sv = self.var(SET_INT, scope)
            return sv and f"sorted({sv})"
        if k == 9:
            src = lst()
            v, inner = self.with_var(INT, scope)
            return r.choice([f"list(map(lambda {v}: {self.about(INT, inner, d)}, {src}))",
                             f"list(filter(lambda {v}: {self.about(BOOL, inner, d)}, {src}))"])
        if k == 10:
            s = self.var(STR, scope)
            return s and f"[int({s}[i]) for i in range(len({s})) if {s}[i].isdigit()]" \
                if "i" not in scope.vars else None
        if k == 11:
            src = self.var(LIST_INT, scope) or self.var(STR, scope)
            if src is None:
                return None
            i, inner = self.with_var(INT, scope)
            v, inner2 = self.with_var(STR if src in (x.name for x in scope.of(STR)) else INT,
                                      inner)
            return f"[{i} for {i}, {v} in enumerate({src}) if {self.about(BOOL, inner2, d)}]"
        return self.helper_call(LIST_INT, scope, d)

    def _list_str(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 10)
        def s():
            return self.var(STR, scope) or e(STR, scope, d)

        def words():
            return self.var(LIST_STR, scope) or e(LIST_STR, scope, d, False)

        if k == 0:
            return self.leaf(LIST_STR, scope, fresh)
        if k == 1:
            return f"{paren(s())}.split()" if r.random() < 0.4 else \
                f"{paren(s())}.split({self.sep_lit()})"
        if k == 2:
            return f"list({s()})"
        if k == 3:
            return r.choice([f"sorted({words()})", f"sorted({words()}, key=len)",
                             f"sorted({words()}, reverse=True)", f"list(reversed({words()}))"])
        if k == 4:
            return f"{paren(words())}[{r.choice(['1:', ':-1', '::-1', ':2', '::2'])}]"
        if k in (5, 6):
            t = self.have(scope, LIST_STR, STR)
            src = self.var(t, scope) or e(t, scope, d, False)
            v, inner = self.with_var(STR, scope)
            cond = f" if {self.about(BOOL, inner, d)}" if r.random() < 0.6 else ""
            return f"[{self.about(STR, inner, d)} for {v} in {src}{cond}]"
        if k == 7:
            dv = self.var(DICT, scope)
            return dv and r.choice([f"list({dv})", f"sorted({dv})", f"list({dv}.keys())"])
        if k == 8:
            lst = self.var(LIST_INT, scope)
            return lst and r.choice([f"list(map(str, {lst}))", f"[str(v) for v in {lst}]"
                                     if "v" not in scope.vars else None])
        if k == 9:
            return f"{paren(e(LIST_STR, scope, d))} + [{e(STR, scope, d)}]"
        return f"list({paren(s())}.{r.choice(['partition', 'rpartition'])}({self.sep_lit()}))"

    def _dict(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 7)
        if k == 0:
            return self.leaf(DICT, scope, fresh)
        if k == 1:
            words = self.var(LIST_STR, scope) or e(LIST_STR, scope, d, False)
            v, inner = self.with_var(STR, scope)
            return f"{{{v}: {self.about(INT, inner, d)} for {v} in {words}}}"
        if k == 2:
            s = self.var(STR, scope)
            return s and f"{{c: {s}.count(c) for c in {s}}}" if "c" not in scope.vars else None
        if k == 3:
            words, nums = self.var(LIST_STR, scope), self.var(LIST_INT, scope)
            return words and nums and f"dict(zip({words}, {nums}))"
        if k == 4:
            words = self.var(LIST_STR, scope) or self.var(STR, scope)
            return words and f"dict.fromkeys({words}, {self.int_lit(0, 3)})"
        if k == 5:
            dv = self.var(DICT, scope)
            if dv is None:
                return None
            kk, inner = self.with_var(STR, scope)
            vv, inner = self.with_var(INT, inner)
            cond = f" if {self.about(BOOL, inner, d)}" if r.random() < 0.6 else ""
            return f"{{{kk}: {self.about(INT, inner, d)} for {kk}, {vv} in {dv}.items(){cond}}}"
        if k == 6:
            dv = self.var(DICT, scope)
            return dv and f"dict(sorted({dv}.items()))"
        words = self.var(LIST_STR, scope)
        if words is None:
            return None
        i, inner = self.with_var(INT, scope)
        w, inner = self.with_var(STR, inner)
        return f"{{{w}: {i} for {i}, {w} in enumerate({words})}}"

    def _set(self, scope, d, fresh):
        r, e = self.rng, self.expr
        k = r.randint(0, 4)
        if k == 0:
            return self.leaf(SET_INT, scope, fresh)
        if k == 1:
            return f"set({self.var(LIST_INT, scope) or e(LIST_INT, scope, d, False)})"
        if k == 2:
            src = self.var(LIST_INT, scope) or e(LIST_INT, scope, d, False)
            v, inner = self.with_var(INT, scope)
            return f"{{{self.about(INT, inner, d)} for {v} in {src}}}"
        if k == 3:
            op = r.choice(["|", "&", "-", "^"])
            return f"{paren(e(SET_INT, scope, d))} {op} {paren(e(SET_INT, scope, d))}"
        dv = self.var(DICT, scope)
        return dv and f"set({dv}.values())"

    RULES = {INT: [(1, _int)], BOOL: [(1, _bool)], STR: [(1, _str)], LIST_INT: [(1, _list_int)],
             LIST_STR: [(1, _list_str)], DICT: [(1, _dict)], SET_INT: [(1, _set)]}
