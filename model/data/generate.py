"""A procedural generator of CruxEval-style functions: short Python functions that compose
str / list / dict / set / int operations with loops, branches, comprehensions, slicing,
early returns, helper calls and in-place mutation.

    program = generate_program(seed=0, index=17)     # the same (seed, index), the same code
    program.code     # "def f(text, nums): ..."
    program.params   # [("text", "str"), ...]

Well typed by construction (grammar.py) and terminating by construction: a `for` loop
iterates over a frozen collection (nothing in its body may change it) or a copy, a `while`
loop either counts up to a bound the body cannot change, drains a list with one `pop` per
iteration, or halves a positive counter; there is no recursion. What the construction does
not bound (sizes growing inside nested loops) the sandbox's step, time and memory limits stop,
and such runs are dropped and counted.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass

from .prune import prune_dead
from .grammar import (BOOL, DICT, ELEMENT, INT, LIST_INT, LIST_STR, MUTABLE, SET_INT, STR,
                      Grammar, Helper, Scope, paren)

PARAM_TYPES = [(STR, 30), (LIST_INT, 20), (INT, 16), (LIST_STR, 12), (DICT, 8), (SET_INT, 3)]
RETURN_TYPES = [(STR, 26), (INT, 18), (LIST_INT, 16), (LIST_STR, 10), (BOOL, 8), (DICT, 8),
                (SET_INT, 2), ("tuple", 6)]
LOCAL_TYPES = [(STR, 26), (INT, 24), (LIST_INT, 18), (LIST_STR, 12), (DICT, 10), (SET_INT, 4),
               (BOOL, 4)]
EMPTY = {INT: "0", BOOL: "False", STR: "''", LIST_INT: "[]", LIST_STR: "[]", DICT: "{}",
         SET_INT: "set()"}
HELPER_NAMES = ["g", "helper", "transform", "check", "score", "clean"]
COUNTERS = ["i", "j", "pos", "idx", "t"]


@dataclass(frozen=True)
class Program:
    code: str
    function: str
    params: tuple[tuple[str, str], ...]     # (name, type) of each parameter
    alphabet: str                           # characters its literals use; inputs use them too
    seed: int
    index: int


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([t for t, _ in table], [w for _, w in table])[0]


def _alphabet(rng: random.Random) -> str:
    letters = rng.sample("abcdefghijklmnopqrstuvwxyz", rng.randint(3, 7))
    extra = []
    if rng.random() < 0.5:
        extra += [c.upper() for c in rng.sample(letters, rng.randint(1, 2))]
    if rng.random() < 0.35:
        extra += rng.sample("0123456789", rng.randint(1, 3))
    if rng.random() < 0.5:
        extra += rng.sample(" ,-_.#:", rng.randint(1, 2))
    return "".join(letters + extra)


class _Body:
    """Statements of one function body."""

    def __init__(self, g: Grammar, returns: str | tuple[str, str] | None):
        self.g, self.rng, self.returns = g, g.rng, returns
        self.loops = 0

    def ret_expr(self, scope: Scope, prefer: list[str]) -> str:
        rt = self.returns
        if rt is None:
            raise ValueError("a function that returns nothing has no return expression")
        if isinstance(rt, tuple):
            return f"({self.g.expr(rt[0], scope, 1)}, {self.g.expr(rt[1], scope, 1)})"
        mine = [n for n in prefer if n in scope.vars and scope.vars[n].type == rt]
        if mine and self.rng.random() < 0.7:
            name = self.rng.choice(mine[-2:])
            return name if self.rng.random() < 0.75 else self.g.expr(rt, scope, 1)
        return self.g.expr(rt, scope, 2)

    def block(self, scope: Scope, n: int, depth: int, loop: str | None,
              touched: list[str]) -> list[str]:
        lines: list[str] = []
        for _ in range(n):
            lines += self.stmt(scope, depth, loop, touched)
        return lines or ["pass"]

    def stmt(self, scope: Scope, depth: int, loop: str | None, touched: list[str]) -> list[str]:
        options = [(self.assign, 3), (self.reassign, 2), (self.augassign, 2), (self.mutate, 3),
                   (self.pop_assign, 0.6), (self.try_int, 0.25)]
        if depth < 2:
            options += [(self.if_stmt, 2)]
            if self.loops < 2:
                options += [(self.for_loop, 4), (self.while_loop, 1.2)]
        if self.returns is not None:
            options.append((self.early_return, 0.7 if loop is None else 0.5))
        if loop:
            options.append((self.break_continue, 0.5))
        for _ in range(8):
            make = self.rng.choices([o for o, _ in options], [w for _, w in options])[0]
            got = make(scope, depth, loop, touched)
            if got:
                return got
        return self.assign(scope, depth, loop, touched)

    def sub(self, scope: Scope, depth: int, loop: str | None, touched: list[str],
            most: int = 2) -> list[str]:
        body = self.block(scope, self.rng.randint(1, most), depth + 1, loop, touched)
        return ["    " + line for line in body]

    # -- simple statements
    def assign(self, scope, depth, loop, touched):
        t = _weighted(self.rng, LOCAL_TYPES)
        value = self.g.expr(t, scope, 2 if depth == 0 else 1)
        name = self.g.new_name(t, scope)
        scope.add(name, t)
        touched.append(name)
        return [f"{name} = {value}"]

    def reassign(self, scope, depth, loop, touched):
        vs = [v for v in scope.vars.values() if v.name not in scope.frozen]
        if not vs:
            return None
        v = self.rng.choice(vs)
        value = self.g.expr(v.type, scope, 2 if depth == 0 else 1)
        if value == v.name:
            return None
        touched.append(v.name)
        return [f"{v.name} = {value}"]

    def augassign(self, scope, depth, loop, touched):
        vs = [v for v in scope.vars.values() if v.name not in scope.frozen
              and v.type in (INT, STR, LIST_INT, LIST_STR)]
        if not vs:
            return None
        v = self.rng.choice(vs)
        touched.append(v.name)
        if v.type == INT:
            op = self.rng.choice(["+=", "+=", "-=", "*="])
            rhs = str(self.rng.randint(2, 3)) if op == "*=" else self.g.expr(INT, scope, 1)
            return [f"{v.name} {op} {rhs}"]
        return [f"{v.name} += {self.g.expr(v.type, scope, 1)}"]

    def mutate(self, scope, depth, loop, touched):
        vs = [v for t in MUTABLE for v in scope.of(t, changeable=True) if "[" not in v.name]
        if not vs:
            return None
        v = self.rng.choice(vs)
        touched.append(v.name)
        x, e, r = v.name, self.g.expr, self.rng
        if v.type in (LIST_INT, LIST_STR):
            el = ELEMENT[v.type]
            item = paren(e(el, scope, 1))
            k = r.randint(0, 2)
            return r.choice([
                [f"{x}.append({item})"], [f"{x}.append({item})"],
                [f"{x}.extend({e(v.type, scope, 1, fresh=False)})"],
                [f"{x}.insert({self.g.int_lit(-1, 3)}, {item})"],
                [f"{x}.sort()"], [f"{x}.sort(reverse=True)"], [f"{x}.reverse()"],
                [f"if {x}:", f"    {x}.pop({r.choice(['', '0', '-1'])})"],
                [f"if {item} in {x}:", f"    {x}.remove({item})"],
                [f"if len({x}) > {k}:", f"    {x}[{k}] = {item}"],
                [f"if len({x}) > {k}:", f"    del {x}[{k}]"],
            ])
        if v.type == DICT:
            key = self.g.var(STR, scope) or self.g.str_lit(False)
            return r.choice([
                [f"{x}[{key}] = {e(INT, scope, 1)}"],
                [f"{x}[{key}] = {x}.get({key}, 0) + 1"], [f"{x}[{key}] = {x}.get({key}, 0) + 1"],
                [f"{x}.update({e(DICT, scope, 1, fresh=False)})"],
                [f"{x}.setdefault({key}, {e(INT, scope, 1)})"],
                [f"{x}.pop({key}, None)"],
                [f"if {key} in {x}:", f"    del {x}[{key}]"],
            ])
        item = e(INT, scope, 1)
        return r.choice([[f"{x}.add({item})"], [f"{x}.discard({item})"],
                         [f"{x}.update({e(LIST_INT, scope, 1, fresh=False)})"]])

    def pop_assign(self, scope, depth, loop, touched):
        vs = [v for t in (LIST_INT, LIST_STR, DICT) for v in scope.of(t, changeable=True)]
        if not vs:
            return None
        v = self.rng.choice(vs)
        el = INT if v.type == DICT else ELEMENT[v.type]
        name = self.g.new_name(el, scope)
        touched += [v.name, name]
        if v.type == DICT:
            key = self.g.var(STR, scope) or self.g.str_lit(False)
            line = f"{name} = {v.name}.pop({key}, {self.g.int_lit(0, 2)})"
        else:
            at = self.rng.choice(["", "0"])
            line = f"{name} = {v.name}.pop({at}) if {v.name} else {self.g.literal(el)}"
        scope.add(name, el)
        return [line]

    def try_int(self, scope, depth, loop, touched):
        s = self.g.var(STR, scope)
        if s is None:
            return None
        name = self.g.new_name(INT, scope)
        scope.add(name, INT)
        touched.append(name)
        return ["try:", f"    {name} = int({s})", "except ValueError:",
                f"    {name} = {self.g.int_lit(-1, 1)}"]

    def early_return(self, scope, depth, loop, touched):
        cond = self.g.expr(BOOL, scope, 2)
        return [f"if {cond}:", f"    return {self.ret_expr(scope, touched)}"]

    def break_continue(self, scope, depth, loop, touched):
        word = "break" if loop == "while" or self.rng.random() < 0.5 else "continue"
        return [f"if {self.g.expr(BOOL, scope, 1)}:", f"    {word}"]

    # -- compound statements
    def if_stmt(self, scope, depth, loop, touched):
        lines = [f"if {self.g.expr(BOOL, scope, 2)}:"] + \
            self.sub(scope.child(), depth, loop, touched)
        r = self.rng.random()
        if r < 0.2:
            lines += [f"elif {self.g.expr(BOOL, scope, 1)}:"] + \
                self.sub(scope.child(), depth, loop, touched)
        if r < 0.5:
            lines += ["else:"] + self.sub(scope.child(), depth, loop, touched)
        return lines

    def for_loop(self, scope, depth, loop, touched):
        r, g = self.rng, self.g
        inner = scope.child()
        kind = r.randint(0, 9)
        sized = [v for t in (STR, LIST_INT, LIST_STR) for v in scope.of(t) if "[" not in v.name]
        if kind <= 3 or kind == 9:
            pool = sized + scope.of(DICT) + scope.of(SET_INT)
            if not pool:
                return None
            x = r.choice(pool)
            if kind == 9 and x.type != SET_INT:
                head_src = r.choice([f"sorted({x.name})", f"{x.name}[::-1]", f"{x.name}[1:]"]) \
                    if x.type != DICT else f"sorted({x.name})"
            else:
                head_src = x.name
                inner.frozen.add(x.name)
            v = g.new_name(ELEMENT[x.type], scope)
            inner.add(v, ELEMENT[x.type])
            head = f"for {v} in {head_src}:"
        elif kind in (4, 5):
            if not sized:
                return None
            x = r.choice(sized)
            i = self._counter(scope)
            inner.frozen.add(x.name)
            inner.add(i, INT)
            inner.frozen.add(i)
            inner.add(f"{x.name}[{i}]", ELEMENT[x.type])   # read (and, for lists, write) x[i]
            if x.type == STR:
                inner.frozen.add(f"{x.name}[{i}]")
            head = f"for {i} in range(len({x.name})):"
        elif kind == 6:
            if not sized:
                return None
            x = r.choice(sized)
            i, v = self._counter(scope), g.new_name(ELEMENT[x.type], scope)
            inner.frozen.add(x.name)
            inner.add(i, INT)
            inner.add(v, ELEMENT[x.type])
            head = f"for {i}, {v} in enumerate({x.name}):"
        elif kind == 7:
            dv = g.var(DICT, scope)
            if dv is None:
                return None
            k, v = g.new_name(STR, scope), g.new_name(INT, scope)
            inner.frozen.add(dv)
            inner.add(k, STR)
            inner.add(v, INT)
            head = f"for {k}, {v} in {dv}.items():"
        else:
            s = g.var(STR, scope)
            if s is None:
                n = r.randint(1, 5)
                i = self._counter(scope)
                inner.add(i, INT)
                head = f"for {i} in range({n}):"
            else:
                w = g.new_name(STR, scope)
                inner.add(w, STR)
                head = f"for {w} in {s}.split({g.sep_lit() if r.random() < 0.5 else ''}):"
        self.loops += 1
        return [head] + self.sub(inner, depth, "for", touched, 3)

    def while_loop(self, scope, depth, loop, touched):
        r, g = self.rng, self.g
        kind = r.randint(0, 2)
        inner = scope.child()
        if kind == 0:
            sized = [v for t in (STR, LIST_INT, LIST_STR) for v in scope.of(t)
                     if "[" not in v.name]
            i = self._counter(scope)
            bound = f"len({r.choice(sized).name})" if sized and r.random() < 0.8 \
                else str(r.randint(1, 6))
            if sized:
                for v in sized:
                    if v.name in bound:
                        inner.frozen.add(v.name)
            inner.add(i, INT)
            inner.frozen.add(i)
            cond = f"{i} < {bound}"
            if r.random() < 0.3:
                cond += f" and {g.expr(BOOL, inner, 1)}"
            self.loops += 1
            body = self.sub(inner, depth, "while", touched, 3)
            scope.add(i, INT)
            touched.append(i)
            return [f"{i} = 0", f"while {cond}:"] + body + [f"    {i} += 1"]
        if kind == 1:
            vs = [v for t in (LIST_INT, LIST_STR) for v in scope.of(t, changeable=True)
                  if "[" not in v.name]
            if not vs:
                return None
            x = r.choice(vs)
            el = ELEMENT[x.type]
            v = g.new_name(el, scope)
            inner.frozen.add(x.name)
            inner.add(v, el)
            self.loops += 1
            touched.append(x.name)
            at = r.choice(["", "0"])
            return [f"while {x.name}:", f"    {v} = {x.name}.pop({at})"] + \
                self.sub(inner, depth, "while", touched, 2)
        vs = scope.of(INT, changeable=True)
        if not vs:
            return None
        n = r.choice(vs).name
        inner.frozen.add(n)
        self.loops += 1
        touched.append(n)
        step = r.choice([f"{n} //= 2", f"{n} -= 1", f"{n} -= {r.randint(2, 3)}"])
        return [f"while {n} > 0:"] + self.sub(inner, depth, "while", touched, 2) + \
            [f"    {step}"]

    def _counter(self, scope: Scope) -> str:
        for name in COUNTERS:
            if name not in scope.vars and name not in self.g.names_used:
                self.g.names_used.add(name)
                return name
        return self.g.new_name(INT, scope)


def _function(g: Grammar, name: str, params: list[tuple[str, str]], returns, n_stmts: int,
              frozen_params: bool) -> str:
    scope = Scope()
    for p, t in params:
        scope.add(p, t)
        g.names_used.add(p)
        if frozen_params:
            scope.frozen.add(p)
    body = _Body(g, returns)
    touched: list[str] = []
    lines = []
    if returns in EMPTY and n_stmts >= 2 and g.rng.random() < 0.55:
        acc = g.new_name(returns, scope)
        lines.append(f"{acc} = {EMPTY[returns] if g.rng.random() < 0.8 else g.literal(returns)}")
        scope.add(acc, returns)
        touched.append(acc)
    for h in g.helpers:     # the helper is called (else it is dropped as dead code)
        value = g.helper_call(h.returns, scope, 2)
        var = g.new_name(h.returns, scope)
        lines.append(f"{var} = {value}")
        scope.add(var, h.returns)
        touched.append(var)
    lines += body.block(scope, n_stmts, 0, None, touched) if n_stmts else []
    lines.append(f"return {body.ret_expr(scope, touched)}")
    head = f"def {name}({', '.join(p for p, _ in params)}):"
    return "\n".join([head] + ["    " + line for line in lines])


def _params(g: Grammar, n: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    scope = Scope()
    for _ in range(n):
        t = _weighted(g.rng, PARAM_TYPES)
        name = g.new_name(t, scope)
        scope.add(name, t)
        out.append((name, t))
    return out


def _used_names(fn: ast.FunctionDef) -> set[str]:
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}


def generate_program(seed: int, index: int) -> Program | None:
    """Program number `index` of the stream seeded by `seed` (None if it came out unusable:
    rare, e.g. a construct that does not compile)."""
    rng = random.Random(f"tracecot-data:{seed}:{index}")
    alphabet = _alphabet(rng)
    parts: list[str] = []
    helpers: list[Helper] = []
    if rng.random() < 0.15:
        hg = Grammar(rng, alphabet)
        hparams = _params(hg, rng.randint(1, 2))
        hret = _weighted(rng, [(t, w) for t, w in RETURN_TYPES if t in (STR, INT, BOOL, LIST_INT)])
        hname = rng.choice(HELPER_NAMES)
        parts.append(_function(hg, hname, hparams, hret, rng.choice([0, 0, 1, 2]), True))
        helpers.append(Helper(hname, tuple(t for _, t in hparams), hret))
    g = Grammar(rng, alphabet, helpers)
    g.names_used.update(h.name for h in helpers)
    params = _params(g, rng.choices([1, 2, 3], [45, 40, 15])[0])
    rt = _weighted(rng, RETURN_TYPES)
    returns = (_weighted(rng, LOCAL_TYPES), _weighted(rng, LOCAL_TYPES)) if rt == "tuple" else rt
    n_stmts = rng.choices([0, 1, 2, 3, 4, 5, 6, 7], [12, 14, 16, 16, 14, 12, 9, 7])[0]
    parts.append(_function(g, "f", params, returns, n_stmts, False))
    try:
        tree = ast.parse("\n\n".join(parts))
    except SyntaxError:
        return None
    functions = [fn for fn in tree.body if isinstance(fn, ast.FunctionDef)]
    assert len(functions) == len(tree.body), "the parts are function definitions"
    for fn in functions:
        prune_dead(fn)
    f = functions[-1]
    used = _used_names(f)
    if helpers and helpers[0].name not in used:
        tree.body = [f]
    kept = [(p, t) for p, t in params if p in used or rng.random() < 0.15]
    if not kept:
        kept = params[:1]
    f.args.args = [a for a in f.args.args if a.arg in {p for p, _ in kept}]
    code = _unparse(tree)
    try:
        compile(code, "<generated>", "exec")
    except (SyntaxError, ValueError):
        return None
    return Program(code, "f", tuple(kept), alphabet, seed, index)


def _unparse(tree: ast.Module) -> str:
    """ast.unparse, without the extra parentheses it writes around a generator that is a
    call's only argument (`sum((1 for c in s))` -> `sum(1 for c in s)`)."""
    code = ast.unparse(tree)
    for _ in range(50):
        lines = code.split("\n")
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords \
                    and isinstance(node.args[0], ast.GeneratorExp):
                g = node.args[0]
                start, end = g.col_offset, g.end_col_offset or g.col_offset
                line = lines[g.lineno - 1]
                if line[start - 1:start + 1] == "((" and line[end:end + 1] == ")":
                    lines[g.lineno - 1] = line[:start - 1] + line[start:end] + line[end + 1:]
                    break
        else:
            return code
        code = "\n".join(lines)
    return code
