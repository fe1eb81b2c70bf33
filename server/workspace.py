"""Files of the workspace: roots, inputs found in test files, the debug launcher.

Reads and writes only under the workspace (the `.tracecot/` folder); executes nothing.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from .calls import examples_in_test_file, is_test_file
from .document import Example

log = logging.getLogger(__name__)

_SKIP_DIRS = {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox",
              ".mypy_cache", ".pytest_cache", "build", "dist", ".tracecot", "site-packages"}
MAX_TEST_FILES = 300
MAX_TEST_BYTES = 400_000


def root_for(path: str | None, roots: list[str]) -> str | None:
    """The workspace folder holding `path` (deepest), else the first one, else its folder."""
    if path:
        p = os.path.abspath(path)
        inside = [r for r in roots if p == r or p.startswith(r.rstrip(os.sep) + os.sep)]
        if inside:
            return max(inside, key=len)
    if roots:
        return roots[0]
    return os.path.dirname(os.path.abspath(path)) if path else None


class TestIndex:
    """Literal calls in a workspace's test files, re-read when a file changed (mtime)."""

    def __init__(self, ttl: float = 5.0):
        self.ttl = ttl
        self._files: dict[str, list[str]] = {}     # root -> test files
        self._listed: dict[str, float] = {}
        self._parsed: dict[tuple[str, str], tuple[float, list[Example]]] = {}

    def invalidate(self) -> None:
        self._listed.clear()

    def files(self, root: str) -> list[str]:
        now = time.monotonic()
        if root in self._files and now - self._listed.get(root, 0) < self.ttl:
            return self._files[root]
        found: list[str] = []
        try:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS
                                     and not d.startswith("."))
                for name in sorted(filenames):
                    full = os.path.join(dirpath, name)
                    if is_test_file(os.path.relpath(full, root)):
                        found.append(full)
                if len(found) >= MAX_TEST_FILES:
                    break
        except OSError as e:
            log.warning("cannot list %s: %s", root, e)
        self._files[root], self._listed[root] = found[:MAX_TEST_FILES], now
        return self._files[root]

    def examples(self, root: str | None, module_path: str | None,
                 names: dict[str, str] | set[str]) -> list[Example]:
        if not root or not module_path or not names:
            return []
        stem = Path(module_path).stem
        out: list[Example] = []
        for f in self.files(root):
            if os.path.abspath(f) == os.path.abspath(module_path):
                continue
            try:
                st = os.stat(f)
                if st.st_size > MAX_TEST_BYTES:
                    continue
                key = (f, stem + "|" + ",".join(sorted(names)))
                cached = self._parsed.get(key)
                if cached is None or cached[0] != st.st_mtime:
                    text = Path(f).read_text(encoding="utf-8", errors="replace")
                    rel = os.path.relpath(f, root)
                    cached = (st.st_mtime, examples_in_test_file(text, stem, names, rel))
                    self._parsed[key] = cached
                out.extend(cached[1])
            except OSError:
                continue
        return out


LAUNCHER = '''"""Written by tracecot: runs one call of a function under the debugger.

    python debug_launcher.py FILE FUNCTION "ARGS"

The module is loaded as written, except its top-level asserts and bare calls (as tracecot
runs it), then FUNCTION(ARGS) is called. Set breakpoints in FILE as usual; when debugpy is
attached the debugger also stops on the line that makes the call: step into it (F11).
"""
import ast
import functools
import inspect
import os
import sys


def main(path, function, args_src):
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    tree = ast.parse(source, path)
    tree.body = [n for n in tree.body if not isinstance(n, ast.Assert) and not (
        isinstance(n, ast.Expr) and not (isinstance(n.value, ast.Constant)
                                         and isinstance(n.value.value, str)))]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    namespace = {"__name__": "__tracecot_debug__", "__file__": path}
    exec(compile(tree, path, "exec"), namespace)
    # Found as the sandbox finds it: static and class methods are plain functions, a property
    # is its getter, and a method's instance (or class) is the first argument.
    target = namespace
    for part in function.split("."):
        target = target[part] if isinstance(target, dict) else inspect.getattr_static(target, part)
        if isinstance(target, (staticmethod, classmethod)):
            target = target.__func__
        elif isinstance(target, property):
            target = target.fget
        elif isinstance(target, functools.cached_property):
            target = target.func
    args, kwargs = eval("(lambda *a, **k: (a, k))(" + args_src + ")", namespace)
    try:
        import debugpy
        if debugpy.is_client_connected():
            debugpy.breakpoint()
    except ImportError:
        pass
    result = target(*args, **kwargs)  # step into this call (F11)
    print(f"{function}({args_src}) returned {result!r}")
    return result


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
'''


def write_launcher(root: str) -> str:
    """`<root>/.tracecot/debug_launcher.py`, written when missing or outdated."""
    folder = Path(root) / ".tracecot"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "debug_launcher.py"
    try:
        if target.read_text(encoding="utf-8") == LAUNCHER:
            return str(target)
    except OSError:
        pass
    tmp = folder / f".debug_launcher.{os.getpid()}.tmp"
    tmp.write_text(LAUNCHER, encoding="utf-8")
    os.replace(tmp, target)
    return str(target)
