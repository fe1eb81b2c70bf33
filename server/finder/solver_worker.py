"""The solvers' process: CrossHair or Hypothesis on the user's function, locked down first.

    python -m tracecot.server.finder.solver_worker < request.json > answer.json

Started by solvers.py, never imported by the server. The libraries are imported first (they
read their own files), then the process applies the tracer's sandbox layers to itself
(tracecot.tracer.running.guards: rlimits for memory and CPU seconds, seccomp: no processes,
sockets, signals to others, threads only for CrossHair's z3; Landlock: writes only under a
fresh temporary folder; the audit hook), and only then loads the user's code. Only JSON
crosses the boundary: the request on stdin, {"inputs": [argument sources]} on stdout.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

NICE = 10


def strategy(t: dict, st):
    """A Hypothesis strategy for a type descriptor {"kind", "elem", "key", "value"}."""
    k = t.get("kind")
    small = {"max_size": 8}
    if k == "int":
        return st.integers(-50, 50)
    if k == "float":
        return st.floats(-100, 100, allow_nan=False)
    if k == "bool":
        return st.booleans()
    if k == "none":
        return st.none()
    if k == "str":
        return st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), **small)
    el = strategy({"kind": t.get("elem") or "int"}, st)
    if k == "list":
        return st.lists(el, **small)
    if k == "tuple":
        return st.lists(el, **small).map(tuple)
    if k == "set":
        return st.sets(el, **small)
    if k == "dict":
        return st.dictionaries(strategy({"kind": t.get("key") or "str"}, st),
                               strategy({"kind": t.get("value") or "int"}, st), **small)
    return st.one_of(st.integers(-50, 50), st.text(max_size=8), st.lists(st.integers(),
                                                                          max_size=6))


_HINT = {"int": "int", "float": "float", "bool": "bool", "none": "None", "str": "str"}


def hint(t: dict) -> str:
    k = t.get("kind")
    if k in _HINT:
        return _HINT[k]
    el = hint({"kind": t.get("elem") or "int"})
    if k == "list":
        return f"list[{el}]"
    if k == "tuple":
        return f"tuple[{el}, ...]"
    if k == "set":
        return f"set[{el}]"
    if k == "dict":
        key = hint({"kind": t.get("key") or "str"})
        value = hint({"kind": t.get("value") or "int"})
        return f"dict[{key}, {value}]"
    return "int"


def _lockdown(budget: float, threads: bool = False) -> str:
    """The tracer's layers. CrossHair's solver (z3) starts native threads for its timeouts:
    its process gets the seccomp variant that allows threads (clone with CLONE_THREAD) and
    nothing else; processes, sockets and the rest stay refused as in every sandboxed run."""
    from tracecot.tracer.running import guards
    tmp = tempfile.mkdtemp(prefix="tracecot-solver-")
    os.chdir(tmp)
    guards.apply_rlimits(1024, budget + 1, threads=threads)
    guards.apply_landlock(tmp)
    guards.apply_seccomp(threads=threads)
    guards.install_audit_hook(tmp, threads=threads)
    return tmp


def _load(source: str) -> dict:
    """The user's module from a file in the private folder (CrossHair reads the source)."""
    import importlib.util
    path = os.path.join(os.getcwd(), "__tracecot_user__.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location("__tracecot_user__", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["__tracecot_user__"] = mod
    spec.loader.exec_module(mod)
    return mod.__dict__


class _OutOfTime(BaseException):
    """Raised from the predicate at the deadline: ends Hypothesis's search at once."""


def run_hypothesis(req: dict) -> list[str]:
    from hypothesis import HealthCheck, Phase, find, settings, strategies as st
    from hypothesis.errors import NoSuchExample
    import io
    _lockdown(req["budget"])
    ns = _load(req["source"])
    fn, target = ns[req["function"]], eval(req["target"], ns)
    strat = st.tuples(*[strategy(t, st) for t in req["types"]])
    real = sys.stdout

    import time
    stop = time.monotonic() + req["budget"]

    def gives(args) -> bool:
        if time.monotonic() > stop:
            raise _OutOfTime
        sys.stdout = io.StringIO()
        try:
            return bool(fn(*args) == target)
        except Exception:  # noqa: BLE001 - the user's function or __eq__ may raise anything
            return False
        finally:
            sys.stdout = real
    try:
        found = find(strat, gives, settings=settings(
            max_examples=req.get("max_examples", 2000), database=None, deadline=None,
            phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck)))
    except (NoSuchExample, _OutOfTime):
        return []
    return [", ".join(repr(a) for a in found)]


def run_crosshair(req: dict) -> list[str]:
    from crosshair.core_and_libs import analyze_function
    from crosshair.options import AnalysisKind, AnalysisOptionSet
    _lockdown(req["budget"], threads=True)
    n = len(req["types"])
    names = [f"a{i}" for i in range(n)]
    sig = ", ".join(f"{a}: {hint(t)}" for a, t in zip(names, req["types"], strict=True))
    probe = (f"\n\ndef __tracecot_probe__({sig}) -> None:\n"
             f"    assert not ({req['function']}({', '.join(names)}) == ({req['target']}))\n")
    ns = _load(req["source"] + probe)
    opts = AnalysisOptionSet(analysis_kind=[AnalysisKind.asserts],
                             per_condition_timeout=req["budget"], per_path_timeout=1.0)
    out: list[str] = []
    for checkable in analyze_function(ns["__tracecot_probe__"], opts):
        for msg in checkable.analyze():
            m = re.search(r"when calling __tracecot_probe__\((.*)\)", msg.message, re.S)
            if m:
                got = _positional(m.group(1), names)
                if got is not None:
                    return [got]        # the first counterexample is the answer
    return out


def _positional(text: str, names: list[str]) -> str | None:
    """CrossHair writes `a0 = 1, a1 = 'x'` (or positional): as argument source."""
    import ast
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call):     # e.g. `1) + (2`
        return None
    vals = {k.arg: ast.unparse(k.value) for k in call.keywords}
    pos = [ast.unparse(a) for a in call.args]
    pos += [vals[nm] for nm in names[len(pos):] if nm in vals]
    return ", ".join(pos) if len(pos) == len(names) else None


def main() -> int:
    solver = sys.argv[1] if len(sys.argv) > 1 else None
    # Below the sandboxed batch runs in CPU priority: a solver proposes few answers, the
    # batches many candidates; on a busy machine it gets the CPU they leave (import included).
    os.nice(NICE)
    from tracecot.tracer.running import guards  # noqa: F401  (imported while still allowed)
    if solver == "crosshair":      # imported before the request comes (a warm worker)
        import crosshair.core_and_libs  # noqa: F401 - loaded now, used by run_crosshair
    elif solver == "hypothesis":
        import hypothesis.strategies  # noqa: F401 - loaded now, used by run_hypothesis
    req = json.loads(sys.stdin.read() or "{}")
    if not req:
        os._exit(0)
    real_out = os.dup(1)
    os.dup2(2, 1)          # user prints must not mix with our answer
    err: str | None
    try:
        inputs = (run_crosshair if req["solver"] == "crosshair" else run_hypothesis)(req)
    except BaseException as e:  # noqa: BLE001 - say why, never hang
        inputs, err = [], f"{type(e).__name__}: {e}"[:300]
    else:
        err = None
    os.write(real_out, json.dumps({"inputs": inputs, "error": err}).encode())
    os._exit(0)


if __name__ == "__main__":
    main()
