"""Functions harvested from a source tree: the standard library by default, or a user's own
project (`tracecot data build --from PATH`), which is what makes the model fine-tuned *locally*.

Nothing found here runs in this process: the tree is only parsed. A function qualifies when it
is a plain top-level `def` whose program (the function and the module statements it uses,
`prompts.focus_source`) is small and has nothing with effects outside the call (no I/O, no
`global`, no modules such as os, random or time beyond a few read-only attributes). Its
argument lists come from, in this order: doctest examples in its docstring, literal calls
anywhere in the tree (tests, asserts, other modules), and generation guided by annotations,
defaults and parameter names. examples.process then keeps only runs that return a literal,
print nothing, finish within the time cap and give the same result twice.
"""

from __future__ import annotations

import ast
import doctest
import os
import random
import sysconfig
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from tracecot.model.prompts import focus_source

from .examples import Candidate
from .grammar import BOOL, DICT, INT, LIST_INT, LIST_STR, SET_INT, STR
from .inputs import FLOAT, NONE, literal, random_value

# Modules whose functions act on the world (files, processes, clocks, randomness, the
# interpreter) or whose import does: never harvested, and a function using them is skipped.
SIDE_EFFECT_MODULES = frozenset("""
    os sys io shutil subprocess socket ssl select selectors signal tempfile glob pathlib
    fileinput filecmp webbrowser antigravity this turtle turtledemo tkinter idlelib
    multiprocessing threading _thread concurrent asyncio queue sched logging getpass pdb bdb code
    codeop pty tty termios atexit ensurepip venv pydoc pydoc_data site sysconfig random secrets
    uuid time datetime platform mailbox smtplib ftplib poplib imaplib nntplib telnetlib
    socketserver http urllib.request urllib.robotparser xmlrpc wsgiref zipfile tarfile gzip bz2
    lzma shelve dbm
    sqlite3 pickle pickletools copyreg importlib pkgutil runpy zipimport zipapp modulefinder
    compileall py_compile trace tracemalloc cProfile profile pstats timeit faulthandler gc
    resource crypt pwd grp spwd readline rlcompleter cmd curses ctypes mmap locale gettext
    warnings unittest doctest test lib2to3 distutils setuptools pip msilib winreg winsound
    _pyio _osx_support _aix_support _bootsubprocess nturl2path mimetypes netrc uu imghdr sndhdr
    wave aifc sunau chunk audioop ossaudiodev nis syslog tabnanny pyclbr dis inspect ast
    symtable tokenize token builtins __future__ sre_compile sre_parse encodings
    xdrlib cgi cgitb crypt mailcap pipes
""".split())
ALLOWED_ATTRS = frozenset({"os.path", "os.sep", "os.altsep", "os.extsep", "os.curdir",
                           "os.pardir", "os.fspath", "os.linesep", "sys.maxsize",
                           "sys.byteorder", "sys.maxunicode", "sys.version_info",
                           "sys.float_info", "sys.intern"})
IMPURE_NAMES = frozenset({"open", "print", "input", "exec", "eval", "compile", "__import__",
                          "globals", "locals", "vars", "exit", "quit", "breakpoint", "help",
                          "setattr", "delattr", "id", "hash", "memoryview", "super"})
SKIP_DIRS = frozenset({"test", "tests", "testing", "idlelib", "tkinter", "turtledemo",
                       "lib2to3", "ensurepip", "site-packages", "dist-packages", "__pycache__",
                       "pydoc_data", "venv", "node_modules", "build", "dist", "distutils",
                       ".git", ".venv", ".tox", ".mypy_cache", "encodings", "config-3.11"})
NAME_TYPES = [
    (STR, {"s", "text", "string", "word", "name", "line", "sep", "prefix", "suffix", "pattern",
           "chars", "value", "src", "source", "label", "key", "path", "url", "title", "msg"}),
    (INT, {"n", "i", "k", "count", "num", "size", "width", "index", "start", "end", "pos",
           "level", "depth", "length", "step", "limit", "base", "x", "y", "number", "m"}),
    (LIST_INT, {"items", "seq", "lst", "values", "nums", "numbers", "iterable", "data", "a",
                "arr", "array", "xs", "sequence"}),
    (LIST_STR, {"words", "names", "lines", "strings", "parts", "args", "tokens"}),
    (DICT, {"d", "mapping", "dct", "table", "counts", "kwargs"}),
    (BOOL, {"flag", "strict", "reverse", "verbose", "keepends", "ignore_case"}),
]
ANNOTATION_TYPES = {"int": INT, "str": STR, "bool": BOOL, "float": FLOAT, "list": LIST_INT,
                    "list[int]": LIST_INT, "list[str]": LIST_STR, "dict": DICT,
                    "dict[str, int]": DICT, "set": SET_INT, "set[int]": SET_INT,
                    "List[int]": LIST_INT, "List[str]": LIST_STR, "Sequence[int]": LIST_INT,
                    "Sequence[str]": LIST_STR, "Iterable[int]": LIST_INT}
ALPHABET = "abcdexyzAB012 ,.-_"


@dataclass
class SourceFile:
    module: str           # dotted name relative to the root ("textwrap", "email.utils")
    path: Path
    text: str
    tree: ast.Module
    is_test: bool


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _is_test(rel: Path) -> bool:
    name = rel.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" \
        or any(p in ("test", "tests", "testing") for p in rel.parts[:-1])


def read_tree(root: Path, counts: Counter, stdlib: bool = False) -> list[SourceFile]:
    """Every parseable .py file below `root`, in path order, tests marked (for the stdlib,
    test/test_*.py only: they are read for literal calls, never harvested)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        top = rel_dir.parts[0] if rel_dir.parts else ""
        tests = ("test",) if stdlib and not rel_dir.parts else \
            () if stdlib else ("test", "tests", "testing")
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS or d in tests)
        for name in sorted(filenames):
            if not name.endswith(".py") or (stdlib and top == "test"
                                            and not name.startswith("test_")):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root)
            try:
                text = path.read_text(encoding="utf-8")
                with warnings.catch_warnings():      # old escapes in old test files
                    warnings.simplefilter("ignore")
                    tree = ast.parse(text)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
                counts["files unreadable or not parsing"] += 1
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1] or [root.name]
            out.append(SourceFile(".".join(parts), path, text, tree, _is_test(rel)))
    out.sort(key=lambda sf: str(sf.path))
    return out


def _blocked(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in SIDE_EFFECT_MODULES for i in range(1, len(parts) + 1))


def _literal_args(call: ast.Call) -> str | None:
    parts = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            return None
        parts.append(a)
    for k in call.keywords:
        if k.arg is None:
            return None
        parts.append(k.value)
    for node in parts:
        try:
            ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    out = [ast.unparse(a) for a in call.args]
    out += [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords]
    return ", ".join(out)


def _tail(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def literal_calls(files: list[SourceFile]) -> dict[tuple[str, str], list[str]]:
    """(module tail, function) -> argument sources of every call with literal arguments."""
    calls: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sf in files:
        names: dict[str, tuple[str, str]] = {}      # local name -> (module tail, function)
        modules: dict[str, str] = {}                # local name -> module tail
        for node in ast.walk(sf.tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    names[a.asname or a.name] = (_tail(node.module), a.name)
                    modules[a.asname or a.name] = a.name     # `from pkg import util`
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        modules[a.asname] = _tail(a.name)
                    else:
                        modules[a.name.split(".")[0]] = a.name.split(".")[0]
        for node in ast.walk(sf.tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name):
                key = names.get(f.id, (_tail(sf.module), f.id))
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                    and f.value.id in modules:
                key = (modules[f.value.id], f.attr)
            else:
                continue
            args = _literal_args(node)
            if args is not None and len(args) <= 200:
                calls[key].append(args)
    return calls


def doctest_calls(fn: ast.FunctionDef) -> list[str]:
    """Arguments of `>>> name(<literals>)` examples in the function's docstring."""
    doc = ast.get_docstring(fn) or ""
    out = []
    try:
        examples = doctest.DocTestParser().get_examples(doc)
    except ValueError:
        return []
    for ex in examples:
        try:
            node = ast.parse(ex.source.strip(), mode="eval").body
        except SyntaxError:
            continue
        if isinstance(node, ast.Call) and (
                isinstance(node.func, ast.Name) and node.func.id == fn.name
                or isinstance(node.func, ast.Attribute) and node.func.attr == fn.name):
            args = _literal_args(node)
            if args is not None:
                out.append(args)
    return out


def guess_type(arg: ast.arg, default: ast.expr | None) -> str | None:
    """A value type for a parameter: its annotation, its default's type, or its name."""
    if arg.annotation is not None:
        t = ANNOTATION_TYPES.get(ast.unparse(arg.annotation).replace("typing.", ""))
        if t:
            return t
    if default is not None:
        try:
            value = ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError):
            value = ...
        for py, t in ((bool, BOOL), (int, INT), (float, FLOAT), (str, STR)):
            if type(value) is py:
                return t
        if value is None:
            return None
    name = arg.arg.lower()
    for t, names in NAME_TYPES:
        if name in names or name.rstrip("s0123456789") in names:
            return t
    return None


def typed_args(fn: ast.FunctionDef, rng: random.Random, n: int) -> list[str]:
    """`n` argument lists for the required positional parameters (others keep defaults)."""
    a = fn.args
    positional = a.posonlyargs + a.args
    required = positional[:len(positional) - len(a.defaults)]
    if a.kwonlyargs and any(d is None for d in a.kw_defaults):
        return []
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    types = [guess_type(p, d) for p, d in zip(positional, defaults, strict=True)][:len(required)]
    out = []
    for _ in range(n):
        vals = [random_value(t or rng.choice([STR, STR, INT, LIST_INT]), rng, ALPHABET)
                for t in types]
        if types and rng.random() < 0.3 and len(positional) > len(required):
            # sometimes pass the first optional parameter too
            p, d = positional[len(required)], defaults[len(required)]
            t = guess_type(p, d)
            if t and t != NONE:
                vals.append(random_value(t, rng, ALPHABET))
        out.append(", ".join(literal(v) for v in vals))
    return out


def _impure(snippet: ast.Module) -> str | None:
    """Why the program may act outside the call (None: it looks pure)."""
    imported: set[str] = set()
    for node in ast.walk(snippet):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            for m in mods:
                if _blocked(m):
                    imported.update(a.asname or a.name.split(".")[0] for a in node.names)
                    if isinstance(node, ast.ImportFrom):
                        return f"imports from {m}"
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            return "global/nonlocal"
        elif isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await, ast.AsyncFunctionDef)):
            return "generator or async"
        elif isinstance(node, ast.Name) and node.id in IMPURE_NAMES:
            return f"uses {node.id}()"
    for node in ast.walk(snippet):
        if isinstance(node, ast.Name) and node.id in imported:
            return f"uses module {node.id}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in imported:
            if f"{node.value.id}.{node.attr}" not in ALLOWED_ATTRS:
                return f"uses {node.value.id}.{node.attr}"
    return None


def _without_docstrings(code: str) -> str:
    """The program as the model sees it: docstrings (whose doctests would give the answer
    away) and comments removed, laid out by ast.unparse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _plain_function(node: ast.stmt) -> TypeGuard[ast.FunctionDef]:
    return isinstance(node, ast.FunctionDef) and not node.decorator_list \
        and not node.name.startswith("__") and node.args.vararg is None \
        and node.args.kwarg is None


def harvest(root: Path | str | None = None, *, source: str = "stdlib", seed: int = 0,
            typed: int = 4, runs_per_function: int = 3, max_lines: int = 40,
            max_chars: int = 1600, limit: int | None = None,
            counts: Counter | None = None) -> list[Candidate]:
    """Candidates from every qualifying function below `root` (the stdlib by default)."""
    counts = counts if counts is not None else Counter()
    stdlib = root is None
    root = stdlib_root() if root is None else Path(root)
    if not root.exists():
        raise FileNotFoundError(f"no such source tree: {root}")
    files = read_tree(root, counts, stdlib) if root.is_dir() else \
        [SourceFile(root.stem, root, root.read_text(encoding="utf-8"),
                    ast.parse(root.read_text(encoding="utf-8")), False)]
    calls = literal_calls(files)
    out: list[Candidate] = []
    for sf in files:
        if sf.is_test or (stdlib and _blocked(sf.module)):
            continue
        for node in sf.tree.body:
            if not _plain_function(node):
                continue
            counts["functions seen"] += 1
            if (node.end_lineno or node.lineno) - node.lineno + 1 > 3 * max_lines:
                counts["skipped: program too long"] += 1
                continue
            code = _without_docstrings(focus_source(sf.text, node.name))
            if code.count("\n") + 1 > max_lines or len(code) > max_chars:
                counts["skipped: program too long"] += 1
                continue
            try:
                snippet = ast.parse(code)
            except SyntaxError:
                counts["skipped: program does not parse alone"] += 1
                continue
            why = _impure(snippet)
            if why:
                counts["skipped: may have effects"] += 1
                continue
            rng = random.Random(f"tracecot-harvest:{seed}:{sf.module}:{node.name}")
            found = doctest_calls(node) + calls.get((_tail(sf.module), node.name), [])
            counts["functions with doctest or literal calls"] += bool(found)
            args = list(dict.fromkeys(found + typed_args(node, rng, typed)))[:4 * typed + 8]
            if not args:
                counts["skipped: no inputs"] += 1
                continue
            out.append(Candidate(source, code, node.name, args, split_key=f"{source}:{sf.module}",
                                 origin=f"{sf.module}.{node.name}", want=runs_per_function))
            if limit and len(out) >= limit:
                return out
    return out
